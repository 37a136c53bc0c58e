// The code of the lowbit::Error that f() throws (a test failure if it throws none).
#pragma once
#include <gtest/gtest.h>

#include "lowbit/error.hpp"

template <class F> lowbit::Errc error_code(F f) {
  try {
    f();
  } catch (const lowbit::Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "no error";
  return lowbit::Errc::internal;
}
