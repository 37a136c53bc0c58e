/* CHECK for the C tests: prints a failed condition and counts it; c_check_exit() is main's return value. */
#ifndef LOWBIT_TESTS_C_CHECK_H
#define LOWBIT_TESTS_C_CHECK_H

#include <stdio.h>

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* 0 when every check passed (then `passed` is printed), else 1. */
static int c_check_exit(const char* test, const char* passed) {
  if (failures) {
    fprintf(stderr, "%s: %d failure(s)\n", test, failures);
    return 1;
  }
  printf("%s: %s\n", test, passed);
  return 0;
}

#endif /* LOWBIT_TESTS_C_CHECK_H */
