# lowbit_add_tests(NAME DIR dir [SLOW] [EXHAUSTIVE] [SOURCES extra...] [LIBS extra...])
# One GoogleTest binary per product folder, built from DIR/*.cpp (the tests sit next to the code they
# test), registered as ctest NAME (quick: every test but *Slow* and *Exhaustive*), NAME_slow (the
# *Slow* tests, with SLOW) and NAME_exhaustive (the *Exhaustive* tests, with EXHAUSTIVE; native only).
# RapidCheck runs with a fixed seed: CI runs are reproducible.
find_package(GTest REQUIRED)
find_package(rapidcheck REQUIRED)

set(lowbit_rc_env "RC_PARAMS=seed=20261124 max_success=200")
# Labels: quick, slow, exhaustive; plus qemu (arm64 under the emulator) or sanitizer (ASan+UBSan).
set(lowbit_test_label "")
if(CMAKE_CROSSCOMPILING)
  set(lowbit_test_label qemu)
endif()
if(LOWBIT_SANITIZE)
  set(lowbit_test_label sanitizer)
endif()

function(lowbit_add_tests name)
  cmake_parse_arguments(T "SLOW;EXHAUSTIVE" "DIR" "SOURCES;LIBS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${T_DIR}/*.cpp)
  set(target ${name}_tests)
  add_executable(${target} ${sources} ${T_SOURCES})
  target_link_libraries(${target} PRIVATE lowbit_conformance lowbit_training Boost::headers rapidcheck rapidcheck_gtest
    GTest::gtest_main Threads::Threads ${T_LIBS})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/conformance)  # testing/
  if(CMAKE_CROSSCOMPILING)
    # The tests run under an emulator (qemu-user), where fork() hangs: see conformance/plugins/tests.
    target_compile_definitions(${target} PRIVATE LOWBIT_TESTS_EMULATED=1)
  endif()
  set(quick_filter "-*Exhaustive*:*Slow*")
  add_test(NAME ${name} COMMAND ${target} --gtest_filter=${quick_filter})
  set_tests_properties(${name} PROPERTIES LABELS "quick;${lowbit_test_label}" ENVIRONMENT "${lowbit_rc_env}")
  if(T_SLOW)
    add_test(NAME ${name}_slow COMMAND ${target} --gtest_filter=*Slow*)
    set_tests_properties(${name}_slow PROPERTIES LABELS "slow;${lowbit_test_label}" ENVIRONMENT "${lowbit_rc_env}")
  endif()
  if(T_EXHAUSTIVE)
    add_test(NAME ${name}_exhaustive COMMAND ${target} --gtest_filter=*Exhaustive*)
    set_tests_properties(${name}_exhaustive PROPERTIES LABELS exhaustive ENVIRONMENT "${lowbit_rc_env}")
  endif()
endfunction()
