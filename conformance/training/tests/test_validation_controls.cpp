// The six gradient validations: each passes and compares real values, each catches every mutant of
// its list (the negative controls), and `lowbit train-check`'s verdict needs both.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "lowbit/training/validation.hpp"

namespace lowbit::training {
namespace {

void expect_all_pass(const std::vector<ValidationResult>& results, std::size_t expected_count) {
  EXPECT_EQ(results.size(), expected_count);
  for (const ValidationResult& r : results) {
    EXPECT_TRUE(r.passed) << r.name << " " << r.config << ": " << r.max_error << " > " << r.bound << " (" << r.detail << ")";
    EXPECT_GT(r.cases, 0u) << r.name << " " << r.config;
  }
}

TEST(TrainValidation, FiniteDifferences) { expect_all_pass(validate_finite_differences(), 5); }
TEST(TrainValidation, QuantizedBackwardIsExact) { expect_all_pass(validate_quantized_backward(), 8); }
TEST(TrainValidation, QuantizationError) { expect_all_pass(validate_quantization_error(), 52); }
TEST(TrainValidation, WeakColumnGradient) { expect_all_pass(validate_weak_column_gradient(), 2); }
TEST(TrainValidation, OgrInvariance) { expect_all_pass(validate_ogr_invariance(), 2); }
TEST(TrainValidation, StochasticRounding) { expect_all_pass(validate_stochastic_rounding(), 12); }

// ---- negative controls ------------------------------------------------------------------------------

TEST(TrainControls, EveryValidationListsItsMutants) {
  const std::vector<ValidationResult> all = validate_all();
  std::set<std::string> names;
  for (const ValidationResult& r : all) names.insert(r.name);
  ASSERT_EQ(validations().size(), 6u);
  for (const Validation& v : validations()) {
    EXPECT_TRUE(names.count(std::string(v.name))) << v.name << " names no result";
    EXPECT_FALSE(v.mutants.empty()) << v.name;
    for (Mutant m : v.mutants) {
      EXPECT_NE(m, Mutant::none) << v.name;
      EXPECT_NE(mutant_name(m), "unknown");
    }
  }
}

TEST(TrainControls, EveryMutantIsCaught) {
  const std::vector<Control> controls = run_controls();
  std::size_t expected = 0;
  for (const Validation& v : validations()) expected += v.mutants.size();
  ASSERT_EQ(controls.size(), expected);
  for (const Control& c : controls) {
    EXPECT_TRUE(c.caught) << c.validation << " missed " << mutant_name(c.mutant);
    EXPECT_GT(c.failed, 0u);
    EXPECT_LE(c.failed, c.results);
  }
}

// The configurations a mutant makes fail, as "config" strings.
std::set<std::string> failing(const std::vector<ValidationResult>& results) {
  std::set<std::string> out;
  for (const ValidationResult& r : results)
    if (!r.passed) out.insert(r.config);
  return out;
}

using Configs = std::set<std::string>;

TEST(TrainControls, FiniteDifferencesFailWhereTheMutantBreaks) {
  EXPECT_EQ(failing(validate_finite_differences(Mutant::transposed_gradient)), (Configs{"lora dA", "weak dO"}));
  EXPECT_EQ(failing(validate_finite_differences(Mutant::dropped_lora_scale)), (Configs{"lora dx", "lora dA", "lora dB"}));
  EXPECT_EQ(failing(validate_finite_differences(Mutant::nan_gradient)), (Configs{"lora dB", "weak dx"}));
  EXPECT_EQ(failing(validate_finite_differences(Mutant::wrong_weak_columns)), (Configs{"weak dO"}));
  // A NaN gradient leaves a NaN metric (std::max would have dropped it).
  for (const ValidationResult& r : validate_finite_differences(Mutant::nan_gradient))
    EXPECT_TRUE(r.passed || std::isnan(r.max_error)) << r.config;
}

TEST(TrainControls, WeakGradientFailsWhereTheMutantBreaks) {
  EXPECT_EQ(failing(validate_weak_column_gradient(Mutant::wrong_weak_columns)), (Configs{"qeft dO"}));
  EXPECT_EQ(failing(validate_weak_column_gradient(Mutant::transposed_gradient)), (Configs{"qeft dO"}));
  EXPECT_EQ(failing(validate_weak_column_gradient(Mutant::nan_gradient)), (Configs{"qeft dx"}));
}

TEST(TrainControls, OgrInvarianceFailsOnAWrongPermutation) {
  // Both halves: a swapped pair of inputs pairs different terms, which exact arithmetic shows.
  EXPECT_EQ(failing(validate_ogr_invariance(Mutant::wrong_weak_permutation)), (Configs{"lora", "qeft weak-column"}));
}

TEST(TrainControls, StochasticRoundingFailsWhenBiasedOrNotRandom) {
  const Configs truncation = failing(validate_stochastic_rounding(Mutant::sr_truncation));
  const Configs fixed = failing(validate_stochastic_rounding(Mutant::sr_fixed_seed));
  for (int bits : {8, 6, 5}) {
    const std::string gse = "gse" + std::to_string(bits);
    EXPECT_TRUE(truncation.count(gse + " S=1024 bias")) << gse;  // rtz is biased toward zero
    EXPECT_TRUE(fixed.count(gse + " S=1024 rms")) << gse;        // one seed: the error does not shrink
  }
}

// The exit status of `lowbit train-check` is all_hold's: 0 when it holds, else 1. The checks cannot
// be broken from the command line, so the failing verdicts are shown here.
TEST(TrainControls, VerdictNeedsEveryResultToPassAndEveryControlToBeCaught) {
  std::vector<ValidationResult> results(3);
  for (ValidationResult& r : results) r.passed = true;
  std::vector<Control> controls(2);
  for (Control& c : controls) c.caught = true;
  EXPECT_TRUE(all_hold(results, controls));
  controls.back().caught = false;  // a mutant the checks let through
  EXPECT_FALSE(all_hold(results, controls));
  controls.back().caught = true;
  results.front().passed = false;  // a validation that fails
  EXPECT_FALSE(all_hold(results, controls));
}

}  // namespace
}  // namespace lowbit::training
