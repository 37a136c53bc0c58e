#include "lowbit/training/validation.hpp"

#include <algorithm>
#include <cmath>

#include "validation_support.hpp"

namespace lowbit::training {

qeft::Packed qeft_test_layer(std::size_t oc, std::size_t ic, std::span<const std::int32_t> weak, std::uint64_t seed) {
  return detail::qeft_layer(gaussian(oc, ic, 1.0f / std::sqrt(static_cast<float>(ic)), seed), weak);
}

std::string_view mutant_name(Mutant m) {
  switch (m) {
    case Mutant::none: return "none";
    case Mutant::transposed_gradient: return "transposed-gradient";
    case Mutant::dropped_lora_scale: return "dropped-lora-scale";
    case Mutant::nan_gradient: return "nan-gradient";
    case Mutant::skipped_gradient_quantization: return "skipped-gradient-quantization";
    case Mutant::off_by_one_group: return "off-by-one-group";
    case Mutant::fp32_accumulation: return "fp32-accumulation";
    case Mutant::unquantized: return "unquantized";
    case Mutant::wrong_weak_permutation: return "wrong-weak-permutation";
    case Mutant::wrong_weak_columns: return "wrong-weak-columns";
    case Mutant::sr_fixed_seed: return "sr-fixed-seed";
    case Mutant::sr_truncation: return "sr-truncation";
  }
  return "unknown";
}

const std::vector<Validation>& validations() {
  using M = Mutant;
  static const std::vector<Validation> list{
      {"finite-differences", validate_finite_differences,
       {M::transposed_gradient, M::dropped_lora_scale, M::nan_gradient, M::wrong_weak_columns}},
      {"quantized-backward", validate_quantized_backward,
       {M::fp32_accumulation, M::skipped_gradient_quantization, M::off_by_one_group, M::nan_gradient}},
      {"quantization-error", validate_quantization_error, {M::unquantized, M::dropped_lora_scale, M::nan_gradient}},
      {"weak-gradient", validate_weak_column_gradient, {M::wrong_weak_columns, M::transposed_gradient, M::nan_gradient}},
      {"ogr-invariance", validate_ogr_invariance, {M::wrong_weak_permutation}},
      {"sr-unbiased", validate_stochastic_rounding, {M::sr_fixed_seed, M::sr_truncation}},
  };
  return list;
}

std::vector<ValidationResult> validate_all() {
  std::vector<ValidationResult> all;
  for (const Validation& v : validations())
    for (ValidationResult& r : v.run(Mutant::none)) all.push_back(std::move(r));
  return all;
}

std::vector<Control> run_controls() {
  std::vector<Control> out;
  for (const Validation& v : validations())
    for (Mutant m : v.mutants) {
      const std::vector<ValidationResult> r = v.run(m);
      Control c{v.name, m};
      c.results = r.size();
      for (const ValidationResult& x : r) c.failed += !x.passed;
      c.caught = c.failed > 0;
      out.push_back(c);
    }
  return out;
}

bool all_hold(std::span<const ValidationResult> results, std::span<const Control> controls) {
  return std::all_of(results.begin(), results.end(), [](const ValidationResult& r) { return r.passed; }) &&
         std::all_of(controls.begin(), controls.end(), [](const Control& c) { return c.caught; });
}

}  // namespace lowbit::training
