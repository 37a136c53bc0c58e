# Packaging tests (included from optimized/CMakeLists.txt; cmake/LowbitTests.cmake sets lowbit_test_label):
#   c_api, c_api_shared: lowbit/c_api.h from C11 (c_api_test.c), linked with the static and the shared
#                        library; quick, and under qemu in the arm64 build
#   consumer:            installs lowbit into a temporary prefix and builds external projects against it
#                        (find_package, pkg-config, add_subdirectory); slow, native non-sanitizer builds only
add_executable(lowbit_c_api_test ${CMAKE_CURRENT_SOURCE_DIR}/tests/c_api_test.c)
set(lowbit_c_api_tests lowbit_c_api_test)
target_link_libraries(lowbit_c_api_test PRIVATE lowbit::lowbit)
add_test(NAME c_api COMMAND lowbit_c_api_test)
if(TARGET lowbit_shared)
  add_executable(lowbit_c_api_test_shared ${CMAKE_CURRENT_SOURCE_DIR}/tests/c_api_test.c)
  list(APPEND lowbit_c_api_tests lowbit_c_api_test_shared)
  target_link_libraries(lowbit_c_api_test_shared PRIVATE lowbit::lowbit_shared)
  add_test(NAME c_api_shared COMMAND lowbit_c_api_test_shared)
endif()
foreach(t ${lowbit_c_api_tests})
  # Pure ISO C11: the header must not need a C++ compiler nor GNU extensions.
  set_target_properties(${t} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  target_compile_options(${t} PRIVATE -pedantic-errors)
  target_link_libraries(${t} PRIVATE m)
endforeach()
list(TRANSFORM lowbit_c_api_tests REPLACE "^lowbit_c_api_test" "c_api" OUTPUT_VARIABLE lowbit_c_api_test_names)
set_tests_properties(${lowbit_c_api_test_names} PROPERTIES LABELS "quick;${lowbit_test_label}")

if(NOT CMAKE_CROSSCOMPILING AND NOT LOWBIT_SANITIZE)
  add_test(NAME consumer COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/consumer/run.sh ${PROJECT_SOURCE_DIR}
    ${CMAKE_COMMAND} ${CMAKE_GENERATOR} ${CMAKE_C_COMPILER} ${CMAKE_CXX_COMPILER})
  set_tests_properties(consumer PROPERTIES LABELS slow TIMEOUT 1800)
endif()
