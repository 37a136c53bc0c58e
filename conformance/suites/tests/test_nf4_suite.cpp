// The NF4 suite (the code path of `lowbit conform`) against every implementation of the table.
#include <gtest/gtest.h>

#include "lowbit/conformance/nf4_suite.hpp"
#include "lowbit/kernels.hpp"

namespace {

using namespace lowbit;
using namespace lowbit::conformance;

TEST(Nf4Conformance, EveryImplementationAgainstTheGoldenDataAndTheReference) {
  std::size_t impls = 0;
  for (const nf4::Impl& impl : kernels::list<nf4::Impl>()) {
    if (!kernels::available(impl)) continue;
    const std::vector<Check> checks = run_nf4_suite(impl, GoldenDir::from_env(), {});
    ASSERT_FALSE(checks.empty());
    for (const Check& c : checks)
      EXPECT_TRUE(c.passed()) << c.impl << " " << c.format << " " << c.profile << " " << c.name << ": " << c.errors
                              << " errors" << (c.first_errors.empty() ? "" : ", first: " + c.first_errors.front());
    ++impls;
  }
  EXPECT_GE(impls, 1u);
}

}  // namespace
