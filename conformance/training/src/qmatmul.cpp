#include "lowbit/training/qmatmul.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

#include "lowbit/error.hpp"
#include "lowbit/fp8.hpp"
#include "lowbit/gse.hpp"
#include "lowbit/reference/binary_float.hpp"

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

// ---- the exact fp8 product ------------------------------------------------------------------------

// A decoded E4M3 value is an integer multiple of its smallest subnormal 2^-9 below 448 * 2^9 < 2^18,
// an E5M2 value one of 2^-16 below 57344 * 2^16 < 2^32: in those units every product is an integer
// below 2^64, and a sum of up to 2^63 of them is exact in an __int128.
using Wide = __int128;

int unit_exp(fp8::Format f) { return fp8::traits(f).layout.emin() - fp8::traits(f).layout.man_bits; }

// v * 2^exp rounded once to f32 (nearest even, subnormals, Inf beyond the largest finite value).
// Bits below the top 62 fold into a sticky bit, far below f32's 24: the rounding sees the same case.
float round_to_f32(Wide v, int exp) {
  const bool negative = v < 0;
  const auto mag = static_cast<unsigned __int128>(negative ? -v : v);
  const auto hi = static_cast<std::uint64_t>(mag >> 64);
  const int width = hi != 0 ? 64 + std::bit_width(hi) : std::bit_width(static_cast<std::uint64_t>(mag));
  const int drop = std::max(0, width - 62);
  const bool sticky = drop > 0 && (mag & ((static_cast<unsigned __int128>(1) << drop) - 1)) != 0;
  const std::uint64_t sig = static_cast<std::uint64_t>(mag >> drop) | (sticky ? 1 : 0);
  return std::bit_cast<float>(static_cast<std::uint32_t>(ref::pack_nearest(negative, sig, exp + drop, kF32Layout)));
}

// C = the exact sum of the products of the decoded codes, times 2^(ka + kb), rounded once to f32. An
// entry with a NaN or Inf factor is the IEEE sum of those products alone (NaN, or the Inf): a finite
// part cannot change it.
Matrix fp8_product(const Fp8Operand& a, fp8::Format fa, const Fp8Operand& b, fp8::Format fb) {
  struct Integers {
    std::vector<std::int64_t> m;  // the decoded codes in units of 2^unit_exp (0 for NaN and Inf)
    std::vector<bool> finite;     // per row: no NaN or Inf
  };
  const auto integers = [](const Matrix& d, fp8::Format f) {
    Integers r{std::vector<std::int64_t>(d.size()), std::vector<bool>(d.rows, true)};
    for (std::size_t i = 0; i < d.size(); ++i) {
      if (std::isfinite(d.v[i])) r.m[i] = static_cast<std::int64_t>(std::ldexp(d.v[i], -unit_exp(f)));
      else r.finite[i / d.cols] = false;
    }
    return r;
  };
  const Integers ia = integers(a.decoded, fa), ib = integers(b.decoded, fb);
  const int exp = unit_exp(fa) + unit_exp(fb) + a.scale_exp + b.scale_exp;
  const std::size_t k = a.decoded.cols;
  Matrix c(a.decoded.rows, b.decoded.rows);
  for (std::size_t i = 0; i < c.rows; ++i)
    for (std::size_t j = 0; j < c.cols; ++j) {
      const std::int64_t *x = &ia.m[i * k], *y = &ib.m[j * k];
      Wide sum = 0;
      for (std::size_t t = 0; t < k; ++t) sum += static_cast<Wide>(x[t]) * y[t];
      float special = 0.0f;
      if (!ia.finite[i] || !ib.finite[j])
        for (std::size_t t = 0; t < k; ++t) {
          const float u = a.decoded.v[i * k + t], v = b.decoded.v[j * k + t];
          if (!std::isfinite(u) || !std::isfinite(v)) special += u * v;
        }
      c(i, j) = std::isfinite(special) ? round_to_f32(sum, exp) : special;
    }
  return c;
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
      return fp8_product(qa, fa.fp8, qb, fb.fp8);
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
