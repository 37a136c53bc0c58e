// 2. The quantized backward is exact: every quantized matmul against the exact oracle.
#include <cmath>

#include "validation_support.hpp"

namespace lowbit::training {

using namespace detail;

std::vector<ValidationResult> validate_quantized_backward(Mutant /*TODO mutants*/) {
  // Three groups of 32 along T, IC and OC, the last one short, r below one group. Each block of 32
  // rows and each block of 32 columns is scaled by its own 2^round(N(0, 100)): with Gaussian data
  // alone the group sums of a dot product share exponents and fit in 24 bits together, so fp32
  // accumulation would be exact too; here it differs in 5 of the 6 configurations.
  LoraCase c = lora_case(66, 72, 68, 4, 31);
  std::uint64_t seed = 32;
  for (Matrix* m : {&c.x, &c.w, &c.a, &c.b, &c.g}) {
    const Matrix row_e = gaussian((m->rows + 31) / 32, 1, 10.0f, seed++), col_e = gaussian((m->cols + 31) / 32, 1, 10.0f, seed++);
    for (std::size_t r = 0; r < m->rows; ++r)
      for (std::size_t j = 0; j < m->cols; ++j)
        (*m)(r, j) = std::ldexp((*m)(r, j), static_cast<int>(std::lround(row_e.v[r / 32]) + std::lround(col_e.v[j / 32])));
  }
  constexpr std::uint64_t kSeed = 7;
  const auto exact_mm = [](unsigned m, const Matrix& a, const OperandFormat& fa, const Matrix& b, const OperandFormat& fb,
                           std::uint64_t seed) {
    return exact_matmul_nt(quantize_rows(a, fa, operand_seed(seed, m, 0)), quantize_rows(b, fb, operand_seed(seed, m, 1)));
  };
  std::vector<ValidationResult> out;
  for (const std::string& name : lora_config_names())
    for (bool sr : {false, true}) {
      const LoraConfig cfg = lora_config(name, sr);
      if (cfg.lora_grad.kind != OperandFormat::Kind::gse) continue;
      LoraLinear layer(c.w, c.a, c.b, c.alpha, cfg);
      const Matrix y = layer.forward(c.x);
      const LoraGrads d = layer.backward(c.g, kSeed);
      const LoraRun ref = lora_dataflow(c, layer.base(), cfg, layer.scale(), kSeed, exact_mm);
      out.push_back(bitwise("quantized-backward", name + (sr ? " sr" : ""),
                            {{&y, &ref.y}, {&d.x, &ref.d.x}, {&d.a, &ref.d.a}, {&d.b, &ref.d.b}},
                            "max ulps of y, dx, dA, dB against exact dot products of the same operands"));
    }
  return out;
}

}  // namespace lowbit::training
