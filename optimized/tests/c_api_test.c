/* lowbit/c_api.h from C11: round trips through every codec and the error codes. Exits non-zero on
 * any failure (each one printed). Built against the static and the shared library. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lowbit/c_api.h"

static int failures = 0;

#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                       \
    }                                                                   \
  } while (0)

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

static void test_version(void) {
  CHECK(lowbit_version() == LOWBIT_VERSION);
  CHECK(strcmp(lowbit_version_string(), LOWBIT_VERSION_STRING) == 0);
  CHECK(LOWBIT_VERSION == LOWBIT_VERSION_MAJOR * 10000 + LOWBIT_VERSION_MINOR * 100 + LOWBIT_VERSION_PATCH);
  CHECK(strcmp(lowbit_status_name(LOWBIT_OK), "ok") == 0);
  CHECK(strcmp(lowbit_status_name(LOWBIT_E_INVALID), "invalid argument") == 0);
  CHECK(strcmp(lowbit_status_name(12345), "unknown status") == 0);
  CHECK(lowbit_last_error() != NULL);
}

static void test_fp8(void) {
  /* Known codes (docs/formats/fp8.md): 1 = 0x38 / 0x3C, -2 = 0xC0 / 0xC0, 448 = 0x7E (E4M3 max),
   * 57344 = 0x7B (E5M2 max), 2^-9 = 0x01 (smallest E4M3 subnormal). */
  const float x[5] = {1.0f, -2.0f, 448.0f, 0.0f, 0x1p-9f};
  const uint8_t want_e4m3[5] = {0x38, 0xC0, 0x7E, 0x00, 0x01};
  uint8_t codes[5];
  float back[5];
  lowbit_fp8_options o = LOWBIT_FP8_OPTIONS_INIT;
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(x, 5, codes, &o));
  CHECK(memcmp(codes, want_e4m3, 5) == 0);
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_decode_f32(codes, 5, back, NULL)); /* NULL: the same defaults */
  for (int i = 0; i < 5; ++i) CHECK(back[i] == x[i]);

  o.format = LOWBIT_FP8_E5M2;
  const float y[3] = {1.0f, -2.0f, 57344.0f};
  const uint8_t want_e5m2[3] = {0x3C, 0xC0, 0x7B};
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(y, 3, codes, &o));
  CHECK(memcmp(codes, want_e5m2, 3) == 0);

  /* Every code of both formats decodes and encodes back to itself (NaNs: to a NaN). */
  for (int format = LOWBIT_FP8_E4M3; format <= LOWBIT_FP8_E5M2; ++format) {
    uint8_t all[256], again[256];
    float v[256];
    for (int i = 0; i < 256; ++i) all[i] = (uint8_t)i;
    o.format = format;
    o.rounding = LOWBIT_ROUND_RNE;
    EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_decode_f32(all, 256, v, &o));
    EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(v, 256, again, &o));
    for (int i = 0; i < 256; ++i) {
      if (isnan(v[i]))
        continue;
      CHECK(again[i] == all[i]);
    }
  }

  /* Rounding: 1 + 2^-4 is a tie between 1 (0x38) and 1.125 (0x39) in E4M3. */
  const float tie = 1.0625f;
  o.format = LOWBIT_FP8_E4M3;
  o.rounding = LOWBIT_ROUND_RNE;
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(&tie, 1, codes, &o));
  CHECK(codes[0] == 0x38);
  o.rounding = LOWBIT_ROUND_RNA;
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(&tie, 1, codes, &o));
  CHECK(codes[0] == 0x39);

  /* Profiles: 1000 overflows E4M3: NaN (ml_dtypes) or the largest finite value (ml_dtypes-sat). */
  const float big = 1000.0f;
  o.rounding = LOWBIT_ROUND_RNE;
  o.profile = "ml_dtypes";
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(&big, 1, codes, &o));
  CHECK((codes[0] & 0x7F) == 0x7F);
  o.profile = "ml_dtypes-sat";
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(&big, 1, codes, &o));
  CHECK(codes[0] == 0x7E);

  /* Stochastic rounding: reproducible from the seed, and chunks with index0 round as the whole. */
  float s[100];
  uint8_t whole[100], chunks[100], other[100];
  for (int i = 0; i < 100; ++i) s[i] = 1.0f + (float)i / 1024.0f;
  o.profile = NULL;
  o.rounding = LOWBIT_ROUND_SR;
  o.seed = 42;
  o.index0 = 0;
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(s, 100, whole, &o));
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(s, 60, chunks, &o));
  o.index0 = 60;
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(s + 60, 40, chunks + 60, &o));
  CHECK(memcmp(whole, chunks, 100) == 0);
  o.index0 = 0;
  o.seed = 43;
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(s, 100, other, &o));
  CHECK(memcmp(whole, other, 100) != 0);
  for (int i = 0; i < 100; ++i) CHECK(whole[i] == 0x38 || whole[i] == 0x39 || whole[i] == 0x3A);

  /* Errors. */
  lowbit_fp8_options bad = LOWBIT_FP8_OPTIONS_INIT;
  bad.profile = "no-such-profile";
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_fp8_encode_f32(x, 5, codes, &bad));
  CHECK(strstr(lowbit_last_error(), "no-such-profile") != NULL);
  CHECK(strstr(lowbit_last_error(), "lowbit_fp8_encode_f32") != NULL);
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_fp8_decode_f32(codes, 5, back, &bad));
  bad.profile = NULL;
  bad.format = 7;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_fp8_encode_f32(x, 5, codes, &bad));
  bad.format = LOWBIT_FP8_E4M3;
  bad.rounding = 9;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_fp8_encode_f32(x, 5, codes, &bad));
  bad.rounding = -1;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_fp8_encode_f32(x, 5, codes, &bad));
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_fp8_encode_f32(NULL, 5, codes, NULL));
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_fp8_encode_f32(x, 5, NULL, NULL));
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_fp8_decode_f32(NULL, 1, back, NULL));
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_encode_f32(NULL, 0, NULL, NULL)); /* nothing to do */
  EXPECT_STATUS(LOWBIT_OK, lowbit_fp8_decode_f32(NULL, 0, NULL, NULL));
}

static void test_gse(void) {
  enum { N = 100 }; /* 4 groups of 32, the last one short */
  float x[N], y[N];
  int8_t codes[N];
  uint8_t exps[4];
  lowbit_gse_stats stats;
  lowbit_gse_options o = LOWBIT_GSE_OPTIONS_INIT;
  CHECK(lowbit_gse_groups(N, 32) == 4);
  CHECK(lowbit_gse_groups(0, 32) == 0);
  CHECK(lowbit_gse_groups(5, 0) == 0);

  /* Integers of magnitude <= 100 are exact in INT8 with a group exponent of 2^0. */
  for (int i = 0; i < N; ++i) x[i] = (float)((i * 37) % 201 - 100);
  EXPECT_STATUS(LOWBIT_OK, lowbit_gse_encode_f32(x, N, codes, exps, 4, &o, &stats));
  CHECK(stats.groups == 4);
  CHECK(stats.nan_groups == 0 && stats.saturated == 0);
  EXPECT_STATUS(LOWBIT_OK, lowbit_gse_decode_f32(codes, N, exps, 4, y, &o));
  for (int i = 0; i < N; ++i) CHECK(y[i] == x[i]);

  /* Smooth data, 4 to 8 bits, both exponent fields: within one step of the group's scale. */
  for (int bits = 4; bits <= 8; ++bits) {
    for (int exp_bits = 5; exp_bits <= 8; exp_bits += 3) {
      o.bits = bits;
      o.exp_bits = exp_bits;
      for (int i = 0; i < N; ++i) x[i] = sinf((float)i * 0.3f) * 3.0f;
      EXPECT_STATUS(LOWBIT_OK, lowbit_gse_encode_f32(x, N, codes, exps, 4, &o, NULL));
      EXPECT_STATUS(LOWBIT_OK, lowbit_gse_decode_f32(codes, N, exps, 4, y, &o));
      const int max_code = (1 << (bits - 1)) - 1;
      for (int i = 0; i < N; ++i) {
        CHECK(codes[i] >= -max_code && codes[i] <= max_code);
        CHECK(fabsf(y[i] - x[i]) <= 3.0f * 2.0f / (float)max_code);
      }
    }
  }

  /* Errors. */
  o = (lowbit_gse_options)LOWBIT_GSE_OPTIONS_INIT;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_gse_encode_f32(x, N, codes, exps, 3, &o, NULL)); /* wrong n_exps */
  CHECK(strstr(lowbit_last_error(), "exps") != NULL);
  o.bits = 3;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_gse_encode_f32(x, N, codes, exps, 4, &o, NULL));
  CHECK(strstr(lowbit_last_error(), "bits") != NULL);
  o.bits = 8;
  o.group = 48;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_gse_decode_f32(codes, N, exps, 2, y, &o));
  o.group = 32;
  o.exp_bits = 6;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_gse_encode_f32(x, N, codes, exps, 4, &o, NULL));
  o.exp_bits = 5;
  o.rounding = 4;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_gse_encode_f32(x, N, codes, exps, 4, &o, NULL));
  o.rounding = LOWBIT_ROUND_RNE;
  o.bits = 4;
  codes[0] = 8; /* outside +-7 */
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_gse_decode_f32(codes, N, exps, 4, y, &o));
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_gse_encode_f32(x, N, NULL, exps, 4, NULL, NULL));
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_gse_decode_f32(codes, N, NULL, 4, y, NULL));
}

static void test_nf4(void) {
  enum { N = 130 }; /* 3 blocks of 64, the last one short; an odd count */
  float x[N], y[N], absmax[3];
  uint8_t packed[65];
  CHECK(lowbit_nf4_packed_bytes(N) == 65);
  CHECK(lowbit_nf4_packed_bytes(0) == 0);
  CHECK(lowbit_nf4_blocks(N, 64) == 3);
  const char* profiles[5] = {NULL, "lowbit", "bnb-cuda", "bnb-cpu", "bnb-torch"};
  for (int table = LOWBIT_NF4; table <= LOWBIT_FP4; ++table) {
    for (int p = 0; p < 5; ++p) {
      lowbit_nf4_options o = LOWBIT_NF4_OPTIONS_INIT;
      o.table = table;
      o.profile = profiles[p];
      for (int i = 0; i < N; ++i) x[i] = cosf((float)i * 0.7f) * (float)(1 + i / 64);
      x[5] = 0.0f;
      EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_quantize_f32(x, N, packed, 65, absmax, 3, &o));
      EXPECT_STATUS(LOWBIT_OK, lowbit_nf4_dequantize_f32(packed, 65, absmax, 3, y, N, &o));
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
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_quantize_f32(x, N, packed, 64, absmax, 3, &o)); /* wrong n_packed */
  CHECK(strstr(lowbit_last_error(), "packed") != NULL);
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_dequantize_f32(packed, 65, absmax, 2, y, N, &o)); /* wrong n_absmax */
  o.block = 48;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_quantize_f32(x, N, packed, 65, absmax, 3, &o));
  CHECK(strstr(lowbit_last_error(), "block") != NULL);
  o.block = 64;
  o.profile = "bnb-gpu";
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_quantize_f32(x, N, packed, 65, absmax, 3, &o));
  CHECK(strstr(lowbit_last_error(), "bnb-gpu") != NULL);
  o.profile = NULL;
  o.table = 2;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_nf4_dequantize_f32(packed, 65, absmax, 3, y, N, &o));
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_nf4_quantize_f32(x, N, packed, 65, NULL, 3, NULL));
}

static uint16_t f16_of_small_int(int v) { /* 1..8 as binary16 bits */
  int e = 0;
  while ((1 << (e + 1)) <= v) ++e;
  return (uint16_t)(((e + 15) << 10) | (((v << 10) >> e) & 0x3FF));
}

static void test_qeft(void) {
  /* OC 16, IC 128, groups of 64, 8 weak columns. With every scale 0, W[o][j] = scaled_zeros[g][o]
   * whatever the 4-bit codes are: row o is (o % 8 + 1) in the quantized part and 2 in the weak columns. */
  enum { OC = 16, IC = 128, G = 64, K = 8 };
  static int16_t qweight[OC / 4 * IC];
  static uint16_t scales[IC / G * OC], zeros[IC / G * OC], oweight[OC * K];
  float x[IC], y[OC];
  for (int i = 0; i < OC / 4 * IC; ++i) qweight[i] = (int16_t)(i * 2654435761u >> 16);
  for (int g = 0; g < IC / G; ++g)
    for (int o = 0; o < OC; ++o) {
      scales[g * OC + o] = 0;
      zeros[g * OC + o] = f16_of_small_int(o % 8 + 1);
    }
  for (int i = 0; i < OC * K; ++i) oweight[i] = 0x4000; /* 2.0 */
  for (int j = 0; j < IC; ++j) x[j] = 1.0f;
  CHECK(f16_of_small_int(1) == 0x3C00 && f16_of_small_int(3) == 0x4200 && f16_of_small_int(8) == 0x4800);

  lowbit_qeft_matrix w = {OC, IC, K, G, qweight, scales, zeros, oweight};
  EXPECT_STATUS(LOWBIT_OK, lowbit_qeft_matvec(&w, x, IC, y, OC));
  for (int o = 0; o < OC; ++o) CHECK(y[o] == (float)((o % 8 + 1) * (IC - K) + 2 * K));

  w.k = 0;
  w.oweight = NULL;
  EXPECT_STATUS(LOWBIT_OK, lowbit_qeft_matvec(&w, x, IC, y, OC));
  for (int o = 0; o < OC; ++o) CHECK(y[o] == (float)((o % 8 + 1) * IC));

  /* Errors. */
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_matvec(&w, x, IC - 1, y, OC));
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_matvec(&w, x, IC, y, OC + 1));
  w.k = K; /* oweight is NULL */
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_matvec(&w, x, IC, y, OC));
  w.k = 0;
  w.oc = 12;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_matvec(&w, x, IC, y, 12));
  CHECK(strstr(lowbit_last_error(), "OC") != NULL);
  w.oc = OC;
  w.group = 48;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_matvec(&w, x, IC, y, OC));
  w.group = G;
  w.qweight = NULL;
  EXPECT_STATUS(LOWBIT_E_INVALID, lowbit_qeft_matvec(&w, x, IC, y, OC));
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_qeft_matvec(NULL, x, IC, y, OC));
  w.qweight = qweight;
  EXPECT_STATUS(LOWBIT_E_NULL, lowbit_qeft_matvec(&w, NULL, IC, y, OC));
  EXPECT_STATUS(LOWBIT_OK, lowbit_qeft_matvec(&w, x, IC, y, OC)); /* and a success clears the message */
}

int main(void) {
  test_version();
  test_fp8();
  test_gse();
  test_nf4();
  test_qeft();
  if (failures) {
    fprintf(stderr, "c_api_test: %d failure(s)\n", failures);
    return 1;
  }
  printf("c_api_test: lowbit %s, all checks passed\n", lowbit_version_string());
  return 0;
}
