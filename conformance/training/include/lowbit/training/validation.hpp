// The gradient validations of lowbit's training checks (used by the tests and `lowbit train-check`).
// Each returns one result per (check, configuration, tensor); a result passes when its metric is
// within its bound, and `cases` says how many values it compared. Every bound is derived in
// src/ next to its check. All inputs are fixed (seeded) so the results are reproducible.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lowbit/reference/weak.hpp"

namespace lowbit::training {

struct ValidationResult {
  std::string name;      // the check, e.g. "finite-differences"
  std::string config;    // what it ran on, e.g. "lora dA" or "gsq-4-8-8/8-8-8 sr dx"
  double max_error = 0;  // the check's metric (its function says which)
  double bound = 0;      // passes when max_error <= bound
  bool passed = false;
  std::size_t cases = 0;  // values compared
  std::string detail;     // what the metric is, and any secondary figure (cosine, counts)
};

// A negative control: a deliberately broken variant of what a validation checks (the layer, its
// quantization or its wiring), run through the same check, which must fail it. Each validation
// lists the mutants it must catch (validations()).
enum class Mutant : std::uint8_t {
  none,
  transposed_gradient,            // a gradient computed transposed and read in the right shape
  dropped_lora_scale,             // the layer forgets s = alpha / r
  nan_gradient,                   // one gradient entry is NaN
  skipped_gradient_quantization,  // G enters the backward matmuls unquantized
  off_by_one_group,               // GSE groups one element off
  fp32_accumulation,              // the quantized products summed in fp32 where the sum is exact
  unquantized,                    // every operand left in fp32: a configuration that quantizes nothing
  wrong_weak_permutation,         // two weak columns swapped in the reordering
  wrong_weak_columns,             // the weak-column gradient taken from other columns
  sr_fixed_seed,                  // stochastic rounding that draws the same random words every seed
  sr_truncation,                  // rounding toward zero where stochastic rounding is asked for
};
std::string_view mutant_name(Mutant m);

// 1. Unquantized fp32 analytic gradients (LoraLinear "f32", WeakColumnLinear) against central
//    differences in cpp_bin_float_50 of the loss written from the model (s = alpha / r from the
//    model, not the layer). Metric: max |analytic - fd| / (the gradient formula on |.|), bound
//    gamma_n = n u / (1 - n u), u = 2^-24, n the fp32 roundings on the longest chain.
std::vector<ValidationResult> validate_finite_differences(Mutant m = Mutant::none);
// 2. The quantized forward and backward of every GSE and FP8 config, rne and sr, against the data
//    flow of docs/training.md section 2.1 written from the page: the reference codecs and exact dot
//    products rounded once to fp32. Metric: max ulp distance; bound 0.
std::vector<ValidationResult> validate_quantized_backward(Mutant m = Mutant::none);
// 3. Every gradient of every other config of lora_config_names() (rne, and sr where gradients are
//    quantized) against the f32 config. Metric: max over elements of |quantized - f32| over a rigorous
//    elementwise bound derived from the formats and propagated through the data flow; bound 1. The
//    converse, where the gradient's path quantizes: the RMS difference the grid steps predict over
//    the measured one; bound 2.
std::vector<ValidationResult> validate_quantization_error(Mutant m = Mutant::none);
// 4. WeakColumnLinear's dx and dO (T = 24, OC = 16, IC = 64, k = 6) against the exact gradients of
//    its model y = [x | x_w] [W4 | O]^T (exact_matmul_nt). Metric: max |fp32 - exact| / (the
//    gradient formula on |.|); bound gamma_{n+2}, n the layer's roundings.
std::vector<ValidationResult> validate_weak_column_gradient(Mutant m = Mutant::none);
// 5. LoraLinear "f32" in the original column order and reordered by ref::weak_permutation (weak
//    columns last), and WeakColumnLinear (the reordered layout) against a dense fp32 layer in the
//    original order, on data where every fp32 operation is exact: outputs and gradients (mapped back
//    through the permutation). Metric: max ulp distance; bound 0.
std::vector<ValidationResult> validate_ogr_invariance(Mutant m = Mutant::none);
// 6. GSE stochastic rounding (8, 6, 5 bits) of a gradient over S seeds: the RMS error of the mean
//    (in rounding steps) against its expected value sqrt(mean f (1 - f) / S) at S = 64 and 1024 (the
//    1/sqrt(S) rate), and at S = 1024 the largest error of the mean against a Hoeffding bound (far
//    below one step) and the mean signed error against 5 standard deviations.
std::vector<ValidationResult> validate_stochastic_rounding(Mutant m = Mutant::none);

// The six, in order, each with the mutants it must catch.
struct Validation {
  std::string_view name;  // the results' name, e.g. "finite-differences"
  std::vector<ValidationResult> (*run)(Mutant);
  std::vector<Mutant> mutants;
};
const std::vector<Validation>& validations();

// All six, in order (each run with Mutant::none).
std::vector<ValidationResult> validate_all();

// Every validation run with each of its mutants: caught when at least one result fails.
struct Control {
  std::string_view validation;
  Mutant mutant;
  bool caught = false;
  std::size_t failed = 0, results = 0;  // results that failed, of all the mutant's results
};
std::vector<Control> run_controls();

// The verdict of `lowbit train-check`: every validation passes and every mutant is caught.
bool all_hold(std::span<const ValidationResult> results, std::span<const Control> controls);

// A QEFT layer (4-bit, groups of 64, minmax) of N(0, 1/ic) weights with the given weak columns
// (ascending, original indices); oc % 8 == 0, ic % 64 == 0.
qeft::Packed qeft_test_layer(std::size_t oc, std::size_t ic, std::span<const std::int32_t> weak, std::uint64_t seed);

}  // namespace lowbit::training
