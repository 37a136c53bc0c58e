// 2. The quantized backward is exact: the layer against the spec's data flow (lora_spec.hpp), bit for bit.
#include <cmath>
#include <limits>

#include "lora_spec.hpp"

namespace lowbit::training {

namespace {

using namespace detail;

// Row by row, the operand quantized with its groups starting one element late (a zero in front).
Matrix shifted_groups(const Matrix& a, const OperandFormat& f, std::uint64_t seed) {
  Matrix padded(a.rows, a.cols + 1);
  for (std::size_t r = 0; r < a.rows; ++r)
    for (std::size_t j = 0; j < a.cols; ++j) padded(r, j + 1) = a(r, j);
  return columns(quantize_rows(padded, f, seed), 1, a.cols + 1);
}

// The layer's matmul, or a negative control's broken one: quantized products summed in fp32, the
// gradient operands (left of matmuls 3-7) left unquantized, GSE groups one element off.
LoraMatmul matmul_for(Mutant m) {
  return [m](unsigned mm, const Matrix& a, const OperandFormat& fa, const Matrix& b, const OperandFormat& fb,
             std::uint64_t seed, QuantStats& stats) {
    const auto q = [&](const Matrix& x, const OperandFormat& f, unsigned side) {
      return quantize_rows(x, f, operand_seed(seed, mm, side));
    };
    if (m == Mutant::fp32_accumulation) return matmul_nt(q(a, fa, 0), q(b, fb, 1));
    if (m == Mutant::skipped_gradient_quantization && mm >= 3) return exact_matmul_nt(a, q(b, fb, 1));
    if (m == Mutant::off_by_one_group && fa.kind == OperandFormat::Kind::gse)
      return exact_matmul_nt(shifted_groups(a, fa, operand_seed(seed, mm, 0)), shifted_groups(b, fb, operand_seed(seed, mm, 1)));
    return lora_qmatmul(mm, a, fa, b, fb, seed, stats);
  };
}

}  // namespace

std::vector<ValidationResult> validate_quantized_backward(Mutant m) {
  // Three groups of 32 along T, IC and OC, the last one short, r below one group. Each block of 32
  // rows and each block of 32 columns is scaled by its own 2^round(N(0, 100)): with Gaussian data
  // alone the group sums of a dot product share exponents and fit in 24 bits together, so fp32
  // accumulation would be exact too; here it differs in every configuration.
  LoraCase c = lora_case(66, 72, 68, 4, 31);
  std::uint64_t seed = 32;
  for (Matrix* x : {&c.x, &c.w, &c.a, &c.b, &c.g}) {
    const Matrix row_e = gaussian((x->rows + 31) / 32, 1, 10.0f, seed++), col_e = gaussian((x->cols + 31) / 32, 1, 10.0f, seed++);
    for (std::size_t r = 0; r < x->rows; ++r)
      for (std::size_t j = 0; j < x->cols; ++j)
        (*x)(r, j) = std::ldexp((*x)(r, j), static_cast<int>(std::lround(row_e.v[r / 32]) + std::lround(col_e.v[j / 32])));
  }
  constexpr std::uint64_t kSeed = 7;
  const float s = c.alpha / static_cast<float>(c.a.rows);
  std::vector<ValidationResult> out;
  for (const std::string& name : lora_config_names())
    for (bool sr : {false, true}) {
      const LoraConfig cfg = lora_config(name, sr);
      if (cfg.lora_grad.kind == OperandFormat::Kind::f32) continue;  // fp32 accumulation: nothing exact to check
      LoraLinear layer(c.w, c.a, c.b, c.alpha, cfg, matmul_for(m));
      const Matrix y = layer.forward(c.x);
      LoraGrads d = layer.backward(c.g, kSeed);
      if (m == Mutant::nan_gradient) d.a.v[0] = std::numeric_limits<float>::quiet_NaN();
      const SpecRun spec = lora_spec(c, cfg, s, kSeed);
      out.push_back(bitwise("quantized-backward", name + (sr ? " sr" : ""),
                            {{&y, &spec.y.v}, {&d.x, &spec.dx.v}, {&d.a, &spec.da.v}, {&d.b, &spec.db.v}},
                            "max ulps of y, dx, dA, dB against the spec's data flow (reference codecs, exact products)"));
    }
  return out;
}

}  // namespace lowbit::training
