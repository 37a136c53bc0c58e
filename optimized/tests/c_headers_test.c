/* Both C headers in one translation unit: lowbit/c_api.h (the library) and lowbit/vendor.h (a plugin)
 * share their types through lowbit/c_types.h, so a plugin can hand its options straight to the C API.
 * This file is such a plugin (every slot but the GSE GEMM, which the C API lacks; a version-3 descriptor) and a
 * program that calls it through its descriptor. It also pins the layouts of every version, which plugins compiled
 * once rely on.
 * Built as ISO C11 with -pedantic-errors (ctest c_headers) and as C++20 with -Wall -Wextra -Werror
 * (c_headers_cxx). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "c_check.h"
#include "lowbit/c_api.h"
#include "lowbit/vendor.h"

#ifdef __cplusplus
#define STATIC_ASSERT(cond) static_assert(cond, #cond)
#else
#define STATIC_ASSERT(cond) _Static_assert(cond, #cond)
#endif

/* The vendor ABI version 1 on LP64 targets (x86-64, arm64): frozen (docs/vendor-abi.md). */
#if UINTPTR_MAX == UINT64_MAX
STATIC_ASSERT(sizeof(lowbit_status) == 4 && sizeof(lowbit_rounding) == 4);
STATIC_ASSERT(offsetof(lowbit_fp8_options, rounding) == 4 && offsetof(lowbit_fp8_options, profile) == 8 &&
              offsetof(lowbit_fp8_options, seed) == 16 && offsetof(lowbit_fp8_options, index0) == 24 &&
              offsetof(lowbit_fp8_options, random_bits) == 32 && sizeof(lowbit_fp8_options) == 40);
STATIC_ASSERT(offsetof(lowbit_nf4_options, block) == 4 && offsetof(lowbit_nf4_options, profile) == 8 &&
              sizeof(lowbit_nf4_options) == 16);
STATIC_ASSERT(offsetof(lowbit_gse_format, exp_offset) == 16 && offsetof(lowbit_gse_format, exponent_overflow) == 24 &&
              sizeof(lowbit_gse_format) == 28);
STATIC_ASSERT(offsetof(lowbit_gse_options, rounding) == 28 && offsetof(lowbit_gse_options, seed) == 32 &&
              offsetof(lowbit_gse_options, random_bits) == 48 && sizeof(lowbit_gse_options) == 56);
STATIC_ASSERT(sizeof(lowbit_gse_stats) == 48 && offsetof(lowbit_gse_stats, saturated) == 40);
STATIC_ASSERT(offsetof(lowbit_mx_options, seed) == 8 && sizeof(lowbit_mx_options) == 24);
STATIC_ASSERT(offsetof(lowbit_qeft_matrix, qweight) == 32 && sizeof(lowbit_qeft_matrix) == 64);
STATIC_ASSERT(offsetof(lowbit_vendor_descriptor, fp8_encode_f32) == 16 &&
              offsetof(lowbit_vendor_descriptor, gse_gemm_f32) == 16 + 18 * 8 && sizeof(lowbit_vendor_descriptor) == 168);
/* Version 2: version 1's descriptor whole, then the fp8 format mask. */
STATIC_ASSERT(offsetof(lowbit_vendor_descriptor2, fp8_formats) == 168 && sizeof(lowbit_vendor_descriptor2) == 176);
STATIC_ASSERT(LOWBIT_FP8_E4M3FNUZ == 2 && LOWBIT_FP8_E8M0 == 7 && LOWBIT_FP8_E2M1 == 10 &&
              LOWBIT_FP8_FORMAT_BIT(LOWBIT_FP8_E2M1) == 0x400u);
/* Version 3: version 2's descriptor whole, then the NVFP4 slots, and the options they take. */
STATIC_ASSERT(offsetof(lowbit_nvfp4_options, blocking) == 8 && offsetof(lowbit_nvfp4_options, rounding) == 16 &&
              offsetof(lowbit_nvfp4_options, packed) == 20 && offsetof(lowbit_nvfp4_options, seed) == 24 &&
              offsetof(lowbit_nvfp4_options, random_bits) == 40 && offsetof(lowbit_nvfp4_options, global_amax) == 48 &&
              sizeof(lowbit_nvfp4_options) == 56);
STATIC_ASSERT(offsetof(lowbit_vendor_descriptor3, nvfp4_encode_f32) == 176 &&
              offsetof(lowbit_vendor_descriptor3, nvfp4_decode_f32) == 184 && sizeof(lowbit_vendor_descriptor3) == 192);
/* Version 4: version 3's descriptor whole, then the fp8 formats 32..63; the new roundings and formats. */
STATIC_ASSERT(offsetof(lowbit_vendor_descriptor4, fp8_formats_high) == 192 && sizeof(lowbit_vendor_descriptor4) == 200);
STATIC_ASSERT(LOWBIT_ROUND_RTP == 4 && LOWBIT_ROUND_RTO == 7 && LOWBIT_FP8_BINARY8P1UE == 25 &&
              LOWBIT_FP8_BINARY8P8UF == 40 && LOWBIT_FP8_FORMAT_BIT_HIGH(LOWBIT_FP8_BINARY8P8UF) == 0x100u);
#endif

static lowbit_status fp8_encode_f32(size_t n, const float* in, uint8_t* out, const lowbit_fp8_options* o) {
  return lowbit_fp8_encode_f32(n, in, out, n, o);
}
static lowbit_status fp8_encode_f64(size_t n, const double* in, uint8_t* out, const lowbit_fp8_options* o) {
  return lowbit_fp8_encode_f64(n, in, out, n, o);
}
static lowbit_status fp8_encode_f16(size_t n, const uint16_t* in, uint8_t* out, const lowbit_fp8_options* o) {
  return lowbit_fp8_encode_f16(n, in, out, n, o);
}
static lowbit_status fp8_encode_bf16(size_t n, const uint16_t* in, uint8_t* out, const lowbit_fp8_options* o) {
  return lowbit_fp8_encode_bf16(n, in, out, n, o);
}
static lowbit_status fp8_decode_f32(size_t n, const uint8_t* in, float* out, const lowbit_fp8_options* o) {
  return lowbit_fp8_decode_f32(n, in, out, n, o);
}
static lowbit_status fp8_decode_f16(size_t n, const uint8_t* in, uint16_t* out, const lowbit_fp8_options* o) {
  return lowbit_fp8_decode_f16(n, in, out, n, o);
}
static lowbit_status fp8_decode_bf16(size_t n, const uint8_t* in, uint16_t* out, const lowbit_fp8_options* o) {
  return lowbit_fp8_decode_bf16(n, in, out, n, o);
}
static lowbit_status nf4_encode(size_t n, const float* in, uint8_t* packed, float* absmax, const lowbit_nf4_options* o) {
  return lowbit_nf4_encode_f32(n, in, packed, lowbit_nf4_packed_bytes(n), absmax, lowbit_nf4_blocks(n, o->block), o);
}
static lowbit_status nf4_decode(size_t n, const uint8_t* packed, const float* absmax, float* out, const lowbit_nf4_options* o) {
  return lowbit_nf4_decode_f32(n, packed, absmax, out, n, o);
}
static lowbit_status gse_encode_f32(size_t n, const float* in, int8_t* codes, uint8_t* exps, lowbit_gse_stats* stats,
                                    const lowbit_gse_options* o) {
  return lowbit_gse_encode_f32(n, in, codes, n, exps, lowbit_gse_groups(n, o->format.group), stats, o);
}
static lowbit_status gse_encode_f16(size_t n, const uint16_t* in, int8_t* codes, uint8_t* exps, lowbit_gse_stats* stats,
                                    const lowbit_gse_options* o) {
  return lowbit_gse_encode_f16(n, in, codes, n, exps, lowbit_gse_groups(n, o->format.group), stats, o);
}
static lowbit_status gse_encode_bf16(size_t n, const uint16_t* in, int8_t* codes, uint8_t* exps, lowbit_gse_stats* stats,
                                     const lowbit_gse_options* o) {
  return lowbit_gse_encode_bf16(n, in, codes, n, exps, lowbit_gse_groups(n, o->format.group), stats, o);
}
/* The vendor ABI's GSE decode takes the format alone; the C API takes the options. */
static lowbit_gse_options gse_options(const lowbit_gse_format* f) {
  lowbit_gse_options o = LOWBIT_GSE_OPTIONS_INIT;
  o.format = *f;
  return o;
}
static lowbit_status gse_decode_f32(size_t n, const int8_t* codes, const uint8_t* exps, float* out, const lowbit_gse_format* f) {
  const lowbit_gse_options o = gse_options(f);
  return lowbit_gse_decode_f32(n, codes, exps, out, n, &o);
}
static lowbit_status gse_decode_f16(size_t n, const int8_t* codes, const uint8_t* exps, uint16_t* out,
                                    const lowbit_gse_format* f) {
  const lowbit_gse_options o = gse_options(f);
  return lowbit_gse_decode_f16(n, codes, exps, out, n, &o);
}
static lowbit_status gse_decode_bf16(size_t n, const int8_t* codes, const uint8_t* exps, uint16_t* out,
                                     const lowbit_gse_format* f) {
  const lowbit_gse_options o = gse_options(f);
  return lowbit_gse_decode_bf16(n, codes, exps, out, n, &o);
}
static lowbit_status mx_encode(size_t n, const float* in, uint8_t* codes, uint8_t* scales, const lowbit_mx_options* o) {
  return lowbit_mx_encode_f32(n, in, codes, n, scales, lowbit_mx_blocks(n), NULL, o);
}
static lowbit_status mx_decode(size_t n, const uint8_t* codes, const uint8_t* scales, float* out, const lowbit_mx_options* o) {
  return lowbit_mx_decode_f32(n, codes, scales, out, n, o);
}
static lowbit_status qeft_matvec(const lowbit_qeft_matrix* w, const float* x, float* y) {
  return lowbit_qeft_matvec(w, x, y, w->oc);
}
static lowbit_status nvfp4_encode(size_t n, const float* in, uint8_t* codes, uint8_t* scales, const lowbit_nvfp4_options* o) {
  return lowbit_nvfp4_encode_f32(n, in, codes, lowbit_nvfp4_code_bytes(n, o), scales, lowbit_nvfp4_scales(n, o), NULL, o);
}
static lowbit_status nvfp4_decode(size_t n, const uint8_t* codes, const uint8_t* scales, float global_amax, float* out,
                                  const lowbit_nvfp4_options* o) {
  return lowbit_nvfp4_decode_f32(n, codes, scales, global_amax, out, n, o);
}

static const lowbit_vendor_descriptor3 descriptor3 = {
    .v2 = {.v1 = {.abi_version = LOWBIT_VENDOR_ABI_VERSION_3,
                  .vendor_name = "c-api-forwarder",
                  .fp8_encode_f32 = fp8_encode_f32,
                  .fp8_encode_f64 = fp8_encode_f64,
                  .fp8_encode_f16 = fp8_encode_f16,
                  .fp8_encode_bf16 = fp8_encode_bf16,
                  .fp8_decode_f32 = fp8_decode_f32,
                  .fp8_decode_f16 = fp8_decode_f16,
                  .fp8_decode_bf16 = fp8_decode_bf16,
                  .nf4_quantize_f32 = nf4_encode,
                  .nf4_dequantize_f32 = nf4_decode,
                  .gse_encode_f32 = gse_encode_f32,
                  .gse_encode_f16 = gse_encode_f16,
                  .gse_encode_bf16 = gse_encode_bf16,
                  .gse_decode_f32 = gse_decode_f32,
                  .gse_decode_f16 = gse_decode_f16,
                  .gse_decode_bf16 = gse_decode_bf16,
                  .mx_encode_f32 = mx_encode,
                  .mx_decode_f32 = mx_decode,
                  .qeft_matvec_f32 = qeft_matvec,
                  .gse_gemm_f32 = NULL},
           .fp8_formats = LOWBIT_FP8_FORMAT_BIT(LOWBIT_FP8_E4M3) | LOWBIT_FP8_FORMAT_BIT(LOWBIT_FP8_E5M2)},
    .nvfp4_encode_f32 = nvfp4_encode,
    .nvfp4_decode_f32 = nvfp4_decode,
};

LOWBIT_VENDOR_EXPORT const lowbit_vendor_descriptor3* lowbit_vendor_descriptor_v3(void) { return &descriptor3; }

int main(void) {
  const lowbit_vendor_descriptor3* d3 = lowbit_vendor_descriptor_v3();
  const lowbit_vendor_descriptor* d = &d3->v2.v1;
  const float x[4] = {1.0f, -1.0f, 0.0f, 0.5f};
  const double xd[4] = {1.0, -1.0, 0.0, 0.5};
  const uint16_t xh[4] = {0x3C00, 0xBC00, 0x0000, 0x3800}, xb[4] = {0x3F80, 0xBF80, 0x0000, 0x3F00};
  uint16_t back16[4];
  uint8_t codes[4], scales[1];
  int8_t gse_codes[4];
  float y[4], absmax;
  lowbit_gse_stats stats;
  const lowbit_fp8_options fp8 = LOWBIT_FP8_OPTIONS_INIT;
  const lowbit_nf4_options nf4 = LOWBIT_NF4_OPTIONS_INIT;
  const lowbit_gse_options gse = LOWBIT_GSE_OPTIONS_INIT;
  const lowbit_mx_options mx = LOWBIT_MX_OPTIONS_INIT;

  CHECK(d->abi_version == 3 && strcmp(d->vendor_name, "c-api-forwarder") == 0);
  CHECK(d->gse_gemm_f32 == NULL);
  /* E4M3: 1 = 0x38, -1 = 0xB8, 0.5 = 0x30. */
  CHECK(d->fp8_encode_f32(4, x, codes, &fp8) == LOWBIT_OK);
  CHECK(codes[0] == 0x38 && codes[1] == 0xB8 && codes[2] == 0x00 && codes[3] == 0x30);
  memset(codes, 0, sizeof codes);
  CHECK(d->fp8_encode_f64(4, xd, codes, &fp8) == LOWBIT_OK && codes[3] == 0x30);
  CHECK(d->fp8_decode_f32(4, codes, y, &fp8) == LOWBIT_OK && memcmp(x, y, sizeof x) == 0);
  memset(codes, 0, sizeof codes);
  CHECK(d->fp8_encode_f16(4, xh, codes, &fp8) == LOWBIT_OK && codes[1] == 0xB8 && codes[3] == 0x30);
  CHECK(d->fp8_decode_f16(4, codes, back16, &fp8) == LOWBIT_OK && memcmp(xh, back16, sizeof xh) == 0);
  memset(codes, 0, sizeof codes);
  CHECK(d->fp8_encode_bf16(4, xb, codes, &fp8) == LOWBIT_OK && codes[1] == 0xB8 && codes[3] == 0x30);
  CHECK(d->fp8_decode_bf16(4, codes, back16, &fp8) == LOWBIT_OK && memcmp(xb, back16, sizeof xb) == 0);
  /* NF4: codes 15, 0, 7, 12 (0.44070) in two bytes. */
  CHECK(d->nf4_quantize_f32(4, x, codes, &absmax, &nf4) == LOWBIT_OK);
  CHECK(codes[0] == 0xF0 && codes[1] == 0x7C && absmax == 1.0f);
  CHECK(d->nf4_dequantize_f32(4, codes, &absmax, y, &nf4) == LOWBIT_OK && y[0] == 1.0f && y[2] == 0.0f);
  /* INT8 GSE: 1 = 64 * 2^-6 (field 15), exact. */
  CHECK(d->gse_encode_f32(4, x, gse_codes, codes, &stats, &gse) == LOWBIT_OK);
  CHECK(gse_codes[0] == 64 && gse_codes[1] == -64 && gse_codes[3] == 32 && codes[0] == 15 && stats.groups == 1);
  CHECK(d->gse_decode_f32(4, gse_codes, codes, y, &gse.format) == LOWBIT_OK && memcmp(x, y, sizeof x) == 0);
  CHECK(d->gse_decode_f16(4, gse_codes, codes, back16, &gse.format) == LOWBIT_OK && memcmp(xh, back16, sizeof xh) == 0);
  CHECK(d->gse_decode_bf16(4, gse_codes, codes, back16, &gse.format) == LOWBIT_OK && memcmp(xb, back16, sizeof xb) == 0);
  memset(gse_codes, 0, sizeof gse_codes);
  CHECK(d->gse_encode_f16(4, xh, gse_codes, codes, NULL, &gse) == LOWBIT_OK && gse_codes[3] == 32 && codes[0] == 15);
  memset(gse_codes, 0, sizeof gse_codes);
  CHECK(d->gse_encode_bf16(4, xb, gse_codes, codes, NULL, &gse) == LOWBIT_OK && gse_codes[1] == -64);
  /* MXFP8 E4M3: scale 2^-8 (field 119), 1 = 0x78. */
  CHECK(d->mx_encode_f32(4, x, codes, scales, &mx) == LOWBIT_OK && scales[0] == 119 && codes[0] == 0x78);
  CHECK(d->mx_decode_f32(4, codes, scales, y, &mx) == LOWBIT_OK && memcmp(x, y, sizeof x) == 0);
  /* NVFP4 as the loader calls it, the amax given: 2688 makes S_enc 1, the block's scale 1 / 6 rounds to E4M3
   * 0x23 (0.171875); 1 -> 5.8181... -> 6 (code 7), 0.5 -> 2.909... -> 3 (code 5), and back 1.03125, 0.515625. */
  lowbit_nvfp4_options nv = LOWBIT_NVFP4_OPTIONS_INIT;
  const float amax = 2688.0f;
  nv.global_amax = &amax;
  CHECK(d3->nvfp4_encode_f32(4, x, codes, scales, &nv) == LOWBIT_OK && scales[0] == 0x23);
  CHECK(codes[0] == 0x7 && codes[1] == 0xF && codes[2] == 0x0 && codes[3] == 0x5);
  CHECK(d3->nvfp4_decode_f32(4, codes, scales, amax, y, &nv) == LOWBIT_OK && y[0] == 1.03125f && y[3] == 0.515625f);
  /* A bad option comes back as the C API's status, which the vendor ABI shares. */
  lowbit_fp8_options bad = fp8;
  bad.format = LOWBIT_FP8_BINARY8P8UF + 1; /* the first number past the family */
  CHECK(d->fp8_encode_f32(4, x, codes, &bad) == LOWBIT_E_INVALID);
  lowbit_qeft_matrix w;
  memset(&w, 0, sizeof w);
  CHECK(d->qeft_matvec_f32(&w, x, y) == LOWBIT_E_INVALID);

#ifdef __cplusplus
  return c_check_exit("c_headers_test", "both headers in one C++ translation unit");
#else
  return c_check_exit("c_headers_test", "both headers in one C translation unit");
#endif
}
