// GSE-INT kernels for AVX2 + F16C: one group of N a step, 32 codes a store.
// Per-group decisions come from gse_simd.hpp; the lanes scale by an exact power of two and round
// with an explicit mode (independent of MXCSR).
#include <immintrin.h>

#include <type_traits>

#include "common/blocks.hpp"
#include "common/gse_simd.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/gse.hpp"

namespace lowbit::avx2 {
namespace {

__m256 load_f32(const float* p) { return _mm256_loadu_ps(p); }
__m256 load_f16(const f16* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
__m256 load_bf16(const bf16* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}

// The largest f32 bit pattern with the sign cleared: integer order is magnitude order, NaN above Inf.
template <std::size_t N, class In, __m256 (*Load)(const In*)> std::uint32_t amax_bits(const In* in) {
  const __m256i abs = _mm256_set1_epi32(0x7FFFFFFF);
  __m256i m = _mm256_setzero_si256();
  for (std::size_t j = 0; j < N; j += 8) m = _mm256_max_epi32(m, _mm256_and_si256(_mm256_castps_si256(Load(in + j)), abs));
  __m128i h = _mm_max_epi32(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
  h = _mm_max_epi32(h, _mm_shuffle_epi32(h, 0x4E));
  h = _mm_max_epi32(h, _mm_shuffle_epi32(h, 0xB1));
  return static_cast<std::uint32_t>(_mm_cvtsi128_si32(h));
}

// round(s) as int32 lanes; |s| < 2^31 or the lane is replaced afterwards (saturate).
template <Rounding R> __m256i round_lanes(__m256 s) {
  if constexpr (R == Rounding::rne) return _mm256_cvttps_epi32(_mm256_round_ps(s, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  if constexpr (R == Rounding::rtz) return _mm256_cvttps_epi32(s);
  // rna: truncate, then one away from zero where the dropped part (exact: s - trunc(s)) is >= 1/2.
  const __m256 t = _mm256_round_ps(s, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC), rest = _mm256_sub_ps(s, t);
  const __m256i up = _mm256_castps_si256(_mm256_cmp_ps(rest, _mm256_set1_ps(0.5f), _CMP_GE_OQ));
  const __m256i down = _mm256_castps_si256(_mm256_cmp_ps(rest, _mm256_set1_ps(-0.5f), _CMP_LE_OQ));
  return _mm256_add_epi32(_mm256_sub_epi32(_mm256_cvttps_epi32(t), up), down);
}

// The group's N codes, lanes(j) giving those of elements j..j+7 as int32 (within +-127), as int8
// in element order: 32 a store (N = 16: the low half of one).
template <std::size_t N, class Lanes> void store_codes(std::int8_t* out, Lanes&& lanes) {
  for (std::size_t j = 0; j < N; j += 32) {
    const __m256i lo = _mm256_packs_epi32(lanes(j), lanes(j + 8));
    const __m256i hi = N > 16 ? _mm256_packs_epi32(lanes(j + 16), lanes(j + 24)) : lo;
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(lo, hi), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    if constexpr (N > 16) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + j), bytes);
    else _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(bytes));
  }
}

template <std::size_t N, Rounding R, class In, __m256 (*Load)(const In*)>
void encode_groups(std::size_t n, const In* in, std::int8_t* codes, std::uint8_t* exps, const gse::EncodeParams& p,
                   BlockStats& stats) {
  const simd::GseEncodeConstants k = simd::encode_constants(p);
  const __m256 limit = _mm256_set1_ps(k.limit), abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  const __m256i max = _mm256_set1_epi32(k.max);
  simd::for_each_block<N>(n, in, codes, [&](const In* i, std::int8_t* o) {
    std::uint8_t& field = *exps++;
    const simd::GsePlan plan = simd::plan_group(amax_bits<N, In, Load>(i), k, stats);
    field = plan.field;
    const __m256 scale = _mm256_set1_ps(plan.scale);
    switch (plan.kind) {
      case simd::GsePlan::lanes:
        return store_codes<N>(o, [&](std::size_t j) { return round_lanes<R>(_mm256_mul_ps(Load(i + j), scale)); });
      case simd::GsePlan::saturate: {  // rare: a maximum rounded past max, or the exponent overflowed
        std::uint64_t saturated = 0;
        store_codes<N>(o, [&](std::size_t j) {
          const __m256 s = _mm256_mul_ps(Load(i + j), scale);
          const __m256 over = _mm256_cmp_ps(_mm256_and_ps(s, abs_mask), limit, _CMP_GE_OQ);  // Inf too
          saturated += static_cast<std::uint64_t>(std::popcount(static_cast<unsigned>(_mm256_movemask_ps(over))));
          return _mm256_blendv_epi8(round_lanes<R>(s), _mm256_sign_epi32(max, _mm256_castps_si256(s)), _mm256_castps_si256(over));
        });
        stats.saturated += saturated;  // padding zeros of a short group never count
        return;
      }
      case simd::GsePlan::nan: std::fill(o, o + N, std::int8_t{0}); return;
      case simd::GsePlan::reference: ref::gse_encode_ref<In>(N, i, o, &field, &p, &stats); return;
    }
  });
}

template <class In, __m256 (*Load)(const In*)>
void encode(std::size_t n, const In* in, std::int8_t* codes, std::uint8_t* exps, const gse::EncodeParams* p,
            BlockStats* stats) {
  if (p->rounding == Rounding::sr) return ref::gse_encode_ref(n, in, codes, exps, p, stats);  // documented: scalar
  BlockStats local;
  const bool done = simd::with_group_size(p->format.group, [&]<std::size_t N>() {
    if (p->rounding == Rounding::rne) encode_groups<N, Rounding::rne, In, Load>(n, in, codes, exps, *p, local);
    else if (p->rounding == Rounding::rtz) encode_groups<N, Rounding::rtz, In, Load>(n, in, codes, exps, *p, local);
    else encode_groups<N, Rounding::rna, In, Load>(n, in, codes, exps, *p, local);
  });
  if (!done) return ref::gse_encode_ref(n, in, codes, exps, p, stats);
  if (stats) *stats += local;
}

// 8 codes -> code * scale as f32 lanes.
__m256 decode8(const std::int8_t* c, __m256 scale) {
  return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c)))), scale);
}

void store8(float* o, __m256 v) { _mm256_storeu_ps(o, v); }
void store8(f16* o, __m256 v) {  // one rounding of the exact f32 product, nearest even
  _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
void store8(bf16* o, __m256 v) {  // exact: the product has at most 8 significant bits
  const __m256i h = _mm256_srli_epi32(_mm256_castps_si256(v), 16);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm_packus_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1)));
}

template <std::size_t N, class Out>
void decode_groups(std::size_t n, const std::int8_t* codes, const std::uint8_t* exps, Out* out, const gse::Format& f) {
  const int shift = simd::decode_shift(f);
  simd::for_each_block<N>(n, codes, out, [&](const std::int8_t* c, Out* o) {
    const std::uint8_t field = *exps++;
    if (field == f.nan_field()) return simd::fill_quiet_nan(o, N);
    int d = field + shift;
    // f16: below d = -126 every result is +-0, above 127 +-Inf (or +0), so the clamp changes nothing.
    if constexpr (std::is_same_v<Out, f16>) d = std::clamp(d, -126, 127);
    else if (!simd::exact_f32(d)) return simd::decode_group_scalar(N, c, field, o, f);
    const __m256 scale = _mm256_set1_ps(simd::pow2(d));
    for (std::size_t j = 0; j < N; j += 8) store8(o + j, decode8(c + j, scale));
  });
}

template <class Out>
void decode(std::size_t n, const std::int8_t* codes, const std::uint8_t* exps, Out* out, const gse::Format* f) {
  if (!simd::with_group_size(f->group, [&]<std::size_t N>() { decode_groups<N, Out>(n, codes, exps, out, *f); }))
    ref::gse_decode_ref(n, codes, exps, out, f);
}


}  // namespace
}  // namespace lowbit::avx2

namespace lowbit::kernels {
using namespace lowbit::avx2;

const gse::Impl gse_avx2{
    .width = 32,
    .encode_f32 = encode<float, load_f32>,
    .encode_f16 = encode<f16, load_f16>,
    .encode_bf16 = encode<bf16, load_bf16>,
    .decode_f32 = decode<float>,
    .decode_f16 = decode<f16>,
    .decode_bf16 = decode<bf16>,
};

}  // namespace lowbit::kernels
