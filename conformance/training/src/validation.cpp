#include "lowbit/training/validation.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>
#include <utility>

#include <boost/multiprecision/cpp_bin_float.hpp>
#include <boost/multiprecision/cpp_int.hpp>
#include <fmt/format.h>

#include "lowbit/gse.hpp"
#include "lowbit/training/layers.hpp"

namespace lowbit::training {

namespace {

ValidationResult result(std::string name, std::string config, double error, double bound, std::size_t cases,
                        std::string detail) {
  return {std::move(name), std::move(config), error, bound, error <= bound, cases, std::move(detail)};  // NaN fails
}

// ---- shared inputs and helpers --------------------------------------------------------------------

// x ~ N(0, 1); W, A ~ N(0, 1/IC) (Kaiming-like); B ~ N(0, 0.05^2) (a trained B: at initialisation it
// is 0, which would zero dA and half of dx); g ~ N(0, 1e-12) (gradients sit far below 1, where the
// GSE exponent offset matters); alpha = 1.5 r, so s = 1.5 is not a power of two.
struct LoraCase {
  Matrix x, w, a, b, g;
  float alpha;
};

LoraCase lora_case(std::size_t t, std::size_t ic, std::size_t oc, std::size_t r, std::uint64_t seed) {
  const float s = 1.0f / std::sqrt(static_cast<float>(ic));
  return {gaussian(t, ic, 1.0f, seed), gaussian(oc, ic, s, seed + 1), gaussian(r, ic, s, seed + 2),
          gaussian(oc, r, 0.05f, seed + 3), gaussian(t, oc, 1e-6f, seed + 4), 1.5f * static_cast<float>(r)};
}

Matrix scaled(Matrix m, float s) {  // as LoraLinear::backward forms g_s
  for (float& v : m.v) v *= s;
  return m;
}

Matrix absolute(Matrix m) {
  for (float& v : m.v) v = std::fabs(v);
  return m;
}

// out(:, j) = m(:, idx[j]).
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

// Distance in units in the last place; any two different bit patterns (+0 and -0 included) are at
// least 1 apart, so 0 means bit for bit.
double max_ulps(const Matrix& a, const Matrix& b) {
  if (a.rows != b.rows || a.cols != b.cols) return std::numeric_limits<double>::infinity();
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

struct LoraRun {
  Matrix y;
  LoraGrads d;
};

// LoraLinear's dataflow (layers.hpp) with its matmuls replaced by mm(index, A, fa, B, fb, seed) =
// Q(A) Q(B)^T; w is the base as the layer's matmuls see it.
template <class Matmul>
LoraRun lora_dataflow(const LoraCase& c, const Matrix& w, const LoraConfig& f, float s, std::uint64_t seed, Matmul mm) {
  const Matrix h = mm(0, c.x, f.lora_act, c.a, f.lora_weight, 0);
  LoraRun r{add_scaled(mm(2, c.x, f.base_act, w, f.base_act, 0), s, mm(1, h, f.lora_act, c.b, f.lora_weight, 0)), {}};
  const Matrix xs = quantize_rows(c.x, f.lora_act, operand_seed(0, 0, 0));
  const Matrix hs = quantize_rows(h, f.lora_act, operand_seed(0, 1, 0));
  const Matrix gs = scaled(c.g, s);
  const Matrix gh = mm(4, gs, f.lora_grad, transpose(c.b), f.lora_weight, seed);
  r.d.b = mm(5, transpose(gs), f.lora_grad, transpose(hs), f.lora_act, seed);
  r.d.a = mm(6, transpose(gh), f.lora_grad, transpose(xs), f.lora_act, seed);
  r.d.x = add_scaled(mm(3, c.g, f.base_grad, transpose(w), f.base_act, seed), 1.0f,
                     mm(7, gh, f.lora_grad, transpose(c.a), f.lora_weight, seed));
  return r;
}

// ---- 1. finite differences ------------------------------------------------------------------------

using Big = boost::multiprecision::cpp_bin_float_50;

struct BigMatrix {
  std::size_t rows = 0, cols = 0;
  std::vector<Big> v;
  BigMatrix(std::size_t r, std::size_t c) : rows(r), cols(c), v(r * c) {}
  explicit BigMatrix(const Matrix& m) : rows(m.rows), cols(m.cols), v(m.v.begin(), m.v.end()) {}
};

BigMatrix big_matmul_nt(const BigMatrix& a, const BigMatrix& b) {
  BigMatrix c(a.rows, b.rows);
  for (std::size_t i = 0; i < a.rows; ++i)
    for (std::size_t j = 0; j < b.rows; ++j)
      for (std::size_t k = 0; k < a.cols; ++k) c.v[i * c.cols + j] += a.v[i * a.cols + k] * b.v[j * b.cols + k];
  return c;
}

Big big_inner(const BigMatrix& a, const BigMatrix& b) {
  Big s = 0;
  for (std::size_t i = 0; i < a.v.size(); ++i) s += a.v[i] * b.v[i];
  return s;
}

// dL/dp by central differences, each entry of p perturbed in place. Every loss here is affine in
// any single entry, so the quotient has no truncation error: only the 50-digit rounding of
// L(p +- h), relative ~1e-50 / h = 1e-30, far below fp32's 1e-7.
std::vector<Big> central_differences(BigMatrix& p, const std::function<Big()>& loss) {
  const Big h("1e-20");
  std::vector<Big> d(p.v.size());
  for (std::size_t i = 0; i < p.v.size(); ++i) {
    const Big p0 = p.v[i];
    p.v[i] = p0 + h;
    const Big up = loss();
    p.v[i] = p0 - h;
    const Big down = loss();
    p.v[i] = p0;
    d[i] = (up - down) / (2 * h);
  }
  return d;
}

// An fp32 value reached through a chain of n roundings (dot products count one per term) differs
// from the exact one by at most gamma_n times the same formula evaluated on |.| (Higham, Accuracy
// and Stability, Thm 3.5 and Sec. 3.1). `magnitude` is that formula, computed in fp32: its own
// relative error (~n 2^-24) only moves the metric by that factor.
ValidationResult compare_fd(std::string config, const Matrix& analytic, const std::vector<Big>& fd,
                            const Matrix& magnitude, std::size_t n) {
  double worst = 0;
  for (std::size_t i = 0; i < fd.size(); ++i)
    worst = std::max(worst, static_cast<double>(abs(Big(analytic.v[i]) - fd[i])) / magnitude.v[i]);
  const double u = 0x1p-24, gamma = static_cast<double>(n) * u / (1 - static_cast<double>(n) * u);
  return result("finite-differences", std::move(config), worst, gamma, fd.size(),
                fmt::format("|fp32 - fd| / formula on |.|; bound gamma_{} (n roundings)", n));
}

// L = <G, y>: dL/dy = G exactly, so the error budget is the layer's own backward.
std::vector<ValidationResult> lora_finite_differences() {
  const std::size_t t = 3, ic = 10, oc = 6, r = 2;
  const LoraCase c = lora_case(t, ic, oc, r, 11);
  LoraLinear layer(c.w, c.a, c.b, c.alpha, lora_config("f32"));
  layer.forward(c.x);
  const LoraGrads d = layer.backward(c.g);
  LoraLinear on_abs(absolute(c.w), absolute(c.a), absolute(c.b), c.alpha, lora_config("f32"));
  on_abs.forward(absolute(c.x));
  const LoraGrads mag = on_abs.backward(absolute(c.g));

  BigMatrix x(c.x), w(c.w), a(c.a), b(c.b), g(c.g);
  const Big s = layer.scale();
  const auto loss = [&] { return big_inner(g, big_matmul_nt(x, w)) + s * big_inner(g, big_matmul_nt(big_matmul_nt(x, a), b)); };
  // Roundings on each chain: dx = fl(g W + g_h A), g_h = (s g) B: 1 + OC + r + 1; dA = g_h^T x:
  // 1 + OC + T; dB = (s g)^T h, h = x A^T: 1 + IC + T.
  return {compare_fd("lora dx", d.x, central_differences(x, loss), mag.x, oc + r + 2),
          compare_fd("lora dA", d.a, central_differences(a, loss), mag.a, oc + t + 1),
          compare_fd("lora dB", d.b, central_differences(b, loss), mag.b, ic + t + 1)};
}

std::vector<ValidationResult> weak_finite_differences() {
  const std::size_t t = 2, oc = 8, ic = 64;
  const std::vector<std::int32_t> weak{5, 20, 41};
  const std::size_t k = weak.size(), first = ic - k;
  const qeft::Packed p = qeft_test_layer(oc, ic, weak, 21);
  WeakColumnLinear layer(p);
  const Matrix x = gaussian(t, ic, 1.0f, 22), g = gaussian(t, oc, 1e-6f, 23);
  layer.forward(x);
  const WeakGrads d = layer.backward(g);
  Matrix w4(oc, ic);
  w4.v = ref::qeft_dequantize(p, qeft::Path::nowc);
  const Matrix o = layer.oweight();

  // The formula on |.|: dx = |g| |W4| + [0 | |g| |O|], dO = |g|^T |x[:, IC-k:]|.
  Matrix mag_x = matmul_nt(absolute(g), transpose(absolute(w4)));
  const Matrix mag_xw = matmul_nt(absolute(g), transpose(absolute(o)));
  for (std::size_t r = 0; r < t; ++r)
    for (std::size_t j = 0; j < k; ++j) mag_x(r, first + j) += mag_xw(r, j);
  const Matrix mag_o = matmul_nt(transpose(absolute(g)), transpose(absolute(columns(x, first, ic))));

  // y = x W4^T + x[:, IC-k:] O^T = x (W4 + [0 | O])^T.
  BigMatrix bx(x), bw4(w4), bo(o), bg(g);
  const auto loss = [&] {
    BigMatrix w = bw4;
    for (std::size_t r = 0; r < oc; ++r)
      for (std::size_t j = 0; j < k; ++j) w.v[r * ic + first + j] += bo.v[r * k + j];
    return big_inner(bg, big_matmul_nt(bx, w));
  };
  // dx = fl(g W4) + fl(g O) on the weak columns: OC + 1; dO = g^T x: T.
  return {compare_fd("weak dx", d.x, central_differences(bx, loss), mag_x, oc + 1),
          compare_fd("weak dO", d.oweight, central_differences(bo, loss), mag_o, t)};
}

// ---- 2. the quantized backward against exact products ---------------------------------------------

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

// C = A B^T for finite A and B, each entry the exact sum of the exact products rounded once to f32
// (+0 for an exact 0).
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

// ---- 3. quantized against f32 gradients -----------------------------------------------------------

// The relative step of a quantization, each relative to the top of the binade its scale sits in:
// GSE b bits 2^-(b-1) (step 2^(E-(b-2)) against the group's 2^(E+1)); a float with m mantissa bits
// 2^-(m+1) (E4M3 2^-4, E5M2 2^-3: an ulp against the top of the element's binade); NF4 2/15 (the
// mean gap of its 16 levels over [-1, 1], against the block's absmax); f32 0.
double rel_step(const OperandFormat& f) {
  switch (f.kind) {
    case OperandFormat::Kind::gse: return std::ldexp(1.0, -(f.bits - 1));
    case OperandFormat::Kind::fp8: return f.fp8 == fp8::Format::e4m3 ? 0x1p-4 : 0x1p-3;
    case OperandFormat::Kind::f32: break;
  }
  return 0;
}

double base_step(const LoraConfig& c) {
  switch (c.base) {
    case BaseStorage::nf4_dq: return 2.0 / 15;
    case BaseStorage::gse: return rel_step(OperandFormat::gse(c.base_bits));
    case BaseStorage::f32: break;
  }
  return 0;
}

// Rounding to a grid of step delta * scale (the scale: a group's 2^(E+1), a binade's top, a block's
// absmax) leaves an RMS error of delta * scale / sqrt(12), and for Gaussian data the scale is at most
// ~3.5x the RMS value: each quantization adds about delta to the relative (Frobenius) error, sr up
// to sqrt(2) times that. Independent errors add in quadrature, so their plain sum over a path of
// three or more covers sr too. The bound is that sum over the path (layers.hpp's dataflow):
//   dB = g_s^T h:      g_s (grad); h from x (act) and A (weight), kept (act), requantized on T (act)
//   dA = g_h^T x:      g_h from g_s (grad) and B (weight), requantized (grad); x kept (act), requantized (act)
//   dx = g W + g_h A:  g (base grad), W stored (base) and requantized (base act); g_h as above
//                      (2 grad, weight) and A (weight)
// and the cosine then is at least sqrt(1 - bound^2).
struct PathBounds {
  double dx, da, db;
};

PathBounds path_bounds(const LoraConfig& c) {
  const double g = rel_step(c.lora_grad), a = rel_step(c.lora_act), w = rel_step(c.lora_weight);
  return {rel_step(c.base_grad) + base_step(c) + rel_step(c.base_act) + 2 * g + 2 * w, 2 * g + w + 2 * a,
          g + w + 3 * a};
}

ValidationResult compare_quantized(const std::string& config, const Matrix& q, const Matrix& exact, double bound) {
  const double cos = cosine(q, exact), cos_bound = std::sqrt(std::max(0.0, 1 - bound * bound));
  return result("quantization-error", config, relative_error(q, exact), bound, q.size(),
                fmt::format("relative error; cosine {:.6f} (bound implies >= {:.4f})", cos, cos_bound));
}

// ---- 5. OGR reordering ----------------------------------------------------------------------------

// Terms added in ascending order of value (as test_weak_select.cpp's toy decoder): a sum then
// depends only on the multiset of its terms (from +0, zeros of either sign change nothing), so
// permuting the reduction dimension changes no bit, while a wiring error pairs different terms.
Matrix sorted_matmul_nt(const Matrix& a, const Matrix& b) {
  Matrix c(a.rows, b.rows);
  std::vector<float> terms(a.cols);
  for (std::size_t i = 0; i < a.rows; ++i)
    for (std::size_t j = 0; j < b.rows; ++j) {
      for (std::size_t k = 0; k < a.cols; ++k) terms[k] = a(i, k) * b(j, k);
      std::sort(terms.begin(), terms.end());
      float s = 0.0f;
      for (float t : terms) s += t;
      c(i, j) = s;
    }
  return c;
}

Matrix sorted_mm(unsigned, const Matrix& a, const OperandFormat&, const Matrix& b, const OperandFormat&, std::uint64_t) {
  return sorted_matmul_nt(a, b);
}

struct WeakRun {
  Matrix y;
  WeakGrads d;
};

// WeakColumnLinear's dataflow with the weak inputs at `weak` (the layer's own order has them last),
// every sum order-independent.
WeakRun sorted_weak(const Matrix& w4, const Matrix& o, std::span<const std::int32_t> weak, const Matrix& x, const Matrix& g) {
  const Matrix xw = gather_columns(x, weak);
  WeakRun r{add_scaled(sorted_matmul_nt(x, w4), 1.0f, sorted_matmul_nt(xw, o)),
            {sorted_matmul_nt(g, transpose(w4)), sorted_matmul_nt(transpose(g), transpose(xw))}};
  const Matrix gw = sorted_matmul_nt(g, transpose(o));
  for (std::size_t t = 0; t < g.rows; ++t)
    for (std::size_t j = 0; j < weak.size(); ++j) r.d.x(t, static_cast<std::size_t>(weak[j])) += gw(t, j);
  return r;
}

ValidationResult bitwise(std::string name, std::string config, std::initializer_list<std::pair<const Matrix*, const Matrix*>> pairs,
                         std::string detail) {
  double worst = 0;
  std::size_t n = 0;
  for (const auto& [a, b] : pairs) {
    worst = std::max(worst, max_ulps(*a, *b));
    n += a->size();
  }
  return result(std::move(name), std::move(config), worst, 0, n, std::move(detail));
}

// ---- 6. stochastic rounding ----------------------------------------------------------------------

// Each element's rounding step 2^(E - (b-2)) (from the exponent fields of an encoding) and the
// fraction f of a step above the lower neighbour; sr rounds up with probability f. Elements above
// the largest mantissa saturate instead of rounding up (biased by design) and are left out.
struct SrGrid {
  std::vector<double> step, frac;
  std::vector<bool> used;
  std::size_t excluded = 0;
};

SrGrid sr_grid(const Matrix& g, const OperandFormat& f) {
  gse::Options o;
  o.format = gse_format(f, g);
  const std::size_t groups = o.format.groups(g.cols);
  std::vector<std::int8_t> codes(g.size());
  std::vector<std::uint8_t> exps(g.rows * groups);
  gse::encode_rows(g.rows, g.cols, g.v, codes, exps, o);
  SrGrid grid{std::vector<double>(g.size()), std::vector<double>(g.size()), std::vector<bool>(g.size()), 0};
  for (std::size_t i = 0; i < g.size(); ++i) {
    const int field = exps[i / g.cols * groups + i % g.cols / static_cast<std::size_t>(o.format.group)];
    grid.step[i] = std::ldexp(1.0, field - o.format.exp_bias + o.format.exp_offset - (f.bits - 2));
    const double v = std::fabs(g.v[i]) / grid.step[i];
    grid.frac[i] = v - std::floor(v);
    grid.used[i] = v <= o.format.max_mantissa();
    grid.excluded += !grid.used[i];
  }
  return grid;
}

// The error of the mean of S roundings (sum / S - x) in steps. Per element it has mean 0 and
// variance f (1 - f) / S if the rounding is unbiased.
struct MeanError {
  std::size_t seeds = 0, m = 0;   // S, elements
  double rms = 0, expected = 0;   // measured and expected RMS
  double worst = 0;               // largest |error|
  double bias = 0, bias_sd = 0;   // mean signed error (toward larger magnitude) and its sd
};

MeanError mean_error(const Matrix& g, const SrGrid& grid, const std::vector<double>& sum, std::size_t seeds) {
  MeanError e{seeds};
  double err2 = 0, var = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (!grid.used[i]) continue;
    const double d = (sum[i] / static_cast<double>(seeds) - g.v[i]) / grid.step[i];
    err2 += d * d;
    var += grid.frac[i] * (1 - grid.frac[i]) / static_cast<double>(seeds);
    e.worst = std::max(e.worst, std::fabs(d));
    e.bias += g.v[i] < 0 ? -d : d;
    ++e.m;
  }
  const auto m = static_cast<double>(e.m);
  e.rms = std::sqrt(err2 / m);
  e.expected = std::sqrt(var / m);
  e.bias /= m;
  e.bias_sd = std::sqrt(var) / m;
  return e;
}

}  // namespace

qeft::Packed qeft_test_layer(std::size_t oc, std::size_t ic, std::span<const std::int32_t> weak, std::uint64_t seed) {
  const Matrix w = gaussian(oc, ic, 1.0f / std::sqrt(static_cast<float>(ic)), seed);
  weak::QuantOptions o;
  o.group = 64;
  o.tuning = weak::Tuning::minmax;
  return ref::qeft_pack(ref::weak_quantize(weak::Layout::qeft, w.v, oc, ic, weak, o));
}

std::vector<ValidationResult> validate_finite_differences() {
  std::vector<ValidationResult> r = lora_finite_differences();
  for (ValidationResult& w : weak_finite_differences()) r.push_back(std::move(w));
  return r;
}

std::vector<ValidationResult> validate_quantized_backward() {
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

std::vector<ValidationResult> validate_quantization_error() {
  const LoraCase c = lora_case(48, 96, 64, 8, 41);
  constexpr std::uint64_t kSeed = 9;
  LoraLinear f32(c.w, c.a, c.b, c.alpha, lora_config("f32"));
  f32.forward(c.x);
  const LoraGrads exact = f32.backward(c.g);
  std::vector<ValidationResult> out;
  for (const std::string& name : lora_config_names())
    for (bool sr : {false, true}) {
      const LoraConfig cfg = lora_config(name, sr);
      if (name == "f32" || (sr && cfg.lora_grad.kind == OperandFormat::Kind::f32)) continue;  // the reference; nothing to round
      LoraLinear layer(c.w, c.a, c.b, c.alpha, cfg);
      layer.forward(c.x);
      const LoraGrads d = layer.backward(c.g, kSeed);
      const PathBounds b = path_bounds(cfg);
      const std::string label = name + (sr ? " sr" : "");
      out.push_back(compare_quantized(label + " dx", d.x, exact.x, b.dx));
      out.push_back(compare_quantized(label + " dA", d.a, exact.a, b.da));
      out.push_back(compare_quantized(label + " dB", d.b, exact.b, b.db));
    }
  return out;
}

std::vector<ValidationResult> validate_weak_column_gradient() {
  const std::size_t t = 24, oc = 16, ic = 64;
  const std::vector<std::int32_t> weak{2, 9, 30, 31, 50, 63};
  WeakColumnLinear layer(qeft_test_layer(oc, ic, weak, 51));
  const Matrix x = gaussian(t, ic, 1.0f, 52), g = gaussian(t, oc, 1e-6f, 53);
  layer.forward(x);
  const WeakGrads d = layer.backward(g);
  // The layer is y = x W^T with W = W4 + [0 | O]; dW = g^T x, and its weak (last k) columns are dO.
  const Matrix full = columns(matmul_nt(transpose(g), transpose(x)), ic - weak.size(), ic);
  return {bitwise("weak-gradient", "qeft dO", {{&d.oweight, &full}}, "max ulps of dO against (g^T x)[:, IC-k:]")};
}

std::vector<ValidationResult> validate_ogr_invariance() {
  const std::vector<std::int32_t> weak{3, 17, 18, 40, 62};
  const std::size_t ic = 64;
  const std::vector<std::int32_t> perm = ref::weak_permutation(weak, ic), back = inverse(perm);
  std::vector<ValidationResult> out;

  // LoRA: W, A and x permuted along IC; dx and dA come back permuted, y and dB unchanged.
  const LoraCase c = lora_case(6, ic, 8, 4, 71);
  const LoraConfig f32 = lora_config("f32");
  const float s = c.alpha / static_cast<float>(c.a.rows);  // as LoraLinear's scale
  const LoraRun orig = lora_dataflow(c, c.w, f32, s, 0, sorted_mm);
  LoraCase p = c;
  p.x = gather_columns(c.x, perm);
  p.w = gather_columns(c.w, perm);
  p.a = gather_columns(c.a, perm);
  const LoraRun moved = lora_dataflow(p, p.w, f32, s, 0, sorted_mm);
  const Matrix dx = gather_columns(orig.d.x, perm), da = gather_columns(orig.d.a, perm);
  out.push_back(bitwise("ogr-invariance", "lora", {{&moved.y, &orig.y}, {&moved.d.x, &dx}, {&moved.d.a, &da}, {&moved.d.b, &orig.d.b}},
                        "max ulps of y, dx, dA, dB: original order vs weak columns last"));

  // QEFT: its layout is the reordered one (weak columns last); the original layer reads oweight's
  // inputs where the packer says they are (outlieridx).
  const qeft::Packed q = qeft_test_layer(8, ic, weak, 72);
  Matrix w4(q.oc, ic);
  w4.v = ref::qeft_dequantize(q, qeft::Path::nowc);
  const Matrix o = WeakColumnLinear(q).oweight();
  const Matrix x = gaussian(6, ic, 1.0f, 73), g = gaussian(6, q.oc, 1e-6f, 74);
  std::vector<std::int32_t> tail(weak.size());
  for (std::size_t j = 0; j < tail.size(); ++j) tail[j] = static_cast<std::int32_t>(ic - weak.size() + j);
  const WeakRun layout = sorted_weak(w4, o, tail, gather_columns(x, perm), g);
  const WeakRun original = sorted_weak(gather_columns(w4, back), o, q.outlieridx, x, g);
  const Matrix wdx = gather_columns(original.d.x, perm);
  out.push_back(bitwise("ogr-invariance", "qeft weak-column",
                        {{&layout.y, &original.y}, {&layout.d.x, &wdx}, {&layout.d.oweight, &original.d.oweight}},
                        "max ulps of y, dx, dO: original order vs QEFT's layout"));
  return out;
}

std::vector<ValidationResult> validate_stochastic_rounding() {
  const Matrix g = gaussian(8, 64, 1e-6f, 61);
  std::vector<ValidationResult> out;
  for (int bits : {8, 6, 5}) {
    const OperandFormat f = OperandFormat::gse(bits, Rounding::sr);
    const SrGrid grid = sr_grid(g, f);
    std::vector<double> sum(g.size(), 0.0);
    const auto add_seeds = [&](std::uint64_t from, std::uint64_t to) {
      for (std::uint64_t s = from; s < to; ++s) {
        const Matrix q = quantize_rows(g, f, s);
        for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += q.v[i];
      }
    };
    add_seeds(0, 64);
    const MeanError few = mean_error(g, grid, sum, 64);
    add_seeds(64, 1024);
    const MeanError many = mean_error(g, grid, sum, 1024);
    // The mean of m squared errors has relative sd ~ sqrt(2 / m) (6% for m ~ 500), its root half
    // that: a band of 0.15 is over 4 sd.
    for (const MeanError* e : {&few, &many})
      out.push_back(result("sr-unbiased", fmt::format("gse{} S={} rms", bits, e->seeds), std::fabs(e->rms / e->expected - 1),
                           0.15, e->m,
                           fmt::format("|rms / expected - 1|: rms {:.5f} step, expected sqrt(mean f(1-f) / S) = {:.5f}{}",
                                       e->rms, e->expected,
                                       e == &many ? fmt::format("; S=64 rms / this = {:.2f} (4)", few.rms / many.rms) : "")));
    // One rounding's error spans one step, so by Hoeffding and a union bound over the m elements,
    // P(max |mean error| > t) <= 2 m exp(-2 S t^2): t at probability 1e-3.
    const double t = std::sqrt(std::log(2 * static_cast<double>(many.m) / 1e-3) / (2 * static_cast<double>(many.seeds)));
    out.push_back(result("sr-unbiased", fmt::format("gse{} S=1024 max", bits), many.worst, t, many.m,
                         fmt::format("max |mean - x| in steps (Hoeffding at 1e-3); {} saturating elements excluded",
                                     grid.excluded)));
    out.push_back(result("sr-unbiased", fmt::format("gse{} S=1024 bias", bits), std::fabs(many.bias), 5 * many.bias_sd,
                         many.m, "|mean over elements of the signed error| in steps; bound 5 sd of an unbiased rounding"));
  }
  return out;
}

std::vector<ValidationResult> validate_all() {
  std::vector<ValidationResult> all;
  for (auto* check : {validate_finite_differences, validate_quantized_backward, validate_quantization_error,
                      validate_weak_column_gradient, validate_ogr_invariance, validate_stochastic_rounding})
    for (ValidationResult& r : check()) all.push_back(std::move(r));
  return all;
}

}  // namespace lowbit::training
