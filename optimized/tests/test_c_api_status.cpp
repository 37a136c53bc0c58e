// The C API's exception -> status mapping (optimized/src/c_api_status.hpp) for every status, including
// those no C call can be made to return on purpose (out of memory, internal, i/o, unsupported).
#include <gtest/gtest.h>

#include <new>
#include <stdexcept>
#include <string>

#include "../src/c_api_status.hpp"
#include "lowbit/c_api.h"
#include "lowbit/error.hpp"

namespace {

template <class E> lowbit_status status_of(const E& e) {
  return lowbit::capi::guarded("lowbit_test", [&] { throw e; });
}

TEST(CApiStatus, EveryErrcIsItsStatus) {
  for (int code = LOWBIT_E_UNSUPPORTED; code <= LOWBIT_E_IO; ++code) {
    const auto errc = static_cast<lowbit::Errc>(code);
    EXPECT_EQ(status_of(lowbit::Error("what", errc)), code);
    EXPECT_STREQ(lowbit_last_error(), "lowbit_test: what");
    EXPECT_EQ(std::string(lowbit_status_name(code)), lowbit::name(errc));
  }
}

TEST(CApiStatus, StandardExceptions) {
  EXPECT_EQ(status_of(std::bad_alloc()), LOWBIT_E_NOMEM);
  EXPECT_STREQ(lowbit_last_error(), "lowbit_test: out of memory");
  EXPECT_EQ(status_of(std::invalid_argument("bad")), LOWBIT_E_INVALID);
  EXPECT_STREQ(lowbit_last_error(), "lowbit_test: bad");
  EXPECT_EQ(status_of(std::length_error("long")), LOWBIT_E_INVALID);
  EXPECT_EQ(status_of(std::out_of_range("far")), LOWBIT_E_INVALID);
  EXPECT_EQ(status_of(std::runtime_error("bug")), LOWBIT_E_INTERNAL);
  EXPECT_STREQ(lowbit_last_error(), "lowbit_test: bug");
  EXPECT_EQ(status_of(42), LOWBIT_E_INTERNAL);
  EXPECT_STREQ(lowbit_last_error(), "lowbit_test: unknown exception");
}

TEST(CApiStatus, SuccessClearsTheMessageAndLongMessagesAreCut) {
  EXPECT_EQ(status_of(lowbit::Error(std::string(2000, 'x'))), LOWBIT_E_INVALID);
  const std::string cut = lowbit_last_error();
  EXPECT_GT(cut.size(), 400u);
  EXPECT_LT(cut.size(), 2000u);
  EXPECT_EQ(cut.substr(0, 13), "lowbit_test: ");
  EXPECT_EQ(lowbit::capi::guarded("lowbit_test", [] {}), LOWBIT_OK);
  EXPECT_STREQ(lowbit_last_error(), "");
}

}  // namespace
