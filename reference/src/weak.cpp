#include "lowbit/reference/weak.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "lowbit/reference/binary_float.hpp"
#include "lowbit/reference/torch_ops.hpp"
#include "require.hpp"

namespace lowbit::ref {

float f16_to_f32(std::uint16_t bits) { return convert_nearest<float>(f16{bits}); }
std::uint16_t f32_to_f16(float x) { return convert_nearest<f16>(x).bits; }

// a * f16(b) + f16(c) is exact in binary64: both terms are multiples of 2^-24 below 2^21 (a is a
// code, at most 15), so the conversion to binary16 is the one rounding.
std::uint16_t fma_f16(int a, std::uint16_t b, std::uint16_t c) {
  const double exact = static_cast<double>(a) * static_cast<double>(f16_to_f32(b)) + static_cast<double>(f16_to_f32(c));
  return convert_nearest<f16>(exact).bits;
}

namespace {

// The zero point as the packers store it: the symmetric quantizer's 0 moves to 2^(b-1) (pack's
// `zeros += 2**(bits-1)`); an asymmetric one is kept as it is, the sign of a zero included.
float packed_zero(float zero, const weak::QuantOptions& o) {
  return o.sym ? zero + static_cast<float>(1 << (o.bits - 1)) : zero;
}

float round_even(float x) { return std::nearbyint(x); }  // torch.round: the default mode, ties to even
float clampf(float v, float lo, float hi) { return std::min(std::max(v, lo), hi); }

// |e|^2.4f in fp32: torch's vectorized pow takes the exponent as the float 2.4f; lowbit uses its
// correctly rounded value (docs: torch's own CPU builds differ here by an ulp at most).
float loss_term(float e) {
  return static_cast<float>(std::pow(static_cast<double>(std::fabs(e)), static_cast<double>(weak::kLossPower)));
}

// lp_loss(x, q(x), 2.4) for one row: torch's fp32 row mean of the elementwise terms.
float lp_loss(std::span<const float> x, std::span<const float> xr, float scale, float zero, const weak::QuantOptions& o,
              std::vector<float>& terms) {
  const float lo = static_cast<float>(o.minq()), hi = static_cast<float>(o.maxq());
  for (std::size_t j = 0; j < x.size(); ++j) {
    const float xq = scale * (clampf(xr[j] + zero, lo, hi) - zero);
    terms[j] = loss_term(x[j] - xq);
  }
  return torch_mean_f32(terms);
}

WeakGroupParams find_minmax(float xmin, float xmax, const weak::QuantOptions& o) {
  if (o.sym) {
    xmax = std::max(std::fabs(xmin), xmax);
    if (xmin < 0) xmin = -xmax;
  }
  if (xmin == 0 && xmax == 0) {
    xmin = -1;
    xmax = 1;
  }
  if (o.sym) return {xmax / static_cast<float>(-o.minq()), 0.0f};
  const float scale = (xmax - xmin) / static_cast<float>(o.maxq());
  return {scale, round_even(-xmin / scale)};
}

WeakGroupParams find_mse_sym(std::span<const float> x, float xmin, float xmax, const weak::QuantOptions& o) {
  const float xrange = std::max(std::fabs(xmin), xmax), grid = static_cast<float>(o.grid);
  const float neg_minq = static_cast<float>(-o.minq());
  float best_score = weak::kInitialLoss, best_max = xmax;
  std::vector<float> xr(x.size()), terms(x.size());
  for (int i = 1; i <= o.grid; ++i) {
    const float tmp_max = xrange / grid * static_cast<float>(i);
    const float scale = std::max(tmp_max / neg_minq, weak::kMinScale);
    for (std::size_t j = 0; j < x.size(); ++j) xr[j] = round_even(x[j] / scale);
    const float score = lp_loss(x, xr, scale, 0.0f, o, terms);
    if (score < best_score) best_max = tmp_max;
    best_score = std::min(score, best_score);
  }
  return {std::max(std::max(best_max, 0.0f) / neg_minq, weak::kMinScale), 0.0f};
}

WeakGroupParams find_mse_asym(std::span<const float> x, float xmin, float xmax, const weak::QuantOptions& o) {
  const float xrange = xmax - xmin, grid = static_cast<float>(o.grid);
  const float lo = static_cast<float>(o.minq()), hi = static_cast<float>(o.maxq()), levels = hi - lo;
  const float tmp_min = 0.0f;
  float best_score = weak::kInitialLoss, best_min = xmin, best_max = xmax;
  std::vector<float> xr(x.size()), terms(x.size());
  for (int i = 1; i <= o.grid; ++i) {
    const float tmp_max = xrange / grid * static_cast<float>(i);
    const float delta = std::max((tmp_max - tmp_min) / levels, weak::kMinScale);
    for (std::size_t j = 0; j < x.size(); ++j) xr[j] = round_even(x[j] / delta);
    for (int zp = 0; zp <= o.maxq() - o.minq(); ++zp) {
      const float shift = static_cast<float>(zp) * delta;
      const float new_min = tmp_min - shift, new_max = tmp_max - shift;
      const float zero = clampf(lo - round_even(new_min / delta), lo, hi);
      const float score = lp_loss(x, xr, delta, zero, o, terms);
      if (score < best_score) {  // strict: the first minimum stays
        best_min = new_min;
        best_max = new_max;
      }
      best_score = std::min(best_score, score);
    }
  }
  const float min_neg = std::min(best_min, 0.0f), max_pos = std::max(best_max, 0.0f);
  const float scale = std::max((max_pos - min_neg) / levels, weak::kMinScale);
  return {scale, clampf(lo - round_even(min_neg / scale), lo, hi)};
}

}  // namespace

WeakGroupParams weak_find_params(std::span<const float> x, const weak::QuantOptions& o) {
  require(!x.empty(), "weak_find_params: empty group");
  // xmin = min(min x, 0), xmax = max(max x, 0); a zero extreme is +0 (the vectorized
  // torch.minimum returns its second operand, the zeros tensor, when both compare equal).
  float m = x[0], M = x[0];
  for (float v : x) {
    m = std::min(m, v);
    M = std::max(M, v);
  }
  const float xmin = m < 0 ? m : 0.0f, xmax = M > 0 ? M : 0.0f;
  if (o.tuning == weak::Tuning::minmax) return find_minmax(xmin, xmax, o);
  return o.sym ? find_mse_sym(x, xmin, xmax, o) : find_mse_asym(x, xmin, xmax, o);
}

float weak_fake_quant(float x, WeakGroupParams p, const weak::QuantOptions& o) {
  const float q = clampf(round_even(x / p.scale) + p.zero, static_cast<float>(o.minq()), static_cast<float>(o.maxq()));
  return p.scale * (q - p.zero);
}

std::vector<std::int32_t> weak_permutation(std::span<const std::int32_t> weak, std::size_t n) {
  std::vector<bool> is_weak(n, false);
  for (std::size_t i = 0; i < weak.size(); ++i) {
    const std::int32_t c = weak[i];
    require(c >= 0 && static_cast<std::size_t>(c) < n, "weak column index out of range");
    require(i == 0 || weak[i - 1] < c, "weak column indices must be ascending and distinct");
    is_weak[static_cast<std::size_t>(c)] = true;
  }
  std::vector<std::int32_t> perm;
  perm.reserve(n);
  for (std::size_t j = 0; j < n; ++j)
    if (!is_weak[j]) perm.push_back(static_cast<std::int32_t>(j));
  perm.insert(perm.end(), weak.begin(), weak.end());
  return perm;
}

WeakQuantized weak_quantize(weak::Layout layout, std::span<const float> w, std::size_t oc, std::size_t ic,
                            std::span<const std::int32_t> weak, const weak::QuantOptions& o) {
  const std::size_t k = weak.size();
  if (const std::string_view e = weak::shape_error(layout, oc, ic, k, o); !e.empty())
    throw Error(fmt::format("{} (OC {}, IC {}, k {}, group {})", e, oc, ic, k, o.group));
  require(w.size() == oc * ic, "weak_quantize: the weight holds " + std::to_string(w.size()) + " values, not OC x IC");
  for (std::size_t i = 1; i < k; ++i) require(weak[i - 1] < weak[i], "weak column indices must be ascending and distinct");
  for (std::size_t i = 0; i < w.size(); ++i)
    require(std::isfinite(w[i]) && std::isfinite(f16_to_f32(f32_to_f16(w[i]))),
            "weight element " + std::to_string(i) + " is not finite in binary16 (every layout stores fp16)");

  WeakQuantized q;
  q.layout = layout;
  q.options = o;
  q.oc = oc;
  q.ic = ic;
  q.k = k;
  q.weak.assign(weak.begin(), weak.end());
  q.perm = weak_permutation(weak, ic);
  if (layout == weak::Layout::owq)  // OWQ keeps the original order; it quantizes the same columns
    for (std::size_t j = 0; j < ic; ++j) q.perm[j] = static_cast<std::int32_t>(j);
  const std::vector<std::int32_t> quantized = weak_permutation(weak, ic);  // non-weak ascending first
  const std::size_t nonweak = ic - k, gcols = weak::group_columns(ic, o.group);
  q.groups = layout == weak::Layout::qeft ? weak::groups(ic, o.group) : 1;
  q.scale.resize(oc * q.groups);
  q.zero.resize(oc * q.groups);
  q.fakeq.resize(oc * ic);

  std::vector<float> row(ic);
  for (std::size_t r = 0; r < oc; ++r) {
    for (std::size_t j = 0; j < ic; ++j) row[j] = w[r * ic + static_cast<std::size_t>(quantized[j])];
    // Groups of the non-weak columns (in the order [non-weak ascending]); the last may be
    // partial; a group of weak columns only copies the one before it.
    std::vector<WeakGroupParams> params(q.groups);
    for (std::size_t g = 0; g < q.groups; ++g) {
      const std::size_t start = g * gcols, end = std::min(start + gcols, nonweak);
      params[g] = start < nonweak ? weak_find_params(std::span(row).subspan(start, end - start), o) : params[g - 1];
      q.scale[r * q.groups + g] = params[g].scale;
      q.zero[r * q.groups + g] = params[g].zero;
    }
    // fakeq in layout order.
    for (std::size_t j = 0; j < ic; ++j) {
      const std::size_t src = static_cast<std::size_t>(q.perm[j]);
      const float v = w[r * ic + src];
      const bool is_weak = layout == weak::Layout::qeft ? j >= nonweak : std::binary_search(weak.begin(), weak.end(), static_cast<std::int32_t>(j));
      const std::size_t g = layout == weak::Layout::qeft ? j / gcols : 0;
      q.fakeq[r * ic + j] = is_weak ? v : weak_fake_quant(v, params[g], o);
    }
  }
  return q;
}

std::vector<std::uint8_t> weak_codes(const WeakQuantized& q, std::vector<weak::Clamp>* clamped) {
  const weak::QuantOptions& o = q.options;
  const std::size_t gcols = weak::group_columns(q.ic, o.group), nonweak = q.ic - q.k;
  const float code_max = static_cast<float>((1 << o.bits) - 1);
  std::vector<std::uint8_t> codes(q.oc * q.ic);
  for (std::size_t r = 0; r < q.oc; ++r)
    for (std::size_t j = 0; j < q.ic; ++j) {
      const std::size_t g = q.layout == weak::Layout::qeft ? j / gcols : 0;
      const float s = q.scale[r * q.groups + g], z = packed_zero(q.zero[r * q.groups + g], o);
      const bool is_weak = q.layout == weak::Layout::qeft
                               ? j >= nonweak
                               : std::binary_search(q.weak.begin(), q.weak.end(), static_cast<std::int32_t>(j));
      if (is_weak) {
        codes[r * q.ic + j] = static_cast<std::uint8_t>(z);
        continue;
      }
      const float v = round_even((f16_to_f32(f32_to_f16(q.fakeq[r * q.ic + j])) + z * s) / s);
      const float c = std::isnan(v) ? 0.0f : clampf(v, 0.0f, code_max);
      if (c != v && clamped) clamped->push_back({r, j, static_cast<double>(v)});
      codes[r * q.ic + j] = static_cast<std::uint8_t>(c);
    }
  return codes;
}

namespace {

void validate_outlieridx(std::span<const std::int32_t> idx, std::size_t k, std::size_t ic) {
  require(idx.size() == k, "outlieridx must hold k indices");
  for (std::size_t i = 0; i < k; ++i)
    require(idx[i] >= 0 && static_cast<std::size_t>(idx[i]) < ic && (i == 0 || idx[i - 1] < idx[i]),
            "outlieridx must be ascending, distinct and below IC");
}

}  // namespace

// ---- QEFT ---------------------------------------------------------------------------------------------

namespace {

// The qweight int16 index and nibble holding code (o, j): qweight[R][64b + 16r + 8h + t] nibble n
// holds column 64b + 32h + 8n + t of row 4R + r.
struct QeftSlot {
  std::size_t index;
  unsigned shift;
};
QeftSlot qeft_slot(std::size_t o, std::size_t j, std::size_t ic) {
  const std::size_t R = o / 4, r = o % 4, b = j / 64, h = (j % 64) / 32, n = (j % 32) / 8, t = j % 8;
  return {R * ic + 64 * b + 16 * r + 8 * h + t, static_cast<unsigned>(4 * n)};
}

}  // namespace

std::vector<std::int16_t> qeft_pack_codes(std::span<const std::uint8_t> codes, std::size_t oc, std::size_t ic) {
  require(codes.size() == oc * ic && oc % 4 == 0 && ic % 64 == 0, "qeft_pack_codes: bad shape");
  std::vector<std::uint16_t> words(oc / 4 * ic, 0);
  for (std::size_t o = 0; o < oc; ++o)
    for (std::size_t j = 0; j < ic; ++j) {
      const QeftSlot s = qeft_slot(o, j, ic);
      words[s.index] = static_cast<std::uint16_t>(words[s.index] | (codes[o * ic + j] & 0xF) << s.shift);
    }
  return {words.begin(), words.end()};  // uint16 -> int16: the same bits
}

std::vector<std::uint8_t> qeft_unpack_codes(std::span<const std::int16_t> qweight, std::size_t oc, std::size_t ic) {
  require(qweight.size() == oc / 4 * ic && oc % 4 == 0 && ic % 64 == 0, "qeft_unpack_codes: bad shape");
  std::vector<std::uint8_t> codes(oc * ic);
  for (std::size_t o = 0; o < oc; ++o)
    for (std::size_t j = 0; j < ic; ++j) {
      const QeftSlot s = qeft_slot(o, j, ic);
      codes[o * ic + j] = static_cast<std::uint8_t>((static_cast<std::uint16_t>(qweight[s.index]) >> s.shift) & 0xF);
    }
  return codes;
}

// oweight_interleaved[r][2c + h] = oweight[8 floor(r/4) + r%4 + 4h][c].
std::vector<std::uint16_t> qeft_interleave_oweight(std::span<const std::uint16_t> oweight, std::size_t oc, std::size_t k) {
  require(oweight.size() == oc * k && oc % 8 == 0, "qeft_interleave_oweight: bad shape");
  std::vector<std::uint16_t> out(oc * k);
  for (std::size_t r = 0; r < oc / 2; ++r)
    for (std::size_t c = 0; c < k; ++c)
      for (std::size_t h = 0; h < 2; ++h) out[r * 2 * k + 2 * c + h] = oweight[(8 * (r / 4) + r % 4 + 4 * h) * k + c];
  return out;
}

qeft::Packed qeft_pack(const WeakQuantized& q, std::vector<weak::Clamp>* clamped) {
  require(q.layout == weak::Layout::qeft, "qeft_pack: not a QEFT quantization");
  qeft::Packed p;
  p.oc = q.oc;
  p.ic = q.ic;
  p.k = q.k;
  p.group = weak::group_columns(q.ic, q.options.group);
  p.qweight = qeft_pack_codes(weak_codes(q, clamped), q.oc, q.ic);
  p.scales.resize(q.groups * q.oc);
  p.scaled_zeros.resize(q.groups * q.oc);
  for (std::size_t g = 0; g < q.groups; ++g)
    for (std::size_t o = 0; o < q.oc; ++o) {
      const float s = q.scale[o * q.groups + g], z = packed_zero(q.zero[o * q.groups + g], q.options);
      p.scales[g * q.oc + o] = f32_to_f16(s);
      p.scaled_zeros[g * q.oc + o] = f32_to_f16(z * s) ^ 0x8000;  // -fp16(z * s): the product in fp32
    }
  p.oweight.resize(q.oc * q.k);
  for (std::size_t o = 0; o < q.oc; ++o)
    for (std::size_t c = 0; c < q.k; ++c) p.oweight[o * q.k + c] = f32_to_f16(q.fakeq[o * q.ic + q.ic - q.k + c]);
  p.oweight_interleaved = qeft_interleave_oweight(p.oweight, q.oc, q.k);
  p.outlieridx = q.weak;
  return p;
}

void qeft_validate(const qeft::Packed& p) {
  weak::QuantOptions o;
  o.group = p.group == p.ic ? 0 : static_cast<int>(p.group);
  if (const std::string_view e = weak::shape_error(weak::Layout::qeft, p.oc, p.ic, p.k, o); !e.empty())
    throw Error(fmt::format("{} (OC {}, IC {}, k {}, group {})", e, p.oc, p.ic, p.k, p.group));
  const std::size_t groups = p.ic / p.group;
  require(p.qweight.size() == p.oc / 4 * p.ic, "qweight must hold OC/4 x IC int16");
  require(p.scales.size() == groups * p.oc && p.scaled_zeros.size() == groups * p.oc,
          "scales and scaled_zeros must hold IC/group x OC values");
  require(p.oweight.size() == p.oc * p.k, "oweight must hold OC x k values");
  require(p.oweight_interleaved.size() == p.oc * p.k, "oweight_interleaved must hold OC/2 x 2k values");
  validate_outlieridx(p.outlieridx, p.k, p.ic);
}

std::vector<float> qeft_dequantize(const qeft::Packed& p, qeft::Path path) {
  qeft_validate(p);
  const std::vector<std::uint8_t> codes = qeft_unpack_codes(p.qweight, p.oc, p.ic);
  std::vector<float> w(p.oc * p.ic);
  const std::size_t nonweak = p.ic - p.k;
  for (std::size_t o = 0; o < p.oc; ++o)
    for (std::size_t j = 0; j < p.ic; ++j) {
      const std::size_t g = j / p.group;
      const std::uint16_t v = path == qeft::Path::gemv && j >= nonweak
                                  ? p.oweight[o * p.k + j - nonweak]
                                  : fma_f16(codes[o * p.ic + j], p.scales[g * p.oc + o], p.scaled_zeros[g * p.oc + o]);
      w[o * p.ic + j] = f16_to_f32(v);
    }
  return w;
}

// ---- OWQ ----------------------------------------------------------------------------------------------

std::vector<std::int32_t> owq_pack_codes(std::span<const std::uint8_t> codes, std::size_t oc, std::size_t ic, int bits) {
  require(codes.size() == oc * ic && ic % 32 == 0 && (bits == 3 || bits == 4), "owq_pack_codes: bad shape");
  const std::size_t words = owq::words(ic, bits);
  std::vector<std::uint32_t> qw(words * oc, 0);
  const unsigned mask = (1u << bits) - 1;
  for (std::size_t o = 0; o < oc; ++o)
    for (std::size_t i = 0; i < ic; ++i) {
      // Bit position of input i in the row's little-endian bit string of words.
      const std::size_t bit = i * static_cast<std::size_t>(bits), word = bit / 32, off = bit % 32;
      const std::uint64_t v = static_cast<std::uint64_t>(codes[o * ic + i] & mask) << off;
      qw[word * oc + o] |= static_cast<std::uint32_t>(v);
      if (off + static_cast<std::size_t>(bits) > 32) qw[(word + 1) * oc + o] |= static_cast<std::uint32_t>(v >> 32);
    }
  return {qw.begin(), qw.end()};
}

std::vector<std::uint8_t> owq_unpack_codes(std::span<const std::int32_t> qweight, std::size_t oc, std::size_t ic, int bits) {
  require(ic % 32 == 0 && (bits == 3 || bits == 4) && qweight.size() == owq::words(ic, bits) * oc, "owq_unpack_codes: bad shape");
  std::vector<std::uint8_t> codes(oc * ic);
  const unsigned mask = (1u << bits) - 1;
  for (std::size_t o = 0; o < oc; ++o)
    for (std::size_t i = 0; i < ic; ++i) {
      const std::size_t bit = i * static_cast<std::size_t>(bits), word = bit / 32, off = bit % 32;
      std::uint64_t v = static_cast<std::uint32_t>(qweight[word * oc + o]);
      if (off + static_cast<std::size_t>(bits) > 32) v |= static_cast<std::uint64_t>(static_cast<std::uint32_t>(qweight[(word + 1) * oc + o])) << 32;
      codes[o * ic + i] = static_cast<std::uint8_t>((v >> off) & mask);
    }
  return codes;
}

owq::Packed owq_pack(const WeakQuantized& q, std::vector<weak::Clamp>* clamped) {
  require(q.layout == weak::Layout::owq, "owq_pack: not an OWQ quantization");
  owq::Packed p;
  p.oc = q.oc;
  p.ic = q.ic;
  p.k = q.k;
  p.bits = q.options.bits;
  p.qweight = owq_pack_codes(weak_codes(q, clamped), q.oc, q.ic, p.bits);
  p.scales.resize(q.oc);
  p.zeros.assign(q.oc / 2, 0);
  for (std::size_t o = 0; o < q.oc; ++o) {
    p.scales[o] = f32_to_f16(q.scale[o]);
    const auto z = static_cast<std::uint8_t>(packed_zero(q.zero[o], q.options));
    p.zeros[o / 2] = static_cast<std::uint8_t>(p.zeros[o / 2] | z << (4 * (o % 2)));
  }
  p.oweight.resize(q.k * q.oc);
  for (std::size_t c = 0; c < q.k; ++c)
    for (std::size_t o = 0; o < q.oc; ++o)
      p.oweight[c * q.oc + o] = f32_to_f16(q.fakeq[o * q.ic + static_cast<std::size_t>(q.weak[c])]);
  p.outlieridx = q.weak;
  return p;
}

void owq_validate(const owq::Packed& p) {
  weak::QuantOptions o;
  o.bits = p.bits;
  o.group = 0;
  if (const std::string_view e = weak::shape_error(weak::Layout::owq, p.oc, p.ic, p.k, o); !e.empty())
    throw Error(fmt::format("{} (OC {}, IC {}, k {}, {} bits)", e, p.oc, p.ic, p.k, p.bits));
  require(p.qweight.size() == owq::words(p.ic, p.bits) * p.oc, "qweight must hold IC/32*bits x OC int32");
  require(p.scales.size() == p.oc, "scales must hold OC values");
  require(p.zeros.size() == p.oc / 2, "zeros must hold OC/2 bytes");
  require(p.oweight.size() == p.k * p.oc, "oweight must hold k x OC values");
  validate_outlieridx(p.outlieridx, p.k, p.ic);
}

std::vector<float> owq_dequantize(const owq::Packed& p, owq::Path path) {
  owq_validate(p);
  const std::vector<std::uint8_t> codes = owq_unpack_codes(p.qweight, p.oc, p.ic, p.bits);
  std::vector<float> w(p.oc * p.ic);
  for (std::size_t o = 0; o < p.oc; ++o) {
    const int zq = (p.zeros[o / 2] >> (4 * (o % 2))) & 0xF;
    const std::uint16_t s16 = p.scales[o];
    const float s = f16_to_f32(s16);
    const std::uint16_t zneg = f32_to_f16(-(static_cast<float>(zq) * s));  // hmul(int2half(z), -scale): exact product
    for (std::size_t i = 0; i < p.ic; ++i) {
      const int q = codes[o * p.ic + i];
      w[o * p.ic + i] = path == owq::Path::fp32 ? s * static_cast<float>(q) - static_cast<float>(zq) * s
                                              : f16_to_f32(fma_f16(q, s16, zneg));
    }
    if (path == owq::Path::nowc) continue;
    for (std::size_t c = 0; c < p.k; ++c)
      w[o * p.ic + static_cast<std::size_t>(p.outlieridx[c])] = f16_to_f32(p.oweight[c * p.oc + o]);
  }
  return w;
}

// ---- matvec -------------------------------------------------------------------------------------------

void qeft_matvec_ref(const qeft::Matrix* w, const float* x, float* y) {
  const std::size_t nonweak = w->ic - w->k;
  for (std::size_t o = 0; o < w->oc; ++o) {
    float acc[8] = {};
    for (std::size_t j = 0; j < w->ic; ++j) {
      std::uint16_t v;
      if (j < nonweak) {
        const QeftSlot s = qeft_slot(o, j, w->ic);
        const int code = (static_cast<std::uint16_t>(w->qweight[s.index]) >> s.shift) & 0xF;
        const std::size_t g = j / w->group;
        v = fma_f16(code, w->scales[g * w->oc + o], w->scaled_zeros[g * w->oc + o]);
      } else {
        v = w->oweight[o * w->k + j - nonweak];
      }
      acc[j % 8] = std::fma(f16_to_f32(v), x[j], acc[j % 8]);
    }
    y[o] = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
  }
}


}  // namespace lowbit::ref

namespace lowbit::kernels {
using namespace lowbit::ref;

const qeft::Impl qeft_reference{.matvec = qeft_matvec_ref};

}  // namespace lowbit::kernels
