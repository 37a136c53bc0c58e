#include "lowbit/reference/nf4.hpp"

#include <algorithm>
#include <boost/multiprecision/cpp_bin_float.hpp>
#include <cfloat>
#include <cmath>
#include <limits>

#include "lowbit/error.hpp"

namespace lowbit::ref {
namespace {

constexpr float kQuietNan = std::numeric_limits<float>::quiet_NaN();

// The NaN an invalid operation (0 * Inf, Inf - Inf) returns is x86's default NaN 0xFFC00000 on
// every platform (aarch64's is 0x7FC00000); a NaN operand propagates, as on both.
float x86_nan(float r, float a, float b) {
  if (std::isnan(r) && !std::isnan(a) && !std::isnan(b)) return std::bit_cast<float>(0xFFC00000u);
  return r;
}
float mul_f32(float a, float b) { return x86_nan(a * b, a, b); }
float add_f32(float a, float b) { return x86_nan(a + b, a, b); }

// ---- torch's elementwise semantics (NaN propagates through max and clamp) ----

float torch_clamp_min(float a, float lo) { return std::isnan(a) ? a : std::max(a, lo); }
float torch_clamp(float v, float lo, float hi) { return std::isnan(v) ? v : std::min(std::max(v, lo), hi); }

float torch_abs_max(const float* x, std::size_t len) {
  float m = 0;
  for (std::size_t i = 0; i < len; ++i) {
    if (std::isnan(x[i])) return x[i];
    m = std::max(m, std::fabs(x[i]));
  }
  return m;
}

// CUDA's reduction: fmaxf(fabsf(x)) from -FLT_MAX (fmaxf ignores NaN); the lanes past n of a
// partial block load 0.0f.
float cuda_abs_max(const float* x, std::size_t len, bool partial) {
  float m = -FLT_MAX;
  for (std::size_t i = 0; i < len; ++i) m = std::fmax(m, std::fabs(x[i]));
  if (partial) m = std::fmax(m, 0.0f);
  return m;
}

// ---- 4-bit code search ----

// torch.bucketize(v, bounds) with right=False: #{k : bounds[k] < v}; NaN goes past every bound.
template <std::size_t N> unsigned bucketize(float v, const std::array<float, N>& bounds) {
  if (std::isnan(v)) return N;
  unsigned c = 0;
  while (c < N && bounds[c] < v) ++c;
  return c;
}

std::uint8_t search_torch(nf4::Table t, float v) {
  static const std::array<float, 15> mid_nf4 = fp32_midpoints(nf4::Table::nf4);
  static const std::array<float, 15> mid_fp4 = fp32_midpoints(nf4::Table::fp4);
  static const std::array<std::uint8_t, 16> order_nf4 = sorted_codes(nf4::Table::nf4);
  static const std::array<std::uint8_t, 16> order_fp4 = sorted_codes(nf4::Table::fp4);
  return t == nf4::Table::nf4 ? order_nf4[bucketize(v, mid_nf4)] : order_fp4[bucketize(v, mid_fp4)];
}

std::uint8_t search_cuda(nf4::Table t, float v) {
  if (t == nf4::Table::nf4) {
    std::uint8_t c = 0;  // NaN compares false everywhere: 0
    for (std::uint32_t bits : nf4::kNf4CudaThresholdBits) c += v > std::bit_cast<float>(bits);
    return c;
  }
  const std::uint8_t sign = v < 0 ? 8 : 0;
  const float a = std::fabs(v);
  unsigned k = 0;
  for (float th : nf4::kFp4CudaThresholds) k += a > th;
  return static_cast<std::uint8_t>(nf4::kFp4CudaMagnitudeCodes[k] + sign);
}

// lowbit: the table value nearest to x / absmax, exactly. The midpoints of adjacent sorted table
// values are exact in double (at most 26 significant bits) and so is midpoint * absmax (<= 50
// bits, no overflow or underflow in double's range): x > mid * absmax decides each step. A tie
// stays on the smaller value; a zero result is zero_code.
std::uint8_t search_exact(nf4::Table t, float x, float absmax) {
  const std::array<std::uint8_t, 16> order = sorted_codes(t);
  unsigned c = 0;
  for (unsigned k = 0; k < 15; ++k) {
    const double mid = (static_cast<double>(table_value(t, order[k])) + table_value(t, order[k + 1])) / 2;
    c += static_cast<double>(x) > mid * absmax;
  }
  const std::uint8_t code = order[c];
  return table_value(t, code) == 0 ? zero_code(t) : code;
}

// How one block is scaled: everything the code search of its elements needs.
struct BlockScale {
  float stored;      // the absmax written out
  float multiplier;  // v = x * multiplier, or
  float divisor;     // v = x / divisor (torch's partial block)
  bool divide;
  bool nan_block;    // lowbit: NaN/Inf in the block
};

BlockScale block_scale(const nf4::Params& p, const float* x, std::size_t len, bool partial) {
  BlockScale s{0, 1, 1, false, false};
  switch (p.profile.absmax) {
    case nf4::Absmax::exact_nan_block: {
      float m = 0;
      for (std::size_t i = 0; i < len; ++i) {
        if (!std::isfinite(x[i])) s.nan_block = true;
        else m = std::max(m, std::fabs(x[i]));
      }
      s.stored = s.nan_block ? kQuietNan : m;
      return s;
    }
    case nf4::Absmax::torch_max: {
      const float m = torch_abs_max(x, len);
      if (partial) {  // torch: am = max.clamp(min=1e-38), stored, and x / am
        s.stored = torch_clamp_min(m, nf4::kBnbAbsmaxClamp);
        s.divisor = s.stored;
        s.divide = true;
      } else {        // torch: absmax stored as is, x * (1 / absmax.clamp(min=1e-38))
        s.stored = m;
        s.multiplier = 1.0f / torch_clamp_min(m, nf4::kBnbAbsmaxClamp);
      }
      return s;
    }
    case nf4::Absmax::cuda_fmaxf:
      s.stored = cuda_abs_max(x, len, partial);
      s.multiplier = 1.0f / s.stored;
      return s;
  }
  return s;
}

std::uint8_t element_code(const nf4::Params& p, const BlockScale& s, float x) {
  const nf4::Table t = p.table;
  switch (p.profile.search) {
    case nf4::Search::exact_nearest:
      if (s.nan_block || s.stored == 0) return zero_code(t);
      return search_exact(t, x, s.stored);
    case nf4::Search::fp32_midpoints: {
      const float v = s.divide ? x / s.divisor : x * s.multiplier;
      return search_torch(t, torch_clamp(v, -1.0f, 1.0f));
    }
    case nf4::Search::cuda_thresholds:
      return search_cuda(t, x * s.multiplier);
  }
  return 0;
}

// ---- 8-bit nested quantizers ----

using Exact = boost::multiprecision::number<boost::multiprecision::cpp_bin_float<320>>;

// The index of the map entry nearest to a / m (m > 0, or m = 0 meaning ratio 0) in exact
// arithmetic, ties to the even index. 2a is compared with (map[k] + map[k+1]) * m, exactly.
std::uint8_t nearest_even(std::span<const float, 256> map, float a, float m) {
  const Exact twice_a = m == 0 ? Exact(0) : Exact(a) * 2;
  const Exact scale = m == 0 ? Exact(1) : Exact(m);
  const auto mid_times_m = [&](int k) { return (Exact(map[k]) + Exact(map[k + 1])) * scale; };
  int lo = 0, hi = 255;  // #{k : mid_k * m < 2a} lies in [lo, hi]
  while (lo < hi) {
    const int k = (lo + hi) / 2;
    if (mid_times_m(k) < twice_a) lo = k + 1;
    else hi = k;
  }
  if (lo < 255 && mid_times_m(lo) == twice_a && lo % 2 == 1) ++lo;  // tie between lo and lo + 1
  return static_cast<std::uint8_t>(lo);
}

// CUDA dQuantize<0>: probe 127, then move by 64, 32, ..., 1 (right when v > probe), remembering
// the last probe on each side (initially 0 / -1.0 and 255 / 1.0, the ends read from the map);
// the final probe p is even. Then compare v with the fp32 midpoint fl(fl(p + neighbour) * 0.5)
// on v's side: strictly beyond it -> the neighbour, else p. NaN -> 0.
std::uint8_t cuda_binary_search(std::span<const float, 256> map, float v) {
  int pivot = 127, upper_pivot = 255, lower_pivot = 0;
  float lower = -1.0f, upper = 1.0f;
  float val = map[pivot];
  for (int step = 64; step > 0; step >>= 1) {
    if (v > val) {
      lower_pivot = pivot;
      lower = val;
      pivot += step;
    } else {
      upper_pivot = pivot;
      upper = val;
      pivot -= step;
    }
    val = map[pivot];
  }
  if (upper_pivot == 255) upper = map[255];
  if (lower_pivot == 0) lower = map[0];
  if (v > val) {
    const float midpoint = (upper + val) * 0.5f;
    return static_cast<std::uint8_t>(v > midpoint ? upper_pivot : pivot);
  }
  const float midpoint = (lower + val) * 0.5f;
  return static_cast<std::uint8_t>(v < midpoint ? lower_pivot : pivot);
}

// bnb 0.50 quantize_cpu's table: 65536 evenly spaced points of [-1, 1] to the first code whose
// fp32 midpoint with the next code is not below the point.
std::vector<std::uint8_t> cpu_lut(std::span<const float, 256> map) {
  std::array<float, 255> mid;
  for (int k = 0; k < 255; ++k) mid[k] = 0.5f * (map[k] + map[k + 1]);
  std::vector<std::uint8_t> lut(65536);
  int code = 0;
  for (int i = 0; i < 65536; ++i) {
    const float point = -1.0f + (2.0f * static_cast<float>(i)) / 65535.0f;
    while (code < 255 && mid[code] < point) ++code;
    lut[i] = static_cast<std::uint8_t>(code);
  }
  return lut;
}

// v in [-1, 1] to its table slot: u16(fl(fl(fl(v + 1) * 0.5) * 65535) + 0.5) (truncation); NaN -> 0,
// what the x86 conversion of NaN gives after the u16 cast.
std::size_t cpu_lut_index(float v) {
  v = std::clamp(v, -1.0f, 1.0f);
  if (std::isnan(v)) return 0;
  const float half = (v + 1.0f) * 0.5f;
  const float scaled = half * 65535.0f;
  return static_cast<std::size_t>(static_cast<std::uint16_t>(scaled + 0.5f));
}

}  // namespace

// ---- the 4-bit kernel ----

void nf4_quantize_ref(std::size_t n, const float* in, std::uint8_t* packed, float* absmax, const nf4::Params* p) {
  const std::size_t block = static_cast<std::size_t>(p->block);
  std::fill(packed, packed + nf4::packed_bytes(n), std::uint8_t{0});
  BlockScale last{};
  for (std::size_t b = 0; b * block < n; ++b) {
    const std::size_t start = b * block, len = std::min(block, n - start);
    last = block_scale(*p, in + start, len, len < block);
    absmax[b] = last.stored;
    for (std::size_t i = start; i < start + len; ++i) {
      const std::uint8_t c = element_code(*p, last, in[i]);
      packed[i / 2] |= (i % 2 == 0) ? static_cast<std::uint8_t>(c << 4) : c;
    }
  }
  // Odd n: the low nibble of the last byte codes a 0.0 scaled like the last block (every
  // profile pads with 0.0 after (torch) or before (CUDA) scaling; 0.0 scales to 0 unless 1/absmax
  // is Inf (CUDA, absmax 0): then NaN -> code 0).
  if (n % 2 == 1) packed[n / 2] |= element_code(*p, last, 0.0f);
}

void nf4_dequantize_ref(std::size_t n, const std::uint8_t* packed, const float* absmax, float* out,
                        const nf4::Params* p) {
  const std::size_t block = static_cast<std::size_t>(p->block);
  for (std::size_t i = 0; i < n; ++i) out[i] = mul_f32(table_value(p->table, nf4_code_at(packed, i)), absmax[i / block]);
}


// ---- double quantization ----

// torch.linspace(start, end, steps) in fp32 on the CPU (RangeFactoriesKernel.cpp):
// step = fl((end - start) / (steps - 1)); element idx = start + step * idx below steps / 2, else
// end - step * (steps - 1 - idx), each one fused multiply-add when `fused` (how the AVX2 build
// compiles them), else two roundings. Whole pairs of `lanes`-wide vectors are written as
// fl(base + fl(k * step)) (k = 0 .. lanes-1, never fused), base being the formula at the vector's
// first index (its side of steps / 2 decides for every lane); the rest element by element.
static std::vector<float> torch_linspace(float start, float end, int steps, int lanes, bool fused) {
  std::vector<float> out(static_cast<std::size_t>(steps));
  const float step = (end - start) / static_cast<float>(steps - 1);
  const int halfway = steps / 2;
  const auto at = [&](int idx) {
    const float k = static_cast<float>(idx < halfway ? idx : steps - idx - 1);
    if (idx < halfway) return fused ? std::fma(step, k, start) : start + step * k;
    return fused ? std::fma(-step, k, end) : end - step * k;
  };
  int i = 0;
  for (; lanes > 1 && i + 2 * lanes <= steps; i += 2 * lanes)
    for (int v = i; v < i + 2 * lanes; v += lanes) {
      const float base = at(v);
      for (int k = 0; k < lanes; ++k) out[static_cast<std::size_t>(v + k)] = base + static_cast<float>(k) * step;
    }
  for (; i < steps; ++i) out[static_cast<std::size_t>(i)] = at(i);
  return out;
}

nf4::DynamicMap bnb_dynamic_map(int lanes, bool fused) {
  // fp32(10^(i-6)) for i = 0..6: torch casts the Python float to the tensor's fp32.
  static constexpr double kPowers[7] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};
  std::vector<float> data;
  for (int i = 0; i < 7; ++i) {
    const std::vector<float> b = torch_linspace(0.1f, 1.0f, (1 << i) + 1, lanes, fused);
    const float scale = static_cast<float>(kPowers[i]);
    for (std::size_t k = 0; k + 1 < b.size(); ++k) {
      const float mean = (b[k] + b[k + 1]) / 2.0f;
      data.push_back(scale * mean);
      data.push_back(-scale * mean);
    }
  }
  data.push_back(0.0f);
  data.push_back(1.0f);
  std::sort(data.begin(), data.end());
  nf4::DynamicMap map{};
  std::copy(data.begin(), data.end(), map.begin());
  return map;
}

bool valid_dynamic_map(std::span<const float, 256> map) {
  for (int k = 0; k < 256; ++k) {
    if (!std::isfinite(map[k]) || map[k] < -1.0f || map[k] > 1.0f) return false;
    if (k > 0 && map[k] < map[k - 1]) return false;
  }
  return true;
}


void nf4_nested_quantize(std::span<const float> a, nf4::Nested q, std::span<const float, 256> map,
                         std::span<std::uint8_t> codes, std::span<float> nested_absmax) {
  const std::size_t block = nf4::kNestedBlock, n = a.size();
  if (codes.size() != n || nested_absmax.size() != nf4::blocks(n, nf4::kNestedBlock))
    throw Error("nf4_nested_quantize: wrong output sizes");
  std::array<float, 255> torch_bounds{};
  for (int k = 0; k < 255; ++k) torch_bounds[k] = (map[k] + map[k + 1]) / 2.0f;
  const std::vector<std::uint8_t> lut = q == nf4::Nested::cpu_lut65536 ? cpu_lut(map) : std::vector<std::uint8_t>{};

  for (std::size_t b = 0; b * block < n; ++b) {
    const std::size_t start = b * block, len = std::min(block, n - start);
    const float* x = a.data() + start;
    std::uint8_t* c = codes.data() + start;
    switch (q) {
      case nf4::Nested::exact_nearest_even: {
        float m = 0;
        bool special = false;
        for (std::size_t i = 0; i < len; ++i) {
          if (!std::isfinite(x[i])) special = true;
          else m = std::max(m, std::fabs(x[i]));
        }
        nested_absmax[b] = special ? kQuietNan : m;
        for (std::size_t i = 0; i < len; ++i) c[i] = special ? 0 : nearest_even(map, x[i], m);
        break;
      }
      case nf4::Nested::cuda_binary_search: {
        const float m = cuda_abs_max(x, len, len < block);
        nested_absmax[b] = m;
        const float s = 1.0f / m;
        for (std::size_t i = 0; i < len; ++i) c[i] = cuda_binary_search(map, x[i] * s);
        break;
      }
      case nf4::Nested::cpu_lut65536: {
        float m = 0;
        for (std::size_t i = 0; i < len; ++i) m = std::max(m, std::fabs(x[i]));  // (m < |x|) ? |x| : m
        nested_absmax[b] = m;
        if (m == 0) {
          std::fill(c, c + len, std::uint8_t{0});
          break;
        }
        const float s = 1.0f / m;
        for (std::size_t i = 0; i < len; ++i) c[i] = lut[cpu_lut_index(x[i] * s)];
        break;
      }
      case nf4::Nested::torch_bucketize: {
        const float m = torch_abs_max(x, len);
        const bool partial = len < block;
        const float stored = partial ? torch_clamp_min(m, nf4::kBnbAbsmaxClamp) : m;
        nested_absmax[b] = stored;
        const float s = 1.0f / torch_clamp_min(m, nf4::kBnbAbsmaxClamp);
        for (std::size_t i = 0; i < len; ++i) {
          const float v = partial ? x[i] / stored : x[i] * s;
          c[i] = static_cast<std::uint8_t>(bucketize(torch_clamp(v, -1.0f, 1.0f), torch_bounds));
        }
        break;
      }
    }
  }
}

nf4::DoubleQuantized nf4_double_quantize(std::span<const float> absmax, nf4::Nested q, std::span<const float, 256> map,
                                         std::optional<float> offset) {
  nf4::DoubleQuantized r;
  std::copy(map.begin(), map.end(), r.map.begin());
  r.offset = offset ? *offset : torch_mean_f32(absmax);
  std::vector<float> a(absmax.size());
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = absmax[i] - r.offset;
  r.codes.resize(a.size());
  r.nested_absmax.resize(nf4::blocks(a.size(), nf4::kNestedBlock));
  nf4_nested_quantize(a, q, map, r.codes, r.nested_absmax);
  return r;
}

void nf4_double_dequantize(std::span<const std::uint8_t> codes, std::span<const float> nested_absmax, float offset,
                           std::span<const float, 256> map, std::span<float> absmax) {
  if (absmax.size() != codes.size() || nested_absmax.size() != nf4::blocks(codes.size(), nf4::kNestedBlock))
    throw Error("nf4_double_dequantize: wrong sizes");
  for (std::size_t i = 0; i < codes.size(); ++i) {
    absmax[i] = add_f32(mul_f32(map[codes[i]], nested_absmax[i / nf4::kNestedBlock]), offset);
  }
}

}  // namespace lowbit::ref

namespace lowbit::kernels {
using namespace lowbit::ref;

const nf4::Impl nf4_reference{.encode = nf4_quantize_ref, .decode = nf4_dequantize_ref};

}  // namespace lowbit::kernels
