// The spec's LoRA data flow (lora_spec.hpp) and the error it carries.
//
// For a tensor X of the flow, X^ is the value computed, X* the ideal value (exact arithmetic, nothing
// quantized, the base w as given), B_X a bound with |X^ - X*| <= B_X and V_X the predicted variance of
// X^ - X*, all elementwise; u = 2^-24 is f32's unit roundoff and eta = 2^-150 the absolute error of a
// rounding to nearest among f32's subnormals.
//   x, A, B, g (inputs)   B = 0, V = 0
//   W~ (the stored base)  B = |W~ - W|, V = (W~ - W)^2: its exact per-element storage error (the NF4 suite
//                         and TrainLora.Nf4BaseIsTheDoubleQuantizedRoundTrip check NF4 + DQ bit for bit)
//   P = Q_f(X)            B_P = B_X + q, V_P = V_X + v, q and v the format's per element (`rounded`)
//   C = P_a P_b^T, k terms   with P_a = A* + dA, P_b = B* + dB:
//                         |P_a P_b^T - A* B*^T| = |dA P_b^T + P_a dB^T - dA dB^T| <= B_a (|P_b| + B_b)^T + |P_a| B_b^T,
//                         plus the product's own rounding: exact accumulation rounds once, u |P_a| |P_b|^T + eta;
//                         fp32 accumulation (matmul_nt) gamma_k |P_a| |P_b|^T + 2 k eta (Higham, Accuracy and
//                         Stability of Numerical Algorithms, 3.1, each product possibly underflowing).
//                         V_C = V_a (P_b^2 + V_b)^T + P_a^2 V_b^T (independent errors).
//   fl(s g)               B = |s| B_g + u |s g^| + eta, V = s^2 V_g
//   fl(a + fl(s b))       B = B_a + |s| B_b + u |s b^| + eta + u (|a^| + |fl(s b^)|), V = V_a + s^2 V_b
// The bounds are sums of products of non-negative doubles: their own rounding stays below 2^-40
// relative, which check 3 adds.
#include "lora_spec.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "lowbit/reference/fp8.hpp"
#include "lowbit/reference/gse.hpp"
#include "lowbit/reference/philox.hpp"

namespace lowbit::training::detail {

namespace {

constexpr double kU = 0x1p-24;
constexpr double kEta = 0x1p-150;

Tracked exact_input(const Matrix& m) { return {m, std::vector<double>(m.size()), std::vector<double>(m.size())}; }

Tracked stored(const Matrix& w_tilde, const Matrix& w) {
  Tracked t = exact_input(w_tilde);
  for (std::size_t i = 0; i < w.size(); ++i) {
    t.bound[i] = std::fabs(static_cast<double>(w_tilde.v[i]) - w.v[i]);
    t.var[i] = t.bound[i] * t.bound[i];
  }
  return t;
}

std::vector<double> transposed(const std::vector<double>& v, const Matrix& shape) {
  std::vector<double> t(v.size());
  for (std::size_t r = 0; r < shape.rows; ++r)
    for (std::size_t c = 0; c < shape.cols; ++c) t[c * shape.rows + r] = v[r * shape.cols + c];
  return t;
}

Tracked transposed(const Tracked& t) { return {transpose(t.v), transposed(t.bound, t.v), transposed(t.var, t.v)}; }

// Element i of t quantized: x its value, `grid` its value on the format's grid (decoding to f32 rounds
// it only below f32's normal range: that difference is added), step the grid's spacing there, limit
// the largest magnitude the grid holds. Rounding to nearest moves x by at most step / 2, stochastic
// rounding by less than a step; a value beyond the limit saturates and moves by its excess as well.
// The predicted variance: step^2 / 12 for rne, the mean of f (1 - f) step^2 over a uniform fraction f,
// step^2 / 6, for sr. A NaN or Inf has no bound.
void rounded(Tracked& t, std::size_t i, double grid, float decoded, double step, double limit, Rounding r) {
  const double x = t.v.v[i];
  t.bound[i] += (r == Rounding::sr ? step : step / 2) + std::max(0.0, std::fabs(x) - limit) + std::fabs(decoded - grid);
  t.var[i] += step * step / (r == Rounding::sr ? 6 : 12);
  if (!std::isfinite(decoded)) t.bound[i] = std::numeric_limits<double>::infinity();
  t.v.v[i] = decoded;
}

float finite_amax(const Matrix& m) {
  float amax = 0.0f;
  for (float v : m.v)
    if (std::isfinite(v)) amax = std::max(amax, std::fabs(v));
  return amax;
}

// GSE-INT b bits along every row on its own: groups of 32, the 5-bit field (bias 15) shifted by the
// per-tensor offset floor(log2 amax) - 15 (0 for an all-zero tensor, clamped to -100..100); Philox
// stream index = the row-major index. A group whose stored exponent is E has step 2^(E - (b-2)) and
// holds up to (2^(b-1) - 1) steps.
void gse_rows(Tracked& t, const OperandFormat& f, std::uint64_t seed) {
  const float amax = finite_amax(t.v);
  const gse::Format g{.bits = f.bits, .group = 32, .exp_offset = amax > 0 ? std::clamp(std::ilogb(amax) - 15, -100, 100) : 0};
  const std::size_t n = t.v.cols;
  std::vector<std::int8_t> codes(n);
  std::vector<std::uint8_t> exps(g.groups(n));
  std::vector<float> decoded(n);
  for (std::size_t r = 0; r < t.v.rows; ++r) {
    const gse::EncodeParams p{g, f.rounding, seed, r * n, nullptr};
    ref::gse_encode_ref(n, &t.v.v[r * n], codes.data(), exps.data(), &p, nullptr);
    ref::gse_decode_ref(n, codes.data(), exps.data(), decoded.data(), &g);
    for (std::size_t j = 0; j < n; ++j) {
      const int field = exps[j / static_cast<std::size_t>(g.group)];
      const double step = std::ldexp(1.0, field - g.exp_bias + g.exp_offset - (g.bits - 2));
      rounded(t, r * n + j, codes[j] * step, decoded[j], step, g.max_mantissa() * step, f.rounding);
    }
  }
}

// FP8 (profile ml_dtypes-sat) with the per-tensor scale 2^k, k the smallest integer with amax <=
// max_finite 2^k, at least -149 (0 for an all-zero tensor): x / 2^k (exact in double) encoded, Philox
// stream index = the row-major index. The step at an element is the ulp of its binade (the subnormal
// one below the smallest normal) times 2^k; the grid holds up to max_finite 2^k.
void fp8_rows(Tracked& t, const OperandFormat& f, std::uint64_t seed) {
  const fp8::Profile& profile = *fp8::find_profile("ml_dtypes-sat");
  const fp8::EncodeParams e = fp8::encode_params(f.fp8, profile, FloatType::f64, f.rounding, seed);
  const fp8::DecodeParams d = fp8::decode_params(f.fp8, profile);
  const BinaryLayout layout = fp8::traits(f.fp8).layout;
  const double max_finite = ref::fp8_decode<float>(fp8::traits(f.fp8).max_finite(), d);
  int k = 0;
  if (const double amax = finite_amax(t.v); amax > 0)
    for (k = -149; std::ldexp(max_finite, k) < amax;) ++k;
  for (std::size_t i = 0; i < t.v.size(); ++i) {
    const double x = std::ldexp(static_cast<double>(t.v.v[i]), -k);
    const std::uint8_t code = ref::fp8_encode(x, e, f.rounding == Rounding::sr ? ref::philox_word(seed, i) : 0);
    const double grid = std::ldexp(static_cast<double>(ref::fp8_decode<float>(code, d)), k);
    const int binade = std::max(x == 0 ? layout.emin() : std::ilogb(x), layout.emin());
    rounded(t, i, grid, static_cast<float>(grid), std::ldexp(1.0, binade - layout.man_bits + k), std::ldexp(max_finite, k),
            f.rounding);
  }
}

Tracked quantized(const Tracked& t, const OperandFormat& f, std::uint64_t seed) {
  Tracked q = t;
  if (f.kind == OperandFormat::Kind::gse) gse_rows(q, f, seed);
  if (f.kind == OperandFormat::Kind::fp8) fp8_rows(q, f, seed);
  return q;
}

// C = P_a P_b^T: the exact product rounded once for quantized operands, fp32 accumulation for f32 ones.
Tracked product(const Tracked& a, const Tracked& b, const OperandFormat& f) {
  const bool exact = f.kind != OperandFormat::Kind::f32;
  const std::size_t k = a.v.cols;
  const double ku = static_cast<double>(k) * kU;
  const double rho = exact ? kU : ku / (1 - ku), eta = exact ? kEta : 2 * static_cast<double>(k) * kEta;
  Tracked c{exact ? exact_matmul_nt(a.v, b.v) : matmul_nt(a.v, b.v), {}, {}};
  c.bound.resize(c.v.size());
  c.var.resize(c.v.size());
  for (std::size_t i = 0; i < a.v.rows; ++i)
    for (std::size_t j = 0; j < b.v.rows; ++j) {
      double bound = eta, var = 0;
      for (std::size_t t = 0; t < k; ++t) {
        const std::size_t p = i * k + t, q = j * k + t;
        const double pa = std::fabs(a.v.v[p]), pb = std::fabs(b.v.v[q]);
        bound += a.bound[p] * (pb + b.bound[q]) + pa * (b.bound[q] + rho * pb);
        var += a.var[p] * (pb * pb + b.var[q]) + pa * pa * b.var[q];
      }
      c.bound[i * b.v.rows + j] = bound;
      c.var[i * b.v.rows + j] = var;
    }
  return c;
}

Tracked scaled_by(const Tracked& g, float s) {
  Tracked r{scaled(g.v, s), g.bound, g.var};
  for (std::size_t i = 0; i < r.v.size(); ++i) {
    r.bound[i] = std::fabs(s) * g.bound[i] + kU * std::fabs(static_cast<double>(s) * g.v.v[i]) + kEta;
    r.var[i] = static_cast<double>(s) * s * g.var[i];
  }
  return r;
}

// fl(a + fl(s b)), as add_scaled.
Tracked sum(const Tracked& a, float s, const Tracked& b) {
  Tracked r{add_scaled(a.v, s, b.v), a.bound, a.var};
  for (std::size_t i = 0; i < r.v.size(); ++i) {
    const double sb = static_cast<double>(s) * b.v.v[i];
    r.bound[i] += std::fabs(s) * b.bound[i] + kU * std::fabs(sb) + kEta +
                  kU * (std::fabs(a.v.v[i]) + std::fabs(s * b.v.v[i]));
    r.var[i] += static_cast<double>(s) * s * b.var[i];
  }
  return r;
}

}  // namespace

SpecRun lora_spec(const LoraCase& c, const LoraConfig& f, float s, std::uint64_t seed) {
  // Operand `side` of matmul m (layers.hpp's numbering), keyed by operand_seed(seed, m, side).
  const auto q = [](const Tracked& t, const OperandFormat& fmt, std::uint64_t key, unsigned m, unsigned side) {
    return quantized(t, fmt, operand_seed(key, m, side));
  };
  const Tracked x = exact_input(c.x), w = stored(stored_base(c.w, f), c.w), a = exact_input(c.a),
                b = exact_input(c.b), g = exact_input(c.g);
  // forward (seed 0); x^ and h^ are kept for backward
  const Tracked xk = q(x, f.lora_act, 0, 0, 0);
  const Tracked h = product(xk, q(a, f.lora_weight, 0, 0, 1), f.lora_act);
  const Tracked hk = q(h, f.lora_act, 0, 1, 0);
  SpecRun r;
  r.y = sum(product(q(x, f.base_act, 0, 2, 0), q(w, f.base_act, 0, 2, 1), f.base_act), s,
            product(hk, q(b, f.lora_weight, 0, 1, 1), f.lora_act));
  // backward
  const Tracked gs = scaled_by(g, s);
  const Tracked gh = product(q(gs, f.lora_grad, seed, 4, 0), q(transposed(b), f.lora_weight, seed, 4, 1), f.lora_grad);
  r.db = product(q(transposed(gs), f.lora_grad, seed, 5, 0), q(transposed(hk), f.lora_act, seed, 5, 1), f.lora_grad);
  r.da = product(q(transposed(gh), f.lora_grad, seed, 6, 0), q(transposed(xk), f.lora_act, seed, 6, 1), f.lora_grad);
  r.dx = sum(product(q(g, f.base_grad, seed, 3, 0), q(transposed(w), f.base_act, seed, 3, 1), f.base_grad), 1.0f,
             product(q(gh, f.lora_grad, seed, 7, 0), q(transposed(a), f.lora_weight, seed, 7, 1), f.lora_grad));
  return r;
}

}  // namespace lowbit::training::detail
