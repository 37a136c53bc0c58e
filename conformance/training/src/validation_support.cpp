#include "validation_support.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

#include <boost/multiprecision/cpp_int.hpp>

namespace lowbit::training::detail {

ValidationResult result(std::string name, std::string config, double error, double bound, std::size_t cases,
                        std::string detail) {
  return {std::move(name), std::move(config), error, bound, error <= bound, cases, std::move(detail)};  // NaN fails
}

double worse(double a, double b) {
  return std::isnan(a) || std::isnan(b) ? std::numeric_limits<double>::quiet_NaN() : std::max(a, b);
}

double non_finite(const Matrix& m) {
  for (float v : m.v)
    if (!std::isfinite(v)) return std::numeric_limits<double>::infinity();
  return 0;
}

LoraCase lora_case(std::size_t t, std::size_t ic, std::size_t oc, std::size_t r, std::uint64_t seed) {
  const float s = 1.0f / std::sqrt(static_cast<float>(ic));
  return {gaussian(t, ic, 1.0f, seed), gaussian(oc, ic, s, seed + 1), gaussian(r, ic, s, seed + 2),
          gaussian(oc, r, 0.05f, seed + 3), gaussian(t, oc, 1e-6f, seed + 4), 1.5f * static_cast<float>(r)};
}

LoraLinear lora_layer(const LoraCase& c, const LoraConfig& cfg, Mutant m) {
  const auto mm = [m](unsigned i, const Matrix& a, const OperandFormat& fa, const Matrix& b, const OperandFormat& fb,
                      std::uint64_t seed, QuantStats& stats) {
    Matrix out = lora_qmatmul(i, a, fa, b, fb, seed, stats);
    if (m == Mutant::transposed_gradient && i == 6) return transposed_reading(out);  // matmul 6: dA
    if (m == Mutant::nan_gradient && i == 5) out.v[0] = std::numeric_limits<float>::quiet_NaN();  // matmul 5: dB
    return out;
  };
  const float alpha = m == Mutant::dropped_lora_scale ? static_cast<float>(c.a.rows) : c.alpha;
  return LoraLinear(c.w, c.a, c.b, alpha, cfg, mm);
}

Matrix transposed_reading(const Matrix& m) {
  Matrix t = transpose(m);
  t.rows = m.rows;
  t.cols = m.cols;
  return t;
}

WeakModel weak_model(const qeft::Packed& p) {
  WeakModel m{Matrix(p.oc, p.ic), Matrix(p.oc, p.k)};
  m.w4.v = ref::qeft_dequantize(p, qeft::Path::nowc);
  for (std::size_t i = 0; i < m.o.size(); ++i) m.o.v[i] = ref::f16_to_f32(p.oweight[i]);
  return m;
}

qeft::Packed qeft_layer(const Matrix& w, std::span<const std::int32_t> weak) {
  weak::QuantOptions o;
  o.group = 64;
  o.tuning = weak::Tuning::minmax;
  return ref::qeft_pack(ref::weak_quantize(weak::Layout::qeft, w.v, w.rows, w.cols, weak, o));
}

namespace {

WeakGrads weak_backward(WeakColumnLinear& layer, const Matrix& x, const Matrix& g, Mutant m) {
  WeakGrads d = layer.backward(g);
  const std::size_t first = x.cols - layer.k();
  if (m == Mutant::wrong_weak_columns) d.oweight = matmul_nt(transpose(g), transpose(columns(x, 0, layer.k())));
  if (m == Mutant::transposed_gradient) d.oweight = transposed_reading(d.oweight);
  if (m == Mutant::nan_gradient) d.x(0, first) = std::numeric_limits<float>::quiet_NaN();
  return d;
}

}  // namespace

WeakRun weak_run(std::size_t t, std::size_t oc, std::size_t ic, std::span<const std::int32_t> weak, std::uint64_t seed,
                 Mutant m) {
  const qeft::Packed p = qeft_test_layer(oc, ic, weak, seed);
  WeakColumnLinear layer(p);
  WeakRun r{gaussian(t, ic, 1.0f, seed + 1), gaussian(t, oc, 1e-6f, seed + 2), weak_model(p), {}};
  layer.forward(r.x);
  r.d = weak_backward(layer, r.x, r.g, m);
  return r;
}

ValidationResult within_gamma(std::string name, std::string config, std::span<const double> error, const Matrix& magnitude,
                              std::size_t n, std::string detail) {
  double worst = non_finite(magnitude);  // an Inf magnitude would excuse any error
  for (std::size_t i = 0; i < error.size(); ++i) worst = worse(worst, error[i] == 0 ? 0 : error[i] / magnitude.v[i]);
  const double nu = static_cast<double>(n) * 0x1p-24;
  return result(std::move(name), std::move(config), worst, nu / (1 - nu), error.size(), std::move(detail));
}

Matrix scaled(Matrix m, float s) {
  for (float& v : m.v) v *= s;
  return m;
}

Matrix absolute(Matrix m) {
  for (float& v : m.v) v = std::fabs(v);
  return m;
}

Matrix gather_columns(const Matrix& m, std::span<const std::int32_t> idx) {
  Matrix out(m.rows, idx.size());
  for (std::size_t r = 0; r < m.rows; ++r)
    for (std::size_t j = 0; j < idx.size(); ++j) out(r, j) = m(r, static_cast<std::size_t>(idx[j]));
  return out;
}

std::vector<std::int32_t> inverse(std::span<const std::int32_t> perm) {
  std::vector<std::int32_t> inv(perm.size());
  for (std::size_t j = 0; j < perm.size(); ++j) inv[static_cast<std::size_t>(perm[j])] = static_cast<std::int32_t>(j);
  return inv;
}

double max_ulps(const Matrix& a, const Matrix& b) {
  if (a.rows != b.rows || a.cols != b.cols || non_finite(a) > 0 || non_finite(b) > 0)
    return std::numeric_limits<double>::infinity();
  const auto ordered = [](float x) {
    const auto i = std::bit_cast<std::int32_t>(x);
    return i < 0 ? -static_cast<std::int64_t>(i & 0x7FFFFFFF) : static_cast<std::int64_t>(i);
  };
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::bit_cast<std::uint32_t>(a.v[i]) != std::bit_cast<std::uint32_t>(b.v[i]))
      m = std::max({m, 1.0, std::fabs(static_cast<double>(ordered(a.v[i]) - ordered(b.v[i])))});
  return m;
}

ValidationResult bitwise(std::string name, std::string config, std::initializer_list<std::pair<const Matrix*, const Matrix*>> pairs,
                         std::string detail) {
  double worst = 0;
  std::size_t n = 0;
  for (const auto& [a, b] : pairs) {
    worst = worse(worst, max_ulps(*a, *b));
    n += a->size();
  }
  return result(std::move(name), std::move(config), worst, 0, n, std::move(detail));
}

namespace {

// Every finite f32 is m 2^e with |m| < 2^24 and e >= -172 (frexp's exponent minus 24; subnormals
// included) and e <= 104, so every product is an integer multiple of 2^-344 below 2^(48+208+344):
// 704 bits hold any sum of up to 2^100 of them exactly.
using Exact = boost::multiprecision::number<boost::multiprecision::cpp_int_backend<
    704, 704, boost::multiprecision::signed_magnitude, boost::multiprecision::unchecked, void>>;
constexpr int kHalfUnit = 172;

// v * 2^-344 rounded to f32, nearest even, Inf beyond the largest finite value.
float round_exact(const Exact& v) {
  if (v == 0) return 0.0f;
  const Exact mag = abs(v);
  const int top = static_cast<int>(msb(mag)) - 2 * kHalfUnit;  // 2^top <= |v| < 2^(top+1)
  const int quantum = std::max(top, -126) - 23;                 // the weight of the result's last bit
  const int shift = quantum + 2 * kHalfUnit;                    // > 0: quantum >= -149
  Exact kept = mag >> shift;
  const Exact rest = mag - (kept << shift), half = Exact(1) << (shift - 1);
  if (rest > half || (rest == half && (kept & 1) != 0)) ++kept;
  const double value = std::ldexp(static_cast<double>(kept), quantum);  // kept <= 2^24: exact
  const float f = value >= 0x1p128 ? std::numeric_limits<float>::infinity() : static_cast<float>(value);
  return v < 0 ? -f : f;
}

}  // namespace

Matrix exact_matmul_nt(const Matrix& a, const Matrix& b) {
  struct Split {
    std::vector<std::int64_t> m;
    std::vector<int> e;
  };
  const auto split = [](const Matrix& x) {
    Split s{std::vector<std::int64_t>(x.size()), std::vector<int>(x.size())};
    for (std::size_t i = 0; i < x.size(); ++i) {
      int e = 0;
      s.m[i] = static_cast<std::int64_t>(std::ldexp(std::frexp(x.v[i], &e), 24));
      s.e[i] = e - 24 + kHalfUnit;
    }
    return s;
  };
  const Split sa = split(a), sb = split(b);
  // Speed only: products whose shifts share an 8-bit window first add exactly in int64 (each term
  // below 2^55, flushed every 256 terms), so the wide additions are a few per entry, not one per term.
  constexpr std::size_t kWindows = (2 * 104 + 2 * kHalfUnit) / 8 + 1;
  Matrix c(a.rows, b.rows);
  for (std::size_t i = 0; i < a.rows; ++i)
    for (std::size_t j = 0; j < b.rows; ++j) {
      Exact sum = 0;
      std::array<std::int64_t, kWindows> window{};
      const auto flush = [&] {
        for (std::size_t w = 0; w < kWindows; ++w)
          if (window[w] != 0) sum += Exact(std::exchange(window[w], 0)) << (8 * w);
      };
      for (std::size_t k = 0; k < a.cols; ++k) {
        const std::size_t p = i * a.cols + k, q = j * b.cols + k;
        const int shift = sa.e[p] + sb.e[q];
        window[static_cast<std::size_t>(shift / 8)] += sa.m[p] * sb.m[q] * (std::int64_t{1} << (shift % 8));
        if (k % 256 == 255) flush();
      }
      flush();
      c(i, j) = round_exact(sum);
    }
  return c;
}

}  // namespace lowbit::training::detail
