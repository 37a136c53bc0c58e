#include "lowbit/training/qmatmul.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "lowbit/error.hpp"
#include "lowbit/fp8.hpp"
#include "lowbit/gse.hpp"

namespace lowbit::training {

double OperandFormat::bits_per_value() const {
  switch (kind) {
    case Kind::gse: return gse::Format{.bits = bits}.bits_per_value();
    case Kind::fp8: return 8;
    case Kind::f32: break;
  }
  return 32;
}

namespace {

// The largest finite magnitude (NaN and Inf have no scale of their own: GSE makes their group NaN,
// fp8 keeps them NaN / Inf).
float finite_amax(const Matrix& a) {
  float m = 0.0f;
  for (float x : a.v)
    if (std::isfinite(x)) m = std::max(m, std::fabs(x));
  return m;
}

struct GseOperand {
  gse::Format format;
  std::vector<std::int8_t> codes;
  std::vector<std::uint8_t> exps;
};

GseOperand encode_gse(const Matrix& a, const OperandFormat& f, std::uint64_t seed, QuantStats* stats) {
  GseOperand q{gse_format(f, a), std::vector<std::int8_t>(a.size()), {}};
  q.exps.resize(a.rows * q.format.groups(a.cols));
  gse::Options o;
  o.format = q.format;
  o.rounding = f.rounding;
  o.seed = seed;
  const BlockStats s = gse::encode_rows(a.rows, a.cols, a.v, q.codes, q.exps, o);
  if (stats) {
    stats->values += a.size();
    stats->groups += s.groups;
    stats->exp_underflow += s.exp_underflow;
    stats->exp_overflow += s.exp_overflow;
    stats->saturated += s.saturated;
  }
  return q;
}

// An fp8 operand: the decoded codes (a / 2^scale_exp, rounded) and the power of two they carry.
struct Fp8Operand {
  Matrix decoded;
  int scale_exp = 0;
};

Fp8Operand encode_fp8(const Matrix& a, const OperandFormat& f, std::uint64_t seed, QuantStats* stats) {
  const double max_finite = f.fp8 == fp8::Format::e4m3 ? 448.0 : 57344.0;
  // The smallest k with amax <= max_finite * 2^k, found exactly (no log2 rounding); k = 0 for an
  // all-zero tensor; at least -149 so that 2^k is an f32.
  Fp8Operand q{Matrix(a.rows, a.cols), 0};
  if (const double amax = finite_amax(a); amax > 0) {
    int k = std::ilogb(amax) - std::ilogb(max_finite);
    while (std::ldexp(max_finite, k) < amax) ++k;
    while (std::ldexp(max_finite, k - 1) >= amax) --k;
    q.scale_exp = std::max(k, -149);
  }
  // a / 2^k in double is exact, so the fp8 encoder rounds once.
  std::vector<double> scaled(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) scaled[i] = std::ldexp(static_cast<double>(a.v[i]), -q.scale_exp);
  fp8::Options o;
  o.format = f.fp8;
  o.profile = fp8::profile("ml_dtypes-sat");
  o.rounding = f.rounding;
  o.seed = seed;
  std::vector<std::uint8_t> codes(a.size());
  encode(std::span<const double>(scaled), std::span(codes), o);
  decode(std::span<const std::uint8_t>(codes), std::span(q.decoded.v), o);
  if (stats) stats->values += a.size();
  return q;
}

Matrix scaled_by_pow2(Matrix m, int e) {
  for (float& x : m.v) x = std::ldexp(x, e);
  return m;
}

}  // namespace

gse::Format gse_format(const OperandFormat& f, const Matrix& a) {
  gse::Format g;
  g.bits = f.bits;
  g.group = 32;
  if (const float amax = finite_amax(a); amax > 0) g.exp_offset = std::clamp(std::ilogb(amax) - 15, -100, 100);
  return g;
}

Matrix quantize_rows(const Matrix& a, const OperandFormat& f, std::uint64_t seed, QuantStats* stats) {
  switch (f.kind) {
    case OperandFormat::Kind::f32: return a;
    case OperandFormat::Kind::fp8: {
      const Fp8Operand q = encode_fp8(a, f, seed, stats);
      return scaled_by_pow2(q.decoded, q.scale_exp);
    }
    case OperandFormat::Kind::gse: {
      const GseOperand q = encode_gse(a, f, seed, stats);
      gse::Options o;
      o.format = q.format;
      // Row by row: the flat decoder groups the stream, not the rows.
      Matrix out(a.rows, a.cols);
      const std::size_t groups = q.format.groups(a.cols);
      for (std::size_t r = 0; r < a.rows; ++r)
        gse::decode(std::span(q.codes).subspan(r * a.cols, a.cols), std::span(q.exps).subspan(r * groups, groups),
                    std::span(out.v).subspan(r * a.cols, a.cols), o);
      return out;
    }
  }
  throw Error("quantize_rows: unknown operand kind");
}

Matrix qmatmul(const Matrix& a, const OperandFormat& fa, const Matrix& b, const OperandFormat& fb,
               std::uint64_t seed_a, std::uint64_t seed_b, QuantStats* stats) {
  if (fa.kind != fb.kind) throw Error("qmatmul: both operands must be of one kind (f32, gse or fp8)");
  if (a.cols != b.cols) throw Error("qmatmul: inner dimensions differ");
  switch (fa.kind) {
    case OperandFormat::Kind::f32: return matmul_nt(a, b);
    case OperandFormat::Kind::fp8: {
      const Fp8Operand qa = encode_fp8(a, fa, seed_a, stats), qb = encode_fp8(b, fb, seed_b, stats);
      return scaled_by_pow2(matmul_nt(qa.decoded, qb.decoded), qa.scale_exp + qb.scale_exp);
    }
    case OperandFormat::Kind::gse: {
      const GseOperand qa = encode_gse(a, fa, seed_a, stats), qb = encode_gse(b, fb, seed_b, stats);
      Matrix c(a.rows, b.rows);
      gse::gemm(a.rows, b.rows, a.cols, {qa.codes, qa.exps, qa.format}, {qb.codes, qb.exps, qb.format}, c.v,
                {.accumulate = gse::Accumulate::exact});
      return c;
    }
  }
  throw Error("qmatmul: unknown operand kind");
}

}  // namespace lowbit::training
