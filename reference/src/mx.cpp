#include "lowbit/reference/mx.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "lowbit/reference/binary_float.hpp"
#include "lowbit/reference/gse.hpp"
#include "lowbit/reference/philox.hpp"

namespace lowbit::ref {

std::uint8_t mx_element_code(const mx::Traits& t, float x, int X, Rounding r, std::uint32_t random) {
  const Unpacked u = unpack(x);
  if (u.kind != Unpacked::Kind::finite) return 0;  // zeros; NaN/Inf never reach an element
  const std::uint64_t mag = std::min<std::uint64_t>(round_magnitude(u.sig, u.exp - X, t.element, r, random), t.max_code);
  return mag == 0 ? 0 : static_cast<std::uint8_t>((u.sign ? mx::sign_bit(t) : 0) | mag);  // zero is +0
}

float mx_element_value(const mx::Traits& t, std::uint8_t code) {
  const int m = t.element.man_bits;
  const unsigned mag = code & (mx::sign_bit(t) - 1u), e = mag >> m, man = mag & ((1u << m) - 1);
  const float v = e == 0 ? std::ldexp(static_cast<float>(man), t.element.emin() - m)
                         : std::ldexp(static_cast<float>(man | (1u << m)), static_cast<int>(e) - t.element.bias() - m);
  return code & mx::sign_bit(t) ? -v : v;
}

void mx_encode_ref(std::size_t n, const float* in, std::uint8_t* codes, std::uint8_t* scales, const mx::EncodeParams* p,
                   BlockStats* stats) {
  const mx::Traits& t = traits(p->format);
  if (p->format == mx::Format::int8) {  // MXINT8 is the GSE format gse::mxint8_format()
    const gse::EncodeParams g{gse::mxint8_format(), p->rounding, p->seed, p->index0, nullptr};
    return gse_encode_ref(n, in, reinterpret_cast<std::int8_t*>(codes), scales, &g, stats);
  }
  BlockStats local;
  for (std::size_t b = 0; b * mx::kBlock < n; ++b) {
    const std::size_t first = b * mx::kBlock, len = std::min<std::size_t>(mx::kBlock, n - first);
    ++local.groups;
    float amax = 0;
    bool special = false;
    for (std::size_t i = first; i < first + len; ++i) {
      special |= !std::isfinite(in[i]);
      amax = std::max(amax, std::fabs(in[i]));
    }
    if (special) {  // NaN or Inf anywhere: a NaN scale, the whole block decodes to NaN
      ++local.nan_groups;
      scales[b] = mx::kE8m0Nan;
      std::fill(codes + first, codes + first + len, std::uint8_t{0});
      continue;
    }
    const int X = std::max(gse_raw_exponent(amax) - t.emax, -127);
    scales[b] = static_cast<std::uint8_t>(X + 127);
    for (std::size_t i = first; i < first + len; ++i) {
      const std::uint32_t word = p->rounding == Rounding::sr ? philox_word(p->seed, p->index0 + i) : 0;
      codes[i] = mx_element_code(t, in[i], X, p->rounding, word);
      const Unpacked u = unpack(in[i]);
      if (u.kind == Unpacked::Kind::finite &&
          round_magnitude(u.sig, u.exp - X, t.element, p->rounding, word) > t.max_code)
        ++local.saturated;
    }
  }
  if (stats) *stats += local;
}

void mx_decode_ref(std::size_t n, const std::uint8_t* codes, const std::uint8_t* scales, float* out, const mx::DecodeParams* p) {
  const mx::Format f = p->format;
  const mx::Traits& t = traits(f);
  if (f == mx::Format::int8) {
    const gse::Format g = gse::mxint8_format();
    gse_decode_ref(n, reinterpret_cast<const std::int8_t*>(codes), scales, out, &g);  // every int8 code decodes
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t scale = scales[i / mx::kBlock];
    if (scale == mx::kE8m0Nan) {
      out[i] = std::numeric_limits<float>::quiet_NaN();
      continue;
    }
    // The element value times 2^X, rounded once to f32 (below 2^-149 a product can round).
    const Unpacked u = unpack(mx_element_value(t, codes[i]));
    out[i] = u.kind == Unpacked::Kind::zero
                 ? 0.0f
                 : std::bit_cast<float>(static_cast<std::uint32_t>(
                       pack_nearest(u.sign, u.sig, u.exp + static_cast<int>(scale) - 127, kF32Layout)));
  }
}

}  // namespace lowbit::ref

namespace lowbit::kernels {
using namespace lowbit::ref;

const mx::Impl mx_reference{.encode_f32 = mx_encode_ref, .decode_f32 = mx_decode_ref};

}  // namespace lowbit::kernels
