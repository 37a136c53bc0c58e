// FP8 kernels for AVX2 + F16C: 32 elements a step, integer rounding on the f32 bit pattern.
// The algorithm is docs/formats/fp8.md "SIMD kernels"; constants come from fp8_simd.hpp.
#include <immintrin.h>

#include "common/blocks.hpp"
#include "common/fp8_simd.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/fp8.hpp"

namespace lowbit::avx2 {
namespace {

constexpr std::size_t kWidth = 32;

__m256i splat(std::uint32_t v) { return _mm256_set1_epi32(static_cast<int>(v)); }

struct Encoder {
  __m256i drop, min_exp, max_finite, overflow, inf, nan, nan_sign, nan_payload;
  __m256i fast_limit, min_normal, rebias, half_m1;
  __m128i man_bits, drop_count;
  __m256 subnormal_scale;

  explicit Encoder(const simd::Fp8EncodeConstants& k)
      : drop(splat(k.drop)), min_exp(splat(k.min_exp)), max_finite(splat(k.max_finite)),
        overflow(splat(k.overflow)), inf(splat(k.inf)), nan(splat(k.nan)), nan_sign(splat(k.nan_sign)),
        nan_payload(splat(k.nan_payload)), fast_limit(splat(k.fast_limit)), min_normal(splat(k.min_normal)),
        rebias(splat(k.rebias)), half_m1(splat((1u << (k.drop - 1)) - 1)),
        man_bits(_mm_cvtsi32_si128(static_cast<int>(k.man_bits))),
        drop_count(_mm_cvtsi32_si128(static_cast<int>(k.drop))), subnormal_scale(_mm256_set1_ps(k.subnormal_scale)) {}

  // The fast path: exact only while every |x| <= max finite, which `special` collects.
  template <bool kNearest> __m256i fast8(__m256i x, __m256i& special) const {
    const __m256i abs = _mm256_and_si256(x, splat(0x7FFFFFFF));
    special = _mm256_or_si256(special, _mm256_cmpgt_epi32(abs, fast_limit));
    __m256i t = abs;  // a normal result: round the f32 pattern at FP8's last mantissa bit
    if constexpr (kNearest)
      t = _mm256_add_epi32(abs, _mm256_add_epi32(half_m1, _mm256_and_si256(_mm256_srl_epi32(abs, drop_count), splat(1))));
    const __m256i normal = _mm256_sub_epi32(_mm256_srl_epi32(t, drop_count), rebias);
    // A subnormal result: |x| scaled exactly to units of the smallest subnormal, then rounded
    // with an explicit mode (independent of MXCSR).
    constexpr int kMode = (kNearest ? _MM_FROUND_TO_NEAREST_INT : _MM_FROUND_TO_ZERO) | _MM_FROUND_NO_EXC;
    const __m256i subnormal = _mm256_cvttps_epi32(
        _mm256_round_ps(_mm256_mul_ps(_mm256_castsi256_ps(abs), subnormal_scale), kMode));
    const __m256i mag = _mm256_blendv_epi8(normal, subnormal, _mm256_cmpgt_epi32(min_normal, abs));
    return _mm256_or_si256(mag, _mm256_and_si256(_mm256_srli_epi32(x, 24), splat(0x80)));
  }

  // 8 f32 bit patterns -> 8 FP8 codes, one per 32-bit lane.
  template <bool kNearest> __m256i encode8(__m256i x) const {
    const __m256i abs = _mm256_and_si256(x, splat(0x7FFFFFFF));
    const __m256i sign = _mm256_and_si256(_mm256_srli_epi32(x, 24), splat(0x80));
    const __m256i e = _mm256_srli_epi32(abs, 23);
    const __m256i implicit = _mm256_and_si256(_mm256_cmpgt_epi32(e, _mm256_setzero_si256()), splat(0x800000));
    const __m256i sig = _mm256_or_si256(_mm256_and_si256(abs, splat(0x7FFFFF)), implicit);
    // Bits of sig below the result's last bit; more for subnormal results. Past 31 every
    // count gives 0, as the value is then below half the smallest subnormal.
    const __m256i below = _mm256_max_epi32(_mm256_sub_epi32(min_exp, e), _mm256_setzero_si256());
    const __m256i shift = _mm256_min_epi32(_mm256_add_epi32(drop, below), splat(31));
    __m256i kept;
    if constexpr (kNearest) {  // add half - 1, plus 1 if the kept part is odd: ties to even
      const __m256i half_m1 = _mm256_sub_epi32(_mm256_sllv_epi32(splat(1), _mm256_sub_epi32(shift, splat(1))), splat(1));
      const __m256i odd = _mm256_and_si256(_mm256_srlv_epi32(sig, shift), splat(1));
      kept = _mm256_srlv_epi32(_mm256_add_epi32(_mm256_add_epi32(sig, half_m1), odd), shift);
    } else {
      kept = _mm256_srlv_epi32(sig, shift);
    }
    // ((biased exponent - 1) << m) + kept, the exponent counted from FP8's subnormal binade.
    __m256i mag = _mm256_add_epi32(_mm256_sll_epi32(_mm256_sub_epi32(_mm256_max_epi32(e, min_exp), min_exp), man_bits), kept);
    mag = _mm256_blendv_epi8(mag, overflow, _mm256_cmpgt_epi32(mag, max_finite));
    mag = _mm256_blendv_epi8(mag, inf, _mm256_cmpeq_epi32(abs, splat(0x7F800000)));
    const __m256i nan_code = _mm256_or_si256(
        _mm256_or_si256(nan, _mm256_and_si256(sign, nan_sign)),
        _mm256_and_si256(_mm256_srli_epi32(abs, 21), nan_payload));
    return _mm256_blendv_epi8(_mm256_or_si256(mag, sign), nan_code, _mm256_cmpgt_epi32(abs, splat(0x7F800000)));
  }
};

// Four vectors of 8 codes in 32-bit lanes -> 32 bytes in element order.
void store_codes(std::uint8_t* out, __m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packus_epi32(a, b), cd = _mm256_packus_epi32(c, d);
  const __m256i bytes = _mm256_packus_epi16(ab, cd);  // per 128-bit half: a b c d (4 bytes each)
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                      _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}

__m256i load_f32(const float* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
__m256i load_f16(const f16* p) {
  return _mm256_castps_si256(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
__m256i load_bf16(const bf16* p) {
  return _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16);
}

template <class In, __m256i (*Load)(const In*)>
void encode(std::size_t n, const In* in, std::uint8_t* out, const fp8::EncodeParams* p) {
  if (p->rounding == Rounding::sr || p->rounding == Rounding::rna)  // documented: scalar
    return ref::fp8_encode_ref(n, in, out, p);
  const Encoder enc(simd::encode_constants(*p));
  auto run = [&]<bool kNearest>() {
    simd::for_each_block<kWidth>(n, in, out, [&](const In* i, std::uint8_t* o) {
      const __m256i x0 = Load(i), x1 = Load(i + 8), x2 = Load(i + 16), x3 = Load(i + 24);
      __m256i special = _mm256_setzero_si256();
      const __m256i c0 = enc.fast8<kNearest>(x0, special), c1 = enc.fast8<kNearest>(x1, special);
      const __m256i c2 = enc.fast8<kNearest>(x2, special), c3 = enc.fast8<kNearest>(x3, special);
      if (_mm256_testz_si256(special, special)) store_codes(o, c0, c1, c2, c3);
      else  // overflow, Inf or NaN somewhere in the block
        store_codes(o, enc.encode8<kNearest>(x0), enc.encode8<kNearest>(x1), enc.encode8<kNearest>(x2), enc.encode8<kNearest>(x3));
    });
  };
  if (p->rounding == Rounding::rne) run.template operator()<true>();
  else run.template operator()<false>();
}

struct Decoder {
  __m256i rebias, sub_limit, inf, nan_above, nan_bits, nan_sign;
  __m128i exp_shift;
  __m256 scale;

  explicit Decoder(const simd::Fp8DecodeConstants& k)
      : rebias(splat(k.rebias)), sub_limit(splat(1u << k.man_bits)), inf(splat(k.inf)),
        nan_above(splat(k.nan_above)), nan_bits(splat(k.nan_bits)), nan_sign(splat(k.nan_sign)),
        exp_shift(_mm_cvtsi32_si128(static_cast<int>(k.exp_shift))), scale(_mm256_set1_ps(k.subnormal_scale)) {}

  // 8 codes in 32-bit lanes -> 8 f32 bit patterns.
  __m256i decode8(__m256i c) const {
    const __m256i mag = _mm256_and_si256(c, splat(0x7F));
    const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(c, splat(0x80)), 24);
    const __m256i normal = _mm256_add_epi32(_mm256_sll_epi32(mag, exp_shift), rebias);
    const __m256i subnormal = _mm256_castps_si256(_mm256_mul_ps(_mm256_cvtepi32_ps(mag), scale));
    __m256i bits = _mm256_blendv_epi8(normal, subnormal, _mm256_cmpgt_epi32(sub_limit, mag));
    bits = _mm256_blendv_epi8(bits, splat(0x7F800000), _mm256_cmpeq_epi32(mag, inf));
    bits = _mm256_or_si256(bits, sign);
    const __m256i nan = _mm256_or_si256(nan_bits, _mm256_and_si256(sign, nan_sign));
    return _mm256_blendv_epi8(bits, nan, _mm256_cmpgt_epi32(mag, nan_above));
  }
  __m256i load8(const std::uint8_t* p) const {
    return decode8(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
};

void decode_f32(std::size_t n, const std::uint8_t* in, float* out, const fp8::DecodeParams* p) {
  const Decoder dec(simd::decode_constants(*p));
  simd::for_each_block<kWidth>(n, in, out, [&](const std::uint8_t* i, float* o) {
    for (int k = 0; k < 4; ++k) _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 8 * k), dec.load8(i + 8 * k));
  });
}

void decode_f16(std::size_t n, const std::uint8_t* in, f16* out, const fp8::DecodeParams* p) {
  const Decoder dec(simd::decode_constants(*p));
  simd::for_each_block<kWidth>(n, in, out, [&](const std::uint8_t* i, f16* o) {
    for (int k = 0; k < 4; ++k)  // exact: every FP8 value is an f16; NaN keeps its top bits
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 8 * k),
                       _mm256_cvtps_ph(_mm256_castsi256_ps(dec.load8(i + 8 * k)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  });
}

void decode_bf16(std::size_t n, const std::uint8_t* in, bf16* out, const fp8::DecodeParams* p) {
  const Decoder dec(simd::decode_constants(*p));
  simd::for_each_block<kWidth>(n, in, out, [&](const std::uint8_t* i, bf16* o) {
    for (int k = 0; k < 4; k += 2) {  // exact: the low 16 bits of every decoded f32 are zero
      const __m256i a = _mm256_srli_epi32(dec.load8(i + 8 * k), 16), b = _mm256_srli_epi32(dec.load8(i + 8 * k + 8), 16);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 8 * k),
                          _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xD8));
    }
  });
}


}  // namespace
}  // namespace lowbit::avx2

namespace lowbit::kernels {
using namespace lowbit::avx2;

const fp8::Impl fp8_avx2{
    .width = kWidth,
    .encode_f32 = encode<float, load_f32>,  // f64: the reference
    .encode_f16 = encode<f16, load_f16>,
    .encode_bf16 = encode<bf16, load_bf16>,
    .decode_f32 = decode_f32,
    .decode_f16 = decode_f16,
    .decode_bf16 = decode_bf16,
};

}  // namespace lowbit::kernels
