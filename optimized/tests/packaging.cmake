# Packaging tests (included from optimized/CMakeLists.txt; cmake/LowbitTests.cmake sets lowbit_test_label):
#   c_api, c_api_shared: lowbit/c_api.h from C11 (c_api_test.c), linked with the static and the shared
#                        library; quick, and under qemu in the arm64 build
#   c_headers, c_headers_cxx: c_api.h and vendor.h in one translation unit (c_headers_test.c), as C11 and
#                        as C++20 with -Werror
#   consumer:            installs lowbit into a temporary prefix and builds external projects against it
#                        (find_package in C++ and in C, pkg-config, add_subdirectory); slow, native
#                        non-sanitizer builds only
set(lowbit_c_tests c_api:tests/c_api_test.c c_headers:tests/c_headers_test.c)
set(lowbit_c_test_names "")
foreach(test ${lowbit_c_tests})
  string(REPLACE ":" ";" parts ${test})
  list(GET parts 0 name)
  list(GET parts 1 src)
  set(libs lowbit::lowbit)
  if(name STREQUAL "c_api" AND TARGET lowbit_shared)
    list(APPEND libs lowbit::lowbit_shared)
  endif()
  foreach(lib ${libs})
    set(test_name ${name})
    if(lib STREQUAL "lowbit::lowbit_shared")
      set(test_name ${name}_shared)
    endif()
    add_executable(lowbit_${test_name}_test ${src})
    # Pure ISO C11: the headers must need neither a C++ compiler nor GNU extensions.
    set_target_properties(lowbit_${test_name}_test PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
    target_compile_options(lowbit_${test_name}_test PRIVATE -pedantic-errors)
    target_link_libraries(lowbit_${test_name}_test PRIVATE ${lib} m)
    add_test(NAME ${test_name} COMMAND lowbit_${test_name}_test)
    list(APPEND lowbit_c_test_names ${test_name})
  endforeach()
endforeach()
# The same translation unit as C++.
file(CONFIGURE OUTPUT c_headers_test.cpp CONTENT "#include \"${CMAKE_CURRENT_SOURCE_DIR}/tests/c_headers_test.c\"\n")
add_executable(lowbit_c_headers_cxx_test ${CMAKE_CURRENT_BINARY_DIR}/c_headers_test.cpp)
target_compile_options(lowbit_c_headers_cxx_test PRIVATE -Wall -Wextra -Werror)
target_link_libraries(lowbit_c_headers_cxx_test PRIVATE lowbit::lowbit)
add_test(NAME c_headers_cxx COMMAND lowbit_c_headers_cxx_test)
set_tests_properties(${lowbit_c_test_names} c_headers_cxx PROPERTIES LABELS "quick;${lowbit_test_label}")

if(NOT CMAKE_CROSSCOMPILING AND NOT LOWBIT_SANITIZE)
  add_test(NAME consumer COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/consumer/run.sh ${PROJECT_SOURCE_DIR}
    ${CMAKE_COMMAND} ${CMAKE_GENERATOR} ${CMAKE_C_COMPILER} ${CMAKE_CXX_COMPILER})
  # It installs this build tree (built already) rather than building lowbit a second time; the
  # add_subdirectory consumer still builds lowbit from source, without tests.
  set_tests_properties(consumer PROPERTIES LABELS slow TIMEOUT 1800 ENVIRONMENT "LOWBIT_CONSUMER_BUILD_DIR=${PROJECT_BINARY_DIR}")
endif()
