/* lowbit/c_api.h from ISO C11: every function, known bits, every error path. Exits non-zero on any
 * failure (each one printed). Built against the static and the shared library (ctest c_api,
 * c_api_shared) and by the packaging test's consumers. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "c_check.h"
#include "lowbit/c_api.h"

/* The call returns `want`; a failure leaves a message naming the function, a success none. */
#define EXPECT_STATUS(want, call)                                                                       \
  do {                                                                                                  \
    lowbit_status got_ = (call);                                                                        \
    if (got_ != (want)) {                                                                               \
      fprintf(stderr, "%s:%d: %s returned %s (%s), expected %s\n", __FILE__, __LINE__, #call,          \
              lowbit_status_name(got_), lowbit_last_error(), lowbit_status_name(want));                 \
      ++failures;                                                                                       \
    } else if ((want) == LOWBIT_OK ? lowbit_last_error()[0] != '\0'                                     \
                                   : strncmp(lowbit_last_error(), "lowbit_", 7) != 0) {                 \
      fprintf(stderr, "%s:%d: %s: unexpected last error '%s'\n", __FILE__, __LINE__, #call,            \
              lowbit_last_error());                                                                     \
      ++failures;                                                                                       \
    }                                                                                                   \
  } while (0)

/* The last error names this text (a buffer, a length, an option). */
#define EXPECT_ERROR_HAS(text) CHECK(strstr(lowbit_last_error(), text) != NULL)

static uint32_t f32_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}
/* bfloat16 of a value exact in bfloat16: the top half of its f32 bits. */
static uint16_t bf16_of(float x) { return (uint16_t)(f32_bits(x) >> 16); }
/* binary16 of a value exact in binary16 (zero or normal). */
static uint16_t f16_of(float x) {
  int e = 0;
  const float m = frexpf(fabsf(x), &e); /* |x| = m 2^e, m in [0.5, 1) */
  const uint16_t sign = x < 0 ? 0x8000 : 0;
  if (x == 0.0f) return sign;
  return (uint16_t)(sign | (uint16_t)((e + 14) << 10) | (uint16_t)((m * 2.0f - 1.0f) * 1024.0f));
}

static void test_version_and_status(void) {
  static const char* const names[8] = {"ok",          "unsupported",    "invalid argument", "null pointer",
                                       "out of memory", "internal error", "malformed data",   "i/o error"};
  const lowbit_status codes[8] = {LOWBIT_OK,     LOWBIT_E_UNSUPPORTED, LOWBIT_E_INVALID, LOWBIT_E_NULL,
                                  LOWBIT_E_NOMEM, LOWBIT_E_INTERNAL,    LOWBIT_E_DATA,    LOWBIT_E_IO};
  CHECK(lowbit_version() == LOWBIT_VERSION);
  CHECK(strcmp(lowbit_version_string(), LOWBIT_VERSION_STRING) == 0);
  CHECK(LOWBIT_VERSION == LOWBIT_VERSION_MAJOR * 10000 + LOWBIT_VERSION_MINOR * 100 + LOWBIT_VERSION_PATCH);
  for (int i = 0; i < 8; ++i) {
    CHECK(codes[i] == i); /* lowbit::Errc's numbers */
    CHECK(strcmp(lowbit_status_name(codes[i]), names[i]) == 0);
  }
  CHECK(strcmp(lowbit_status_name(8), "unknown status") == 0);
  CHECK(strcmp(lowbit_status_name(-1), "unknown status") == 0);
  CHECK(lowbit_last_error() != NULL);
}

/* ---- FP8 ---------------------------------------------------------------------------------------- */

static void test_fp8_known_values(void) {
  /* docs/formats/fp8.md: 1 = 0x38 / 0x3C, -2 = 0xC0, 448 = 0x7E (E4M3 max), 57344 = 0x7B (E5M2 max),
   * 2^-9 = 0x01 (the smallest E4M3 subnormal). */
  const float x[5] = {1.0f, -2.0f, 448.0f, 0.0f, 0x1p-9f};
  const double xd[5] = {1.0, -2.0, 448.0, 0.0, 0x1p-9};
  const uint8_t want[5] = {0x38, 0xC0, 0x7E, 0x00, 0x01};
  uint16_t xh[5], xb[5], back16[5];
  uint8_t codes[5];
  float back[5];
  lowbit_fp8_options o = LOWBIT_FP8_OPTIONS_INIT;
  for (int i = 0; i < 5; ++i) {
    xh[i] = f16_of(x[i]);
    xb[i] = bf16_of(x[i]);
  }
  CHECK(xh[2] == 0x5F00 && xb[2] == 0x43E0 && xh[4] == 0x1800 && xb[4] == 0x3B00);

  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(5, x, codes, 5, &o));
  CHECK(memcmp(codes, want, 5) == 0);
  memset(codes, 0xAA, 5);
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f64(5, xd, codes, 5, &o));
  CHECK(memcmp(codes, want, 5) == 0);
  memset(codes, 0xAA, 5);
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f16(5, xh, codes, 5, &o));
  CHECK(memcmp(codes, want, 5) == 0);
  memset(codes, 0xAA, 5);
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_bf16(5, xb, codes, 5, NULL)); /* NULL: the same defaults */
  CHECK(memcmp(codes, want, 5) == 0);

  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_decode_f32(5, want, back, 5, NULL));
  for (int i = 0; i < 5; ++i) CHECK(back[i] == x[i]);
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_decode_f16(5, want, back16, 5, &o));
  CHECK(memcmp(back16, xh, sizeof xh) == 0);
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_decode_bf16(5, want, back16, 5, &o));
  CHECK(memcmp(back16, xb, sizeof xb) == 0);

  /* f64 rounds once: 1 + 2^-30 is 1, 1 + 2^-4 + 2^-30 is above the tie, 1.125 (0x39). */
  const double fine[2] = {1.0 + 0x1p-30, 1.0 + 0x1p-4 + 0x1p-30};
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f64(2, fine, codes, 2, &o));
  CHECK(codes[0] == 0x38 && codes[1] == 0x39);

  o.format = LOWBIT_FP8_E5M2;
  const float y[3] = {1.0f, -2.0f, 57344.0f};
  const uint8_t want_e5m2[3] = {0x3C, 0xC0, 0x7B};
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(3, y, codes, 3, &o));
  CHECK(memcmp(codes, want_e5m2, 3) == 0);
}

static void test_fp8_profiles_and_rounding(void) {
  lowbit_fp8_options o = LOWBIT_FP8_OPTIONS_INIT;
  uint8_t codes[100];
  uint16_t h[2];
  float f[2];

  /* Every code of both formats decodes and encodes back to itself (NaNs: to a NaN). */
  for (lowbit_fp8_format format = LOWBIT_FP8_E4M3; format <= LOWBIT_FP8_E5M2; ++format) {
    uint8_t all[256], again[256];
    float v[256];
    for (int i = 0; i < 256; ++i) all[i] = (uint8_t)i;
    o.format = format;
    EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_decode_f32(256, all, v, 256, &o));
    EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(256, v, again, 256, &o));
    for (int i = 0; i < 256; ++i) CHECK(isnan(v[i]) || again[i] == all[i]);
  }
  o.format = LOWBIT_FP8_E4M3;

  /* 1 + 2^-4 is a tie between 1 (0x38) and 1.125 (0x39) in E4M3; 1 + 3 * 2^-5 rounds up but toward zero. */
  const float tie[2] = {1.0625f, 1.09375f};
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(2, tie, codes, 2, &o));
  CHECK(codes[0] == 0x38 && codes[1] == 0x39);
  o.rounding = LOWBIT_ROUND_RNA;
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(2, tie, codes, 2, &o));
  CHECK(codes[0] == 0x39 && codes[1] == 0x39);
  o.rounding = LOWBIT_ROUND_RTZ;
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(2, tie, codes, 2, &o));
  CHECK(codes[0] == 0x38 && codes[1] == 0x38);
  o.rounding = LOWBIT_ROUND_RNE;

  /* Profiles: 1000 overflows E4M3: NaN (ml_dtypes) or the largest finite value (ml_dtypes-sat); NaN
   * codes decode with their sign (ml_dtypes) or as CUDA's 0x7FFF half (cuda-*). */
  const float big = 1000.0f;
  const uint8_t nans[2] = {0x7F, 0xFF};
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(1, &big, codes, 1, &o));
  CHECK(codes[0] == 0x7F);
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_decode_f16(2, nans, h, 2, &o));
  CHECK(h[0] == 0x7E00 && h[1] == 0xFE00);
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_decode_bf16(2, nans, h, 2, &o));
  CHECK(h[0] == 0x7FC0 && h[1] == 0xFFC0);
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_decode_f32(2, nans, f, 2, &o));
  CHECK(f32_bits(f[0]) == 0x7FC00000u && f32_bits(f[1]) == 0xFFC00000u);
  o.profile = "ml_dtypes-sat";
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(1, &big, codes, 1, &o));
  CHECK(codes[0] == 0x7E);
  o.profile = "cuda-satfinite";
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_decode_f16(2, nans, h, 2, &o));
  CHECK(h[0] == 0x7FFF && h[1] == 0x7FFF);
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_decode_f32(2, nans, f, 2, &o));
  CHECK(f32_bits(f[0]) == 0x7FFFE000u && f32_bits(f[1]) == 0x7FFFE000u);
  o.profile = NULL; /* the default, ml_dtypes */
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(1, &big, codes, 1, &o));
  CHECK(codes[0] == 0x7F);

  /* Stochastic rounding: reproducible from the seed, and chunks with index0 round as the whole. */
  float s[100];
  uint8_t chunks[100], other[100];
  uint32_t zeros[100];
  for (int i = 0; i < 100; ++i) {
    s[i] = 1.0f + (float)i / 1024.0f;
    zeros[i] = 0;
  }
  o.rounding = LOWBIT_ROUND_SR;
  o.seed = 42;
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(100, s, codes, 100, &o));
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(60, s, chunks, 60, &o));
  o.index0 = 60;
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(40, s + 60, chunks + 60, 40, &o));
  CHECK(memcmp(codes, chunks, 100) == 0);
  o.index0 = 0;
  o.seed = 43;
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(100, s, other, 100, &o));
  CHECK(memcmp(codes, other, 100) != 0);
  for (int i = 0; i < 100; ++i) CHECK(codes[i] == 0x38 || codes[i] == 0x39 || codes[i] == 0x3A);
  /* Caller-given random words: all zero adds nothing below the rounding position, so it truncates. */
  o.random_bits = zeros;
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(100, s, codes, 100, &o));
  o.random_bits = NULL;
  o.rounding = LOWBIT_ROUND_RTZ;
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(100, s, other, 100, &o));
  CHECK(memcmp(codes, other, 100) == 0);
}

/* The rest of the family through the same calls: AMD's E4M3FNUZ (no -0: 0x80 is its one NaN, max 240)
 * and OCP FP4 E2M1 (the code in the low 4 bits, no NaN, no Inf; a byte with higher bits is no code). */
static void test_fp8_family(void) {
  lowbit_fp8_options o = LOWBIT_FP8_OPTIONS_INIT;
  o.format = LOWBIT_FP8_E4M3FNUZ;
  const float x[5] = {-0.0f, 240.0f, 1000.0f, -1.0f, 0.0f / 0.0f};
  uint8_t codes[5];
  float back[5];
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(5, x, codes, 5, &o));
  CHECK(codes[0] == 0x00 && codes[1] == 0x7F && codes[2] == 0x80 && codes[3] == 0xC0 && codes[4] == 0x80);
  o.profile = "ml_dtypes-sat";
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(5, x, codes, 5, &o));
  CHECK(codes[2] == 0x7F);
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_decode_f32(5, codes, back, 5, &o));
  CHECK(f32_bits(back[0]) == 0 && back[1] == 240.0f && back[3] == -1.0f && back[4] != back[4]);
  o.profile = "cuda-nosat"; /* CUDA's fp8 conversions have E4M3 and E5M2 only */
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_fp8_encode_f32(5, x, codes, 5, &o));
  EXPECT_ERROR_HAS("does not apply to e4m3fnuz");

  o = (lowbit_fp8_options)LOWBIT_FP8_OPTIONS_INIT;
  o.format = LOWBIT_FP8_E2M1;
  const float y[4] = {6.0f, -0.5f, 100.0f, -0.0f};
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(4, y, codes, 4, &o));
  CHECK(codes[0] == 0x7 && codes[1] == 0x9 && codes[2] == 0x7 && codes[3] == 0x8);
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_decode_f32(4, codes, back, 4, &o));
  CHECK(back[0] == 6.0f && back[1] == -0.5f && back[2] == 6.0f && f32_bits(back[3]) == 0x80000000u);
  codes[2] = 0x17;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_fp8_decode_f32(4, codes, back, 4, &o));
  EXPECT_ERROR_HAS("byte 0x17 at index 2 is no e2m1 code");
}

static void test_fp8_errors(void) {
  const float x[5] = {0};
  uint8_t codes[5];
  float back[5];
  uint16_t h[5];
  lowbit_fp8_options bad = LOWBIT_FP8_OPTIONS_INIT;
  const uint32_t words[5] = {0};
  const double xd[5] = {0};
  bad.profile = "no-such-profile";
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_fp8_encode_f32(5, x, codes, 5, &bad));
  EXPECT_ERROR_HAS("no-such-profile");
  EXPECT_ERROR_HAS("lowbit_fp8_encode_f32: ");
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_fp8_decode_bf16(5, codes, h, 5, &bad));
  EXPECT_ERROR_HAS("lowbit_fp8_decode_bf16: ");
  bad.profile = NULL;
  bad.format = LOWBIT_FP8_BINARY8P8UF + 1; /* the first number past the family */
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_fp8_encode_f64(5, xd, codes, 5, &bad));
  EXPECT_ERROR_HAS("format");
  bad.format = LOWBIT_FP8_E4M3;
  bad.rounding = LOWBIT_ROUND_RTO + 1;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_fp8_encode_f16(5, h, codes, 5, &bad));
  EXPECT_ERROR_HAS("rounding");
  bad.rounding = LOWBIT_ROUND_RNE;
  bad.random_bits = words; /* words without sr */
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_fp8_encode_f32(5, x, codes, 5, &bad));
  /* Output lengths: the buffer and the expected count are named. */
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_fp8_encode_f32(5, x, codes, 4, NULL));
  EXPECT_ERROR_HAS("out has 4 elements, expected 5");
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_fp8_decode_f32(5, codes, back, 6, NULL));
  EXPECT_ERROR_HAS("out has 6 elements, expected 5");
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_fp8_decode_f16(5, codes, h, 0, NULL));
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_fp8_encode_f32(5, NULL, codes, 5, NULL));
  EXPECT_ERROR_HAS("in is NULL");
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_fp8_encode_bf16(5, h, NULL, 5, NULL));
  EXPECT_ERROR_HAS("out is NULL");
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_fp8_decode_f32(1, NULL, back, 1, NULL));
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(0, NULL, NULL, 0, NULL)); /* nothing to do */
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_decode_f32(0, NULL, NULL, 0, NULL));
}

/* docs/formats/fp6-fp4.md, "Worked examples of packing": FP4 1, -6, 0.5 and FP6 E2M3 1, -7.5, 0.125, 3, -1. */
static void test_fp8_pack(void) {
  const uint8_t fp4[3] = {0x2, 0xF, 0x1}, fp4_packed[2] = {0xF2, 0x01};
  const uint8_t fp6[5] = {0x08, 0x3F, 0x01, 0x14, 0x28}, fp6_packed[4] = {0xC8, 0x1F, 0x50, 0x28};
  uint8_t packed[4], codes[5];
  CHECK(lowbit_fp8_packed_size(3, LOWBIT_FP8_E2M1) == 2 && lowbit_fp8_packed_size(5, LOWBIT_FP8_E2M3) == 4 &&
        lowbit_fp8_packed_size(5, LOWBIT_FP8_E4M3) == 5 && lowbit_fp8_packed_size(5, LOWBIT_FP8_BINARY8P7SF + 1) == 0);
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_pack(3, fp4, packed, 2, LOWBIT_FP8_E2M1));
  CHECK(memcmp(packed, fp4_packed, 2) == 0);
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_unpack(3, fp4_packed, codes, 3, LOWBIT_FP8_E2M1));
  CHECK(memcmp(codes, fp4, 3) == 0);
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_pack(5, fp6, packed, 4, LOWBIT_FP8_E2M3));
  CHECK(memcmp(packed, fp6_packed, 4) == 0);
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_unpack(5, fp6_packed, codes, 5, LOWBIT_FP8_E2M3));
  CHECK(memcmp(codes, fp6, 5) == 0);
  /* Errors: a wrong output length, a code wider than 6 bits, a set padding bit, an unknown format. */
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_fp8_pack(3, fp4, packed, 3, LOWBIT_FP8_E2M1));
  EXPECT_ERROR_HAS("out has 3 elements, expected 2");
  EXPECT_STATUS(LOWBIT_E_DATA, lowbit_fp8_pack(2, fp4_packed, packed, 2, LOWBIT_FP8_E3M2)); /* 0xF2 */
  EXPECT_ERROR_HAS("code 0 is 0xf2");
  EXPECT_STATUS(LOWBIT_E_DATA, lowbit_fp8_unpack(1, fp4_packed, codes, 1, LOWBIT_FP8_E2M1)); /* 0xF2: high nibble set */
  EXPECT_ERROR_HAS("padding");
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_fp8_unpack(3, fp4_packed, codes, 3, LOWBIT_FP8_BINARY8P7SF + 1));
  EXPECT_ERROR_HAS("format");
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_fp8_unpack(3, NULL, codes, 3, LOWBIT_FP8_E2M1));
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_pack(0, NULL, NULL, 0, LOWBIT_FP8_E2M1));
}

/* ---- GSE ---------------------------------------------------------------------------------------- */

static void test_gse(void) {
  enum { N = 100 }; /* 4 groups of 32, the last one short */
  float x[N], y[N];
  uint16_t h[N], hb[N], back16[N];
  int8_t codes[N], codes16[N];
  uint8_t exps[4], exps16[4];
  lowbit_gse_stats stats;
  lowbit_gse_options o = LOWBIT_GSE_OPTIONS_INIT;
  CHECK(lowbit_gse_groups(N, 32) == 4);
  CHECK(lowbit_gse_groups(0, 32) == 0);
  CHECK(lowbit_gse_groups(5, 0) == 0);
  CHECK(lowbit_gse_groups(5, -32) == 0);

  /* Integers with a group maximum in 64..100 are exact in INT8 with the exponent 2^0: code = value,
   * field 21 (value = code 2^(field - 15 - (8 - 2))). */
  for (int i = 0; i < N; ++i) {
    x[i] = (float)((i * 37) % 201 - 100);
    h[i] = f16_of(x[i]);
    hb[i] = bf16_of(x[i]);
  }
  EXPECT_STATUS(LOWBIT_OK, lowbit_gse_encode_f32(N, x, codes, N, exps, 4, &stats, &o));
  CHECK(stats.groups == 4 && stats.nan_groups == 0 && stats.saturated == 0 && stats.bumped == 0);
  for (int i = 0; i < N; ++i) CHECK(codes[i] == (int8_t)x[i]);
  for (int g = 0; g < 4; ++g) CHECK(exps[g] == 21);
  EXPECT_STATUS(LOWBIT_OK, lowbit_gse_decode_f32(N, codes, exps, y, N, &o));
  for (int i = 0; i < N; ++i) CHECK(y[i] == x[i]);
  EXPECT_STATUS(LOWBIT_OK, lowbit_gse_encode_f16(N, h, codes16, N, exps16, 4, NULL, &o));
  CHECK(memcmp(codes16, codes, N) == 0 && memcmp(exps16, exps, 4) == 0);
  EXPECT_STATUS(LOWBIT_OK, lowbit_gse_encode_bf16(N, hb, codes16, N, exps16, 4, &stats, &o));
  CHECK(memcmp(codes16, codes, N) == 0 && memcmp(exps16, exps, 4) == 0 && stats.groups == 4);
  EXPECT_STATUS(LOWBIT_OK, lowbit_gse_decode_f16(N, codes, exps, back16, N, &o));
  CHECK(memcmp(back16, h, sizeof h) == 0);
  EXPECT_STATUS(LOWBIT_OK, lowbit_gse_decode_bf16(N, codes, exps, back16, N, &o));
  CHECK(memcmp(back16, hb, sizeof hb) == 0);
  /* E8M0 fields: the same exponent with bias 127. */
  o.format.exp_bits = 8;
  o.format.exp_bias = 127;
  EXPECT_STATUS(LOWBIT_OK, lowbit_gse_encode_f32(N, x, codes16, N, exps16, 4, NULL, &o));
  CHECK(memcmp(codes16, codes, N) == 0 && exps16[0] == 133);

  /* The overflow rules: 127.75 rounds up to 128, one past the INT8 maximum. */
  o = (lowbit_gse_options)LOWBIT_GSE_OPTIONS_INIT;
  const float top[2] = {127.75f, 1.0f};
  EXPECT_STATUS(LOWBIT_OK, lowbit_gse_encode_f32(2, top, codes, 2, exps, 1, &stats, &o));
  CHECK(codes[0] == 127 && codes[1] == 1 && exps[0] == 21 && stats.saturated == 1 && stats.bumped == 0);
  o.format.mantissa_overflow = LOWBIT_GSE_MANTISSA_BUMP; /* 2^1: 64 and 0.5, a tie to even 0 */
  EXPECT_STATUS(LOWBIT_OK, lowbit_gse_encode_f32(2, top, codes, 2, exps, 1, &stats, &o));
  CHECK(codes[0] == 64 && codes[1] == 0 && exps[0] == 22 && stats.bumped == 1 && stats.saturated == 0);
  /* 2^30 needs the exponent 24, above the 5-bit field's largest, 30 - 15 = 15: clamped, or a NaN group. */
  const float huge[2] = {0x1p30f, 1.0f};
  o.format.mantissa_overflow = LOWBIT_GSE_MANTISSA_SATURATE;
  EXPECT_STATUS(LOWBIT_OK, lowbit_gse_encode_f32(2, huge, codes, 2, exps, 1, &stats, &o));
  CHECK(exps[0] == 30 && codes[0] == 127 && stats.exp_overflow == 1 && stats.nan_groups == 0);
  o.format.exponent_overflow = LOWBIT_GSE_EXPONENT_NAN;
  EXPECT_STATUS(LOWBIT_OK, lowbit_gse_encode_f32(2, huge, codes, 2, exps, 1, &stats, &o));
  CHECK(exps[0] == 31 && codes[0] == 0 && stats.exp_overflow == 1 && stats.nan_groups == 1);
  EXPECT_STATUS(LOWBIT_OK, lowbit_gse_decode_f32(2, codes, exps, y, 2, &o));
  CHECK(isnan(y[0]) && isnan(y[1]));

  /* Stochastic rounding with caller-given words: all zero truncates, as rtz does. */
  uint32_t zeros[N] = {0};
  int8_t rtz[N];
  for (int i = 0; i < N; ++i) x[i] = sinf((float)i * 0.3f) * 3.0f;
  o = (lowbit_gse_options)LOWBIT_GSE_OPTIONS_INIT;
  o.rounding = LOWBIT_ROUND_RTZ;
  EXPECT_STATUS(LOWBIT_OK, lowbit_gse_encode_f32(N, x, rtz, N, exps, 4, NULL, &o));
  o.rounding = LOWBIT_ROUND_SR;
  o.random_bits = zeros;
  EXPECT_STATUS(LOWBIT_OK, lowbit_gse_encode_f32(N, x, codes, N, exps16, 4, NULL, &o));
  CHECK(memcmp(codes, rtz, N) == 0 && memcmp(exps, exps16, 4) == 0);

  /* Smooth data, 4 to 8 bits, both exponent fields: within one step of the group's scale. */
  o = (lowbit_gse_options)LOWBIT_GSE_OPTIONS_INIT;
  for (int bits = 4; bits <= 8; ++bits) {
    for (int exp_bits = 5; exp_bits <= 8; exp_bits += 3) {
      o.format.bits = bits;
      o.format.exp_bits = exp_bits;
      o.format.exp_bias = exp_bits == 8 ? 127 : 15;
      EXPECT_STATUS(LOWBIT_OK, lowbit_gse_encode_f32(N, x, codes, N, exps, 4, NULL, &o));
      EXPECT_STATUS(LOWBIT_OK, lowbit_gse_decode_f32(N, codes, exps, y, N, &o));
      const int max_code = (1 << (bits - 1)) - 1;
      for (int i = 0; i < N; ++i) {
        CHECK(codes[i] >= -max_code && codes[i] <= max_code);
        CHECK(fabsf(y[i] - x[i]) <= 3.0f * 2.0f / (float)max_code);
      }
    }
  }

  /* Errors. */
  o = (lowbit_gse_options)LOWBIT_GSE_OPTIONS_INIT;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_gse_encode_f32(N, x, codes, N, exps, 3, NULL, &o));
  EXPECT_ERROR_HAS("exps has 3 elements, expected 4");
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_gse_encode_f16(N, h, codes, N - 1, exps, 4, NULL, &o));
  EXPECT_ERROR_HAS("codes has 99 elements, expected 100");
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_gse_decode_bf16(N, codes, exps, back16, N + 1, &o));
  EXPECT_ERROR_HAS("out has 101 elements, expected 100");
  o.format.bits = 3;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_gse_encode_f32(N, x, codes, N, exps, 4, NULL, &o));
  EXPECT_ERROR_HAS("bits");
  o.format.bits = 8;
  o.format.group = 48;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_gse_decode_f32(N, codes, exps, y, N, &o));
  EXPECT_ERROR_HAS("group");
  o.format.group = 32;
  o.format.exp_bits = 6;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_gse_encode_bf16(N, hb, codes, N, exps, 4, NULL, &o));
  o.format.exp_bits = 5;
  o.format.exp_bias = 31; /* the all-ones field is NaN */
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_gse_encode_f32(N, x, codes, N, exps, 4, NULL, &o));
  o.format.exp_bias = 15;
  o.format.mantissa_overflow = 2;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_gse_encode_f32(N, x, codes, N, exps, 4, NULL, &o));
  EXPECT_ERROR_HAS("mantissa_overflow");
  o.format.mantissa_overflow = LOWBIT_GSE_MANTISSA_SATURATE;
  o.format.exponent_overflow = 2;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_gse_decode_f16(N, codes, exps, back16, N, &o));
  EXPECT_ERROR_HAS("exponent_overflow");
  o.format.exponent_overflow = LOWBIT_GSE_EXPONENT_SATURATE;
  o.rounding = 4;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_gse_encode_f32(N, x, codes, N, exps, 4, NULL, &o));
  o.rounding = LOWBIT_ROUND_RNE;
  o.random_bits = zeros; /* words without sr */
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_gse_encode_f32(N, x, codes, N, exps, 4, NULL, &o));
  o.random_bits = NULL;
  o.format.bits = 4;
  codes[0] = 8; /* outside +-7 */
  EXPECT_STATUS(LOWBIT_E_DATA, lowbit_gse_decode_f32(N, codes, exps, y, N, &o));
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_gse_encode_f32(N, x, NULL, N, exps, 4, NULL, NULL));
  EXPECT_ERROR_HAS("codes is NULL");
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_gse_decode_f32(N, codes, NULL, y, N, NULL));
  EXPECT_ERROR_HAS("exps is NULL");
  EXPECT_STATUS(LOWBIT_OK, lowbit_gse_encode_f32(0, NULL, NULL, 0, NULL, 0, NULL, NULL));
}

/* ---- MX ----------------------------------------------------------------------------------------- */

static void test_mx(void) {
  enum { N = 40 }; /* two blocks, the second of 8 */
  float x[N], y[N];
  uint8_t codes[N], codes2[N], scales[2];
  lowbit_gse_stats stats;
  lowbit_mx_options o = LOWBIT_MX_OPTIONS_INIT; /* MXFP8 E4M3, rna */
  CHECK(lowbit_mx_blocks(0) == 0 && lowbit_mx_blocks(32) == 1 && lowbit_mx_blocks(N) == 2);

  /* docs/formats/mx.md: the scale is 2^(floor(log2 amax) - emax). Block 0 has amax 1 and E4M3's emax
   * is 8: scale field 127 - 8 = 119, 1 -> 2^8 (0x78), 0.5 -> 0x70, -1 -> 0xF8. Block 1 has amax 6:
   * scale field 127 + 2 - 8 = 121, 6 -> 1.5 * 2^8 (0x7C). */
  for (int i = 0; i < N; ++i) x[i] = 0.0f;
  x[0] = 1.0f;
  x[1] = 0.5f;
  x[2] = -1.0f;
  x[32] = 6.0f;
  EXPECT_STATUS(LOWBIT_OK, lowbit_mx_encode_f32(N, x, codes, N, scales, 2, &stats, &o));
  CHECK(scales[0] == 119 && scales[1] == 121);
  CHECK(codes[0] == 0x78 && codes[1] == 0x70 && codes[2] == 0xF8 && codes[3] == 0x00 && codes[32] == 0x7C);
  CHECK(stats.groups == 2 && stats.nan_groups == 0);
  EXPECT_STATUS(LOWBIT_OK, lowbit_mx_decode_f32(N, codes, scales, y, N, &o));
  for (int i = 0; i < N; ++i) CHECK(y[i] == x[i]);

  /* MXFP4 E2M1 (emax 2): amax 6 -> scale 127, 6 = 0x7, 1 = 0x2, -0.5 = 0x9 (sign at bit 3). */
  const float fp4[4] = {6.0f, 1.0f, -0.5f, 0.0f};
  o.format = LOWBIT_MX_FP4_E2M1;
  EXPECT_STATUS(LOWBIT_OK, lowbit_mx_encode_f32(4, fp4, codes, 4, scales, 1, NULL, &o));
  CHECK(scales[0] == 127 && codes[0] == 0x7 && codes[1] == 0x2 && codes[2] == 0x9 && codes[3] == 0x0);
  /* MXINT8: elements k / 64 (emax 0): amax 1 -> scale 127, 1 = 64, -0.5 = -32. */
  o.format = LOWBIT_MX_INT8;
  EXPECT_STATUS(LOWBIT_OK, lowbit_mx_encode_f32(3, fp4 + 1, codes, 3, scales, 1, NULL, &o));
  CHECK(scales[0] == 127 && codes[0] == 64 && codes[1] == 0xE0 && codes[2] == 0);
  /* A NaN makes its block NaN: scale 0xFF, and NaN values back. */
  x[5] = NAN;
  o.format = LOWBIT_MX_FP6_E3M2;
  EXPECT_STATUS(LOWBIT_OK, lowbit_mx_encode_f32(N, x, codes, N, scales, 2, &stats, &o));
  CHECK(scales[0] == 0xFF && stats.nan_groups == 1 && stats.groups == 2);
  EXPECT_STATUS(LOWBIT_OK, lowbit_mx_decode_f32(N, codes, scales, y, N, &o));
  CHECK(isnan(y[0]) && y[32] == 6.0f);

  /* Stochastic rounding: reproducible from the seed and index0. */
  for (int i = 0; i < N; ++i) x[i] = 1.0f + (float)i / 64.0f;
  o.format = LOWBIT_MX_FP6_E2M3;
  o.rounding = LOWBIT_ROUND_SR;
  o.seed = 7;
  EXPECT_STATUS(LOWBIT_OK, lowbit_mx_encode_f32(N, x, codes, N, scales, 2, NULL, &o));
  EXPECT_STATUS(LOWBIT_OK, lowbit_mx_encode_f32(32, x, codes2, 32, scales, 1, NULL, &o));
  o.index0 = 32;
  EXPECT_STATUS(LOWBIT_OK, lowbit_mx_encode_f32(8, x + 32, codes2 + 32, 8, scales + 1, 1, NULL, &o));
  CHECK(memcmp(codes, codes2, N) == 0);

  /* Errors: a code wider than FP4 is malformed data. */
  o = (lowbit_mx_options)LOWBIT_MX_OPTIONS_INIT;
  o.format = LOWBIT_MX_FP4_E2M1;
  memset(codes, 0x0F, 4);
  codes[1] = 0x10;
  EXPECT_STATUS(LOWBIT_E_DATA, lowbit_mx_decode_f32(4, codes, scales, y, 4, &o));
  EXPECT_ERROR_HAS("0x10");
  o.format = 6;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_mx_encode_f32(4, x, codes, 4, scales, 1, NULL, &o));
  EXPECT_ERROR_HAS("format");
  o.format = LOWBIT_MX_INT8;
  o.rounding = 4;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_mx_decode_f32(4, codes, scales, y, 4, &o));
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_mx_encode_f32(N, x, codes, N, scales, 1, NULL, NULL));
  EXPECT_ERROR_HAS("scales has 1 elements, expected 2");
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_mx_encode_f32(N, x, codes, 32, scales, 2, NULL, NULL));
  EXPECT_ERROR_HAS("codes has 32 elements, expected 40");
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_mx_decode_f32(N, codes, scales, y, 1, NULL));
  EXPECT_ERROR_HAS("out has 1 elements, expected 40");
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_mx_decode_f32(N, codes, NULL, y, N, NULL));
  EXPECT_ERROR_HAS("scales is NULL");
}

/* ---- NVFP4 -------------------------------------------------------------------------------------- */

/* docs/formats/nvfp4.md, section 7: one row of 32 values, amax 2688 (S_enc 1). */
static void nvfp4_worked_example(float x[32]) {
  static const float block0[4] = {2688.0f, 1120.0f, -1344.0f, 100.0f};
  static const float block1[8] = {6.0f, 3.0f, 0.75f, -0.25f, 1.25f, 5.0f, -0.1f, -0.0f};
  for (int i = 0; i < 32; ++i) x[i] = 0.0f;
  memcpy(x, block0, sizeof block0);
  memcpy(x + 16, block1, sizeof block1);
}

static void test_nvfp4(void) {
  float x[32], y[32], amax = 0.0f;
  uint8_t codes[32], packed[16], scales[512];
  lowbit_nvfp4_options o = LOWBIT_NVFP4_OPTIONS_INIT; /* one row, 1x16 blocks, linear scales, rne, unpacked */
  nvfp4_worked_example(x);

  /* Sizes: a row of 32 has two scales; rows of 16, one each; swizzled, a 128 x 4 tile. */
  CHECK(lowbit_nvfp4_scales(32, NULL) == 2 && lowbit_nvfp4_code_bytes(33, NULL) == 33);
  o.cols = 20;
  CHECK(lowbit_nvfp4_scales(40, &o) == 4 && lowbit_nvfp4_random_words(40, &o) == 10);
  CHECK(lowbit_nvfp4_scales(30, &o) == 0 && lowbit_nvfp4_code_bytes(30, &o) == 0); /* 20 does not divide 30 */
  o.cols = 0;
  o.scale_layout = LOWBIT_NVFP4_SCALES_SWIZZLED;
  CHECK(lowbit_nvfp4_scales(32, &o) == 512);
  o.scale_layout = 2;
  CHECK(lowbit_nvfp4_scales(32, &o) == 0);
  o.scale_layout = LOWBIT_NVFP4_SCALES_LINEAR;
  o.packed = 1;
  CHECK(lowbit_nvfp4_code_bytes(33, &o) == 17 && lowbit_nvfp4_code_bytes(32, &o) == 16);
  o.packed = 0;

  /* The worked example's bytes: scales 448 (0x7E) and 1 (0x38); block 0's codes 7, 4, 13, 0, block 1's
   * 7, 5, 2, 8, 2, 6, 8, 0; and its values back. */
  static const uint8_t want[16] = {7, 4, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  static const uint8_t want1[8] = {7, 5, 2, 8, 2, 6, 8, 0};
  static const float back0[4] = {2688.0f, 896.0f, -1344.0f, 0.0f}, back1[8] = {6.0f, 3.0f, 1.0f, -0.0f, 1.0f, 4.0f, -0.0f, 0.0f};
  EXPECT_STATUS(LOWBIT_OK, lowbit_nvfp4_encode_f32(32, x, codes, 32, scales, 2, &amax, &o));
  CHECK(amax == 2688.0f && scales[0] == 0x7E && scales[1] == 0x38);
  CHECK(memcmp(codes, want, 16) == 0 && memcmp(codes + 16, want1, 8) == 0 && codes[31] == 0);
  EXPECT_STATUS(LOWBIT_OK, lowbit_nvfp4_decode_f32(32, codes, scales, amax, y, 32, &o));
  CHECK(memcmp(y, back0, sizeof back0) == 0 && memcmp(y + 16, back1, sizeof back1) == 0 && y[4] == 0.0f);
  EXPECT_STATUS(LOWBIT_OK, lowbit_nvfp4_encode_f32(32, x, codes, 32, scales, 2, NULL, NULL)); /* NULL: the defaults */

  /* Packed: element 2j in the low nibble of byte j (CUDA's fp4x2), and back. */
  o.packed = 1;
  EXPECT_STATUS(LOWBIT_OK, lowbit_nvfp4_encode_f32(32, x, packed, 16, scales, 2, NULL, &o));
  CHECK(packed[0] == 0x47 && packed[1] == 0x0D && packed[8] == 0x57 && packed[9] == 0x82 && packed[10] == 0x62 &&
        packed[11] == 0x08 && packed[15] == 0x00);
  EXPECT_STATUS(LOWBIT_OK, lowbit_nvfp4_decode_f32(32, packed, scales, amax, y, 32, &o));
  CHECK(memcmp(y, back0, sizeof back0) == 0 && memcmp(y + 16, back1, sizeof back1) == 0);
  /* 31 elements: the last byte's high nibble is padding, and must be zero. */
  EXPECT_STATUS(LOWBIT_OK, lowbit_nvfp4_encode_f32(31, x, packed, 16, scales, 2, NULL, &o));
  CHECK(packed[15] == 0x00);
  packed[15] = 0x10;
  EXPECT_STATUS(LOWBIT_E_DATA, lowbit_nvfp4_decode_f32(31, packed, scales, amax, y, 31, &o));
  o.packed = 0;

  /* sr with given words: all-zero bits round toward zero (0.75 -> 0.5, 5 -> 4; -0.0 keeps its sign). */
  static const uint8_t want_sr1[8] = {7, 5, 1, 8, 2, 6, 8, 8};
  uint32_t words[8];
  memset(words, 0, sizeof words);
  o.rounding = LOWBIT_ROUND_SR;
  o.random_bits = words;
  CHECK(lowbit_nvfp4_random_words(32, &o) == 8);
  EXPECT_STATUS(LOWBIT_OK, lowbit_nvfp4_encode_f32(32, x, codes, 32, scales, 2, NULL, &o));
  CHECK(memcmp(codes + 16, want_sr1, 8) == 0);
  /* Philox words: two rows of 16 encoded apart (index0 = 4 words per row, the tensor's amax given) are
   * the whole matrix's codes. */
  o.random_bits = NULL;
  o.seed = 7;
  o.cols = 16;
  EXPECT_STATUS(LOWBIT_OK, lowbit_nvfp4_encode_f32(32, x, codes, 32, scales, 2, &amax, &o));
  uint8_t rows[32], row_scales[2];
  o.global_amax = &amax;
  EXPECT_STATUS(LOWBIT_OK, lowbit_nvfp4_encode_f32(16, x, rows, 16, row_scales, 1, NULL, &o));
  o.index0 = 4;
  EXPECT_STATUS(LOWBIT_OK, lowbit_nvfp4_encode_f32(16, x + 16, rows + 16, 16, row_scales + 1, 1, NULL, &o));
  CHECK(memcmp(codes, rows, 32) == 0 && memcmp(scales, row_scales, 2) == 0);

  /* Errors. */
  o = (lowbit_nvfp4_options)LOWBIT_NVFP4_OPTIONS_INIT;
  o.rounding = LOWBIT_ROUND_RNA;
  EXPECT_STATUS(LOWBIT_E_UNSUPPORTED, lowbit_nvfp4_encode_f32(32, x, codes, 32, scales, 2, NULL, &o));
  o.rounding = 4;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nvfp4_encode_f32(32, x, codes, 32, scales, 2, NULL, &o));
  EXPECT_ERROR_HAS("rounding");
  o.rounding = LOWBIT_ROUND_RNE;
  o.blocking = 2;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nvfp4_encode_f32(32, x, codes, 32, scales, 2, NULL, &o));
  EXPECT_ERROR_HAS("blocking");
  o.blocking = LOWBIT_NVFP4_BLOCKING_2D;
  o.scale_layout = 2;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nvfp4_decode_f32(32, codes, scales, amax, y, 32, &o));
  EXPECT_ERROR_HAS("scale_layout");
  o.scale_layout = LOWBIT_NVFP4_SCALES_LINEAR;
  o.packed = 2;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nvfp4_encode_f32(32, x, codes, 32, scales, 2, NULL, &o));
  EXPECT_ERROR_HAS("packed");
  o.packed = 0;
  o.random_bits = words; /* words without sr */
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nvfp4_encode_f32(32, x, codes, 32, scales, 2, NULL, &o));
  o.random_bits = NULL;
  o.cols = 24;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nvfp4_encode_f32(32, x, codes, 32, scales, 2, NULL, &o));
  EXPECT_ERROR_HAS("not rows of 24");
  o.cols = 0;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nvfp4_encode_f32(32, x, codes, 32, scales, 1, NULL, &o));
  EXPECT_ERROR_HAS("scales has 1 elements, expected 2");
  o.packed = 1;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nvfp4_encode_f32(32, x, codes, 32, scales, 2, NULL, &o));
  EXPECT_ERROR_HAS("codes has 32 elements, expected 16");
  o.packed = 0;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nvfp4_decode_f32(32, codes, scales, amax, y, 31, &o));
  EXPECT_ERROR_HAS("out has 31 elements, expected 32");
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_nvfp4_encode_f32(32, NULL, codes, 32, scales, 2, NULL, &o));
  EXPECT_ERROR_HAS("in is NULL");
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_nvfp4_encode_f32(32, x, NULL, 32, scales, 2, NULL, &o));
  EXPECT_ERROR_HAS("codes is NULL");
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_nvfp4_decode_f32(32, codes, NULL, amax, y, 32, &o));
  EXPECT_ERROR_HAS("scales is NULL");
  codes[5] = 0x10; /* wider than E2M1 */
  EXPECT_STATUS(LOWBIT_E_DATA, lowbit_nvfp4_decode_f32(32, codes, scales, amax, y, 32, &o));
  EXPECT_ERROR_HAS("0x10");
  EXPECT_STATUS(LOWBIT_OK, lowbit_nvfp4_encode_f32(0, NULL, NULL, 0, NULL, 0, NULL, NULL));
  EXPECT_STATUS(LOWBIT_OK, lowbit_nvfp4_decode_f32(0, NULL, NULL, 0.0f, NULL, 0, NULL));
}

/* ---- NF4 / FP4 ---------------------------------------------------------------------------------- */

static void test_nf4_known_values(void) {
  /* docs/formats/nf4.md: NF4 code 15 is +1, 0 is -1, 7 is 0, 12 is 0.44070 (the nearest to 0.5);
   * bitsandbytes' FP4 codes 3 (+1), 11 (-1), 0 (+0), 5 (0.5). Element 2j is the high nibble of byte j,
   * an odd count pads with the code of 0. */
  const float x[4] = {1.0f, -1.0f, 0.0f, 0.5f};
  uint8_t packed[2];
  float absmax, y[4];
  lowbit_nf4_options o = LOWBIT_NF4_OPTIONS_INIT;
  EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_encode_f32(4, x, packed, 2, &absmax, 1, &o));
  CHECK(packed[0] == 0xF0 && packed[1] == 0x7C && absmax == 1.0f);
  EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_decode_f32(4, packed, &absmax, y, 4, &o));
  CHECK(y[0] == 1.0f && y[1] == -1.0f && y[2] == 0.0f && f32_bits(y[3]) == 0x3EE1A4B8u);
  EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_encode_f32(3, x, packed, 2, &absmax, 1, NULL));
  CHECK(packed[0] == 0xF0 && packed[1] == 0x77);
  o.table = LOWBIT_NF4_TABLE_FP4;
  EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_encode_f32(4, x, packed, 2, &absmax, 1, &o));
  CHECK(packed[0] == 0x3B && packed[1] == 0x05);
  EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_decode_f32(4, packed, &absmax, y, 4, &o));
  CHECK(y[0] == 1.0f && y[1] == -1.0f && y[2] == 0.0f && y[3] == 0.5f);
}

static void test_nf4_profiles(void) {
  enum { N = 130 }; /* 3 blocks of 64, the last one short; an odd count */
  float x[N], y[N], absmax[3];
  uint8_t packed[65];
  CHECK(lowbit_nf4_packed_bytes(N) == 65);
  CHECK(lowbit_nf4_packed_bytes(0) == 0);
  CHECK(lowbit_nf4_blocks(N, 64) == 3 && lowbit_nf4_blocks(N, 0) == 0);
  const char* profiles[5] = {NULL, "lowbit", "bnb-cuda", "bnb-cpu", "bnb-torch"};
  for (lowbit_nf4_table table = LOWBIT_NF4_TABLE_NF4; table <= LOWBIT_NF4_TABLE_FP4; ++table) {
    for (int p = 0; p < 5; ++p) {
      lowbit_nf4_options o = LOWBIT_NF4_OPTIONS_INIT;
      o.table = table;
      o.profile = profiles[p];
      for (int i = 0; i < N; ++i) x[i] = cosf((float)i * 0.7f) * (float)(1 + i / 64);
      x[5] = 0.0f;
      EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_encode_f32(N, x, packed, 65, absmax, 3, &o));
      EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_decode_f32(N, packed, absmax, y, N, &o));
      for (int b = 0; b < 3; ++b) {
        float m = 0.0f;
        for (int i = b * 64; i < N && i < (b + 1) * 64; ++i) m = fmaxf(m, fabsf(x[i]));
        CHECK(fabsf(absmax[b] - m) <= m * 1e-6f);
      }
      /* The largest gap between table entries is under 0.35 of absmax (FP4's); half of it bounds the error. */
      for (int i = 0; i < N; ++i) CHECK(fabsf(y[i] - x[i]) <= absmax[i / 64] * 0.35f);
      CHECK(y[5] == 0.0f);
    }
  }

  /* Errors. */
  lowbit_nf4_options o = LOWBIT_NF4_OPTIONS_INIT;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_encode_f32(N, x, packed, 64, absmax, 3, &o));
  EXPECT_ERROR_HAS("packed has 64 elements, expected 65");
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_encode_f32(N, x, packed, 65, absmax, 2, &o));
  EXPECT_ERROR_HAS("absmax has 2 elements, expected 3");
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_decode_f32(N, packed, absmax, y, N - 1, &o));
  EXPECT_ERROR_HAS("out has 129 elements, expected 130");
  o.block = 48;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_encode_f32(N, x, packed, 65, absmax, 3, &o));
  EXPECT_ERROR_HAS("block");
  o.block = 64;
  o.profile = "bnb-gpu";
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_encode_f32(N, x, packed, 65, absmax, 3, &o));
  EXPECT_ERROR_HAS("bnb-gpu");
  o.profile = NULL;
  o.table = 2;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_decode_f32(N, packed, absmax, y, N, &o));
  EXPECT_ERROR_HAS("table");
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_nf4_encode_f32(N, x, packed, 65, NULL, 3, NULL));
  EXPECT_ERROR_HAS("absmax is NULL");
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_nf4_decode_f32(N, NULL, absmax, y, N, NULL));
  EXPECT_ERROR_HAS("packed is NULL");
}

static void test_nf4_double_quantization(void) {
  float map[LOWBIT_NF4_MAP_SIZE], bad_map[LOWBIT_NF4_MAP_SIZE];
  EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_dynamic_map(map, LOWBIT_NF4_MAP_SIZE));
  /* bitsandbytes' signed map: sorted, 0 at index 127, 1 at 255, its most negative entry above -1. */
  CHECK(map[127] == 0.0f && map[255] == 1.0f && map[0] > -1.0f && map[0] < -0.99f);
  for (int k = 1; k < LOWBIT_NF4_MAP_SIZE; ++k) CHECK(map[k - 1] < map[k]);
  CHECK(lowbit_nf4_nested_blocks(0) == 0 && lowbit_nf4_nested_blocks(256) == 1 && lowbit_nf4_nested_blocks(257) == 2);

  /* absmax {3, 2, 1, 2}: offset 2 (the mean), nested absmax 1, codes of +1, 0, -1 (map[0]), 0. */
  const float absmax[4] = {3.0f, 2.0f, 1.0f, 2.0f};
  uint8_t codes[4], codes2[4];
  float nested, nested2, offset = 0.0f, back[4];
  lowbit_nf4_dq_options o = LOWBIT_NF4_DQ_OPTIONS_INIT;
  EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_double_quantize(4, absmax, codes, 4, &nested, 1, &offset, &o));
  CHECK(offset == 2.0f && nested == 1.0f);
  CHECK(codes[0] == 255 && codes[1] == 127 && codes[2] == 0 && codes[3] == 127);
  EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_double_dequantize(4, codes, &nested, offset, back, 4, &o));
  CHECK(back[0] == 3.0f && back[1] == 2.0f && back[2] == map[0] + 2.0f && back[3] == 2.0f);
  /* The same map given explicitly, and a given offset. */
  const float given = 1.0f;
  o.map = map;
  o.offset = &given;
  EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_double_quantize(4, absmax, codes2, 4, &nested2, 1, &offset, &o));
  CHECK(offset == 1.0f && nested2 == 2.0f && codes2[0] == 255 && codes2[2] == 127);
  o.offset = NULL;
  EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_double_quantize(4, absmax, codes2, 4, &nested2, 1, &offset, &o));
  CHECK(memcmp(codes, codes2, 4) == 0 && nested2 == nested && offset == 2.0f);
  /* Each profile's nested quantizer. bnb-cpu's 65536-entry table looks 0 up at -1 + 2 * 32768 / 65535:
   * above the midpoint of map[130] and map[131] (2.125e-5), so code 131. */
  const char* profiles[4] = {"lowbit", "bnb-cuda", "bnb-cpu", "bnb-torch"};
  const uint8_t zero_code[4] = {127, 127, 131, 127};
  for (int p = 0; p < 4; ++p) {
    o.profile = profiles[p];
    EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_double_quantize(4, absmax, codes2, 4, &nested2, 1, &offset, &o));
    CHECK(codes2[0] == 255 && codes2[1] == zero_code[p] && codes2[2] == 0 && codes2[3] == zero_code[p]);
    CHECK(nested2 == 1.0f && offset == 2.0f);
  }
  CHECK(fabsf(map[131] - 2.125e-5f) < 1e-9f);

  /* QLoRA's whole path: encode, double-quantize the absmax values, and decode with them. */
  enum { N = 64 * 300 }; /* 300 blocks: two nested blocks, the second of 44 */
  static float x[N], y[N], y2[N], am[300], am2[300], nest[2];
  static uint8_t packed[N / 2], qabsmax[300];
  for (int i = 0; i < N; ++i) x[i] = sinf((float)i) * (1.0f + (float)(i % 977) / 977.0f);
  EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_encode_f32(N, x, packed, N / 2, am, 300, NULL));
  EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_double_quantize(300, am, qabsmax, 300, nest, 2, &offset, NULL));
  EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_double_dequantize(300, qabsmax, nest, offset, am2, 300, NULL));
  EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_decode_f32(N, packed, am, y, N, NULL));
  EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_decode_f32(N, packed, am2, y2, N, NULL));
  for (int b = 0; b < 300; ++b) CHECK(fabsf(am2[b] - am[b]) <= nest[b / 256] * 0.01f); /* map steps near 1 */
  for (int i = 0; i < N; ++i) CHECK(fabsf(y2[i] - y[i]) <= nest[i / 64 / 256] * 0.01f);

  /* Errors. */
  o = (lowbit_nf4_dq_options)LOWBIT_NF4_DQ_OPTIONS_INIT;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_dynamic_map(map, 255));
  EXPECT_ERROR_HAS("map has 255 elements, expected 256");
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_nf4_dynamic_map(NULL, LOWBIT_NF4_MAP_SIZE));
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_double_quantize(4, absmax, codes, 3, &nested, 1, &offset, &o));
  EXPECT_ERROR_HAS("codes has 3 elements, expected 4");
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_double_quantize(4, absmax, codes, 4, &nested, 2, &offset, &o));
  EXPECT_ERROR_HAS("nested_absmax has 2 elements, expected 1");
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_nf4_double_quantize(4, absmax, codes, 4, &nested, 1, NULL, &o));
  EXPECT_ERROR_HAS("offset is NULL");
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_double_dequantize(4, codes, &nested, 2.0f, back, 5, &o));
  EXPECT_ERROR_HAS("absmax has 5 elements, expected 4");
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_nf4_double_dequantize(4, codes, NULL, 2.0f, back, 4, &o));
  EXPECT_ERROR_HAS("nested_absmax is NULL");
  memcpy(bad_map, map, sizeof map);
  bad_map[3] = 2.0f; /* outside [-1, 1], and not sorted */
  o.map = bad_map;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_double_quantize(4, absmax, codes, 4, &nested, 1, &offset, &o));
  EXPECT_ERROR_HAS("map");
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_double_dequantize(4, codes, &nested, 2.0f, back, 4, &o));
  o.map = NULL;
  o.profile = "bnb-gpu";
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_double_quantize(4, absmax, codes, 4, &nested, 1, &offset, &o));
  EXPECT_ERROR_HAS("bnb-gpu");
}

/* ---- QEFT --------------------------------------------------------------------------------------- */

static void test_qeft_matvec(void) {
  /* OC 16, IC 128, groups of 64, 8 weak columns. With every scale 0, W[o][j] = scaled_zeros[g][o]
   * whatever the 4-bit codes are: row o is (o % 8 + 1) in the quantized part and 2 in the weak columns. */
  enum { OC = 16, IC = 128, G = 64, K = 8 };
  static int16_t qweight[OC / 4 * IC];
  static uint16_t scales[IC / G * OC], zeros[IC / G * OC], oweight[OC * K];
  float x[IC], y[OC + 1];
  for (int i = 0; i < OC / 4 * IC; ++i) qweight[i] = (int16_t)(i * 2654435761u >> 16);
  for (int g = 0; g < IC / G; ++g)
    for (int o = 0; o < OC; ++o) {
      scales[g * OC + o] = 0;
      zeros[g * OC + o] = f16_of((float)(o % 8 + 1));
    }
  for (int i = 0; i < OC * K; ++i) oweight[i] = 0x4000; /* 2.0 */
  for (int j = 0; j < IC; ++j) x[j] = 1.0f;

  lowbit_qeft_matrix w = {OC, IC, K, G, qweight, scales, zeros, oweight};
  EXPECT_STATUS(LOWBIT_OK, lowbit_qeft_matvec(&w, x, y, OC));
  for (int o = 0; o < OC; ++o) CHECK(y[o] == (float)((o % 8 + 1) * (IC - K) + 2 * K));
  w.k = 0;
  w.oweight = NULL;
  EXPECT_STATUS(LOWBIT_OK, lowbit_qeft_matvec(&w, x, y, OC));
  for (int o = 0; o < OC; ++o) CHECK(y[o] == (float)((o % 8 + 1) * IC));

  /* Errors. */
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_matvec(&w, x, y, OC + 1));
  EXPECT_ERROR_HAS("y has 17 elements, expected 16");
  w.k = K; /* oweight is NULL */
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_matvec(&w, x, y, OC));
  w.k = 0;
  w.oc = 12;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_matvec(&w, x, y, 12));
  EXPECT_ERROR_HAS("OC");
  w.oc = OC;
  w.group = 48;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_matvec(&w, x, y, OC));
  w.group = G;
  w.qweight = NULL;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_matvec(&w, x, y, OC));
  w.qweight = qweight;
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_qeft_matvec(NULL, x, y, OC));
  EXPECT_ERROR_HAS("w is NULL");
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_qeft_matvec(&w, NULL, y, OC));
  EXPECT_ERROR_HAS("x is NULL");
  EXPECT_STATUS(LOWBIT_OK, lowbit_qeft_matvec(&w, x, y, OC)); /* and a success clears the message */
}

static void test_qeft_pack(void) {
  /* OC 8, IC 64, groups of 32, weak columns 5 and 40. Every group of quantized columns holds the
   * integers 0..15, so min-max gives the scale 1 and the zero 0: each weight is its own code, and the
   * packed layer computes W x exactly. The layout keeps the 62 quantized columns in order, then 5, 40. */
  enum { OC = 8, IC = 64, K = 2 };
  static float w[OC * IC];
  static int16_t qweight[OC / 4 * IC];
  static uint16_t scales[2 * OC], zeros[2 * OC], oweight[OC * K];
  const int32_t weak[K] = {5, 40};
  int32_t order[IC];
  float x[IC], y[OC];
  for (int j = 0, q = 0; j < IC; ++j)
    if (j != 5 && j != 40) order[q++] = j;
  order[IC - 2] = 5;
  order[IC - 1] = 40;
  for (int r = 0; r < OC; ++r)
    for (int j = 0; j < IC; ++j) w[r * IC + j] = j == 5 || j == 40 ? 0.25f * (float)(r + 1) + (float)j : (float)((j + r) % 16);

  lowbit_qeft_pack_options o = LOWBIT_QEFT_PACK_OPTIONS_INIT;
  lowbit_qeft_sizes sizes;
  o.group = 32;
  o.tuning = LOWBIT_WEAK_TUNING_MINMAX;
  EXPECT_STATUS(LOWBIT_OK, lowbit_qeft_buffer_sizes(OC, IC, K, &o, &sizes));
  CHECK(sizes.qweight == OC / 4 * IC && sizes.scales == 2 * OC && sizes.oweight == OC * K && sizes.group == 32);
  EXPECT_STATUS(LOWBIT_OK, lowbit_qeft_pack(OC, IC, w, K, weak, qweight, sizes.qweight, scales, sizes.scales, zeros,
                                            sizes.scales, oweight, sizes.oweight, &o));
  for (int i = 0; i < 2 * OC; ++i) CHECK(scales[i] == 0x3C00 && (zeros[i] & 0x7FFF) == 0);
  for (int r = 0; r < OC; ++r) CHECK(oweight[r * K] == f16_of(w[r * IC + 5]) && oweight[r * K + 1] == f16_of(w[r * IC + 40]));
  const lowbit_qeft_matrix m = {OC, IC, K, sizes.group, qweight, scales, zeros, oweight};
  for (int j = 0; j < IC; ++j) { /* column j of the layout: W e_j */
    for (int i = 0; i < IC; ++i) x[i] = i == j ? 1.0f : 0.0f;
    EXPECT_STATUS(LOWBIT_OK, lowbit_qeft_matvec(&m, x, y, OC));
    for (int r = 0; r < OC; ++r) CHECK(y[r] == w[r * IC + order[j]]);
  }
  /* The defaults (mse over one clip range, groups of 128) need IC to be a multiple of 128; per
   * channel (group 0) has one group of IC columns. */
  o = (lowbit_qeft_pack_options)LOWBIT_QEFT_PACK_OPTIONS_INIT;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_buffer_sizes(OC, IC, K, &o, &sizes));
  EXPECT_ERROR_HAS("group");
  EXPECT_STATUS(LOWBIT_OK, lowbit_qeft_buffer_sizes(OC, 128, K, NULL, &sizes));
  CHECK(sizes.qweight == OC / 4 * 128 && sizes.scales == OC && sizes.oweight == OC * K && sizes.group == 128);
  o.group = 0;
  EXPECT_STATUS(LOWBIT_OK, lowbit_qeft_buffer_sizes(OC, IC, 0, &o, &sizes));
  CHECK(sizes.scales == OC && sizes.oweight == 0 && sizes.group == IC);
  EXPECT_STATUS(LOWBIT_OK, lowbit_qeft_pack(OC, IC, w, 0, NULL, qweight, sizes.qweight, scales, OC, zeros, OC, NULL, 0, &o));

  /* Errors. */
  o.group = 32;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_buffer_sizes(12, IC, K, &o, &sizes));
  EXPECT_ERROR_HAS("OC");
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_buffer_sizes(OC, IC, IC, &o, &sizes));
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_qeft_buffer_sizes(OC, IC, K, &o, NULL));
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_pack(OC, IC, w, K, weak, qweight, 1, scales, 16, zeros, 16, oweight, 16, &o));
  EXPECT_ERROR_HAS("qweight has 1 elements, expected 128");
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_pack(OC, IC, w, K, weak, qweight, 128, scales, 16, zeros, 15, oweight, 16, &o));
  EXPECT_ERROR_HAS("scaled_zeros has 15 elements, expected 16");
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_pack(OC, IC, w, K, weak, qweight, 128, scales, 16, zeros, 16, oweight, 8, &o));
  EXPECT_ERROR_HAS("oweight has 8 elements, expected 16");
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_qeft_pack(OC, IC, NULL, K, weak, qweight, 128, scales, 16, zeros, 16, oweight, 16, &o));
  EXPECT_ERROR_HAS("w is NULL");
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_qeft_pack(OC, IC, w, K, NULL, qweight, 128, scales, 16, zeros, 16, oweight, 16, &o));
  EXPECT_ERROR_HAS("weak is NULL");
  const int32_t unsorted[K] = {40, 5}, outside[K] = {5, 64};
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_pack(OC, IC, w, K, unsorted, qweight, 128, scales, 16, zeros, 16, oweight, 16, &o));
  EXPECT_ERROR_HAS("ascending");
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_pack(OC, IC, w, K, outside, qweight, 128, scales, 16, zeros, 16, oweight, 16, &o));
  w[3] = 1e5f; /* beyond binary16 */
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_pack(OC, IC, w, K, weak, qweight, 128, scales, 16, zeros, 16, oweight, 16, &o));
  EXPECT_ERROR_HAS("binary16");
  o.tuning = LOWBIT_WEAK_TUNING_MINMAX;
  o.grid = 10; /* a grid is for mse */
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_buffer_sizes(OC, IC, K, &o, &sizes));
  EXPECT_ERROR_HAS("grid");
  o.grid = 0;
  o.tuning = 2;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_buffer_sizes(OC, IC, K, &o, &sizes));
  EXPECT_ERROR_HAS("tuning");
  o.tuning = LOWBIT_WEAK_TUNING_MSE;
  o.sym = 2;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_buffer_sizes(OC, IC, K, &o, &sizes));
  EXPECT_ERROR_HAS("sym");
}

int main(void) {
  test_version_and_status();
  test_fp8_known_values();
  test_fp8_profiles_and_rounding();
  test_fp8_family();
  test_fp8_errors();
  test_fp8_pack();
  test_gse();
  test_mx();
  test_nvfp4();
  test_nf4_known_values();
  test_nf4_profiles();
  test_nf4_double_quantization();
  test_qeft_matvec();
  test_qeft_pack();
  return c_check_exit("c_api_test", "all checks passed");
}
