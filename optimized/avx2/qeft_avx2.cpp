// QEFT mixed-precision matvec for AVX2 (+ FMA, F16C): common/qeft_simd.hpp over this policy. The
// tables of a group: one vfmadd + vcvtps2ph per 8 codes where that is exact, kept as two byte
// planes. A 64-column block of one row is 32 bytes of qweight: vpshufb splits the 16-bit words into
// low / high bytes, the nibbles index two vpshufb (one per plane), vpunpck{l,h}bw joins the planes
// to 8 fp16 of 8 consecutive columns, and vcvtph2ps (from the stack) makes the FMA operand: 28
// vector uops per 64 weights.
#include <immintrin.h>

#include <cstdint>

#include "avx2/isa.hpp"
#include "common/qeft_simd.hpp"
#include "lowbit/kernels.hpp"

namespace lowbit::avx2 {
namespace {

using simd::QeftPlanes;
using simd::QeftTable;

// Per 128-bit lane: even bytes, then odd bytes (the low / high bytes of 8 16-bit words).
inline __m256i split_bytes(__m256i v) {
  const __m256i ctrl = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,  //
                                        0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  return _mm256_shuffle_epi8(v, ctrl);
}

template <bool Same> inline void load_planes(const QeftPlanes& p, std::size_t r, __m256i& lo, __m256i& hi) {
  const auto half = [](const std::uint8_t* plane) { return _mm_load_si128(reinterpret_cast<const __m128i*>(plane)); };
  if constexpr (Same) {
    lo = _mm256_broadcastsi128_si256(half(p.h0[r].lo));
    hi = _mm256_broadcastsi128_si256(half(p.h0[r].hi));
  } else {
    lo = _mm256_inserti128_si256(_mm256_castsi128_si256(half(p.h0[r].lo)), half(p.h1[r].lo), 1);
    hi = _mm256_inserti128_si256(_mm256_castsi128_si256(half(p.h0[r].hi)), half(p.h1[r].hi), 1);
  }
}

// The QEFT policy of the kernel in common/qeft_simd.hpp.
struct Qeft : Avx2 {
  using V8 = __m256;
  static V8 zero8() { return _mm256_setzero_ps(); }
  static V8 load8(const float* p) { return _mm256_loadu_ps(p); }
  static V8 fma8(V8 acc, V8 w, V8 x) { return _mm256_fmadd_ps(w, x, acc); }
  static V8 cvt8(const std::uint16_t* h) { return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(h))); }
  static V8 weak8(const std::uint16_t* h) {
    const __m256 v = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h)));
    const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    const __m256 canon = _mm256_or_ps(_mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(INT32_MIN))),
                                      _mm256_castsi256_ps(_mm256_set1_epi32(0x7FC00000)));
    return _mm256_blendv_ps(v, canon, nan);
  }
  static float reduce8(V8 a) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));  // a0+a4, a1+a5, a2+a6, a3+a7
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));                                  // (a0+a4)+(a2+a6), (a1+a5)+(a3+a7)
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
  }

  static void to_f32(H h, float* out) { _mm256_store_ps(out, _mm256_cvtph_ps(h)); }
  static void fast_table(const float* s, const float* z, H& h0, H& h1) {
    const __m256 sb = _mm256_broadcast_ss(s), zb = _mm256_broadcast_ss(z);
    const __m256 c0 = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7), c1 = _mm256_setr_ps(8, 9, 10, 11, 12, 13, 14, 15);
    h0 = _mm256_cvtps_ph(_mm256_fmadd_ps(c0, sb, zb), _MM_FROUND_TO_NEAREST_INT);
    h1 = _mm256_cvtps_ph(_mm256_fmadd_ps(c1, sb, zb), _MM_FROUND_TO_NEAREST_INT);
  }
  static void store_table(QeftTable& t, H h0, H h1) {
    const __m128i split = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    const __m128i a = _mm_shuffle_epi8(h0, split), b = _mm_shuffle_epi8(h1, split);  // [lo | hi] of 8 codes
    _mm_store_si128(reinterpret_cast<__m128i*>(t.lo), _mm_unpacklo_epi64(a, b));
    _mm_store_si128(reinterpret_cast<__m128i*>(t.hi), _mm_unpackhi_epi64(a, b));
  }

  template <bool Same> static void decode(const std::int16_t* q, const QeftPlanes& p, std::size_t r, std::uint16_t* f16) {
    __m256i lo, hi;
    load_planes<Same>(p, r, lo, hi);
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i y = split_bytes(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
    const __m256i n02 = _mm256_and_si256(y, m4), n13 = _mm256_and_si256(_mm256_srli_epi16(y, 4), m4);
    const __m256i a_lo = _mm256_shuffle_epi8(lo, n02), a_hi = _mm256_shuffle_epi8(hi, n02);
    const __m256i b_lo = _mm256_shuffle_epi8(lo, n13), b_hi = _mm256_shuffle_epi8(hi, n13);
    __m256i* out = reinterpret_cast<__m256i*>(f16);
    _mm256_store_si256(out, _mm256_unpacklo_epi8(a_lo, a_hi));      // nibble 0: columns 0-7 | 32-39
    _mm256_store_si256(out + 1, _mm256_unpacklo_epi8(b_lo, b_hi));  // nibble 1: 8-15 | 40-47
    _mm256_store_si256(out + 2, _mm256_unpackhi_epi8(a_lo, a_hi));  // nibble 2: 16-23 | 48-55
    _mm256_store_si256(out + 3, _mm256_unpackhi_epi8(b_lo, b_hi));  // nibble 3: 24-31 | 56-63
  }
  // vcvtph2ps ymm, m128 from the stack: no vextracti128 and no shuffle uop. The empty asm keeps the
  // compiler from turning those loads back into register extracts.
  template <class T> static void pin(T& f16) { asm("" : "+m"(f16)); }
};

}  // namespace
}  // namespace lowbit::avx2

namespace lowbit::kernels {

const qeft::Impl qeft_avx2{.width = 8, .matvec = simd::qeft_matvec<avx2::Qeft>};

}  // namespace lowbit::kernels
