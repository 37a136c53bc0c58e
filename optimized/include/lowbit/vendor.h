/* lowbit/vendor.h: the vendor plugin ABI (versions 1 to 4). Pure C.
 *
 * A vendor builds a shared library that exports one function,
 *
 *     const lowbit_vendor_descriptor4* lowbit_vendor_descriptor_v4(void);   (or, version 3, 2 or 1:)
 *     const lowbit_vendor_descriptor3* lowbit_vendor_descriptor_v3(void);
 *     const lowbit_vendor_descriptor2* lowbit_vendor_descriptor_v2(void);
 *     const lowbit_vendor_descriptor* lowbit_vendor_descriptor_v1(void);
 *
 * returning a descriptor that lists the codecs it implements: one C function per operation, NULL
 * where an operation is not implemented. Each returns a lowbit_status: LOWBIT_OK, LOWBIT_E_UNSUPPORTED
 * (this option combination is not implemented), LOWBIT_E_INVALID (bad arguments) or any other non-zero
 * value (a vendor error). `lowbit conform --plugin libvendor.so` loads the library,
 * checks abi_version and runs the conformance suite on those functions. The operations have the
 * same shape as lowbit's internal kernel table (lowbit/formats/fp8.hpp, nf4.hpp, gse.hpp, mx.hpp,
 * nvfp4.hpp, weak.hpp): an element count, plain pointers and an option struct, the types of lowbit/c_types.h
 * (shared with the C API, lowbit/c_api.h). docs/vendor-abi.md is the reference. */
#ifndef LOWBIT_VENDOR_H
#define LOWBIT_VENDOR_H

#include "lowbit/c_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Each version has its own symbol and abi_version value; v1 never changes. The loader looks for
 * lowbit_vendor_descriptor_v4 first, then _v3, _v2, then _v1. (LOWBIT_VENDOR_ABI_VERSION keeps its value 1,
 * which version-1 plugins store: a v1 plugin builds and loads unchanged.) */
#define LOWBIT_VENDOR_ABI_VERSION 1
#define LOWBIT_VENDOR_DESCRIPTOR_SYMBOL "lowbit_vendor_descriptor_v1"
#define LOWBIT_VENDOR_ABI_VERSION_2 2
#define LOWBIT_VENDOR_DESCRIPTOR_SYMBOL_V2 "lowbit_vendor_descriptor_v2"
#define LOWBIT_VENDOR_ABI_VERSION_3 3
#define LOWBIT_VENDOR_DESCRIPTOR_SYMBOL_V3 "lowbit_vendor_descriptor_v3"
#define LOWBIT_VENDOR_ABI_VERSION_4 4
#define LOWBIT_VENDOR_DESCRIPTOR_SYMBOL_V4 "lowbit_vendor_descriptor_v4"

#if defined(_WIN32)
#define LOWBIT_VENDOR_EXPORT __declspec(dllexport)
#else
#define LOWBIT_VENDOR_EXPORT __attribute__((visibility("default")))
#endif

/* FP8 encode: out[i] = the FP8 code of in[i], i < n. f16 and bf16 are passed as their bit patterns. */
typedef lowbit_status (*lowbit_fp8_encode_f32_fn)(size_t n, const float* in, uint8_t* out, const lowbit_fp8_options* o);
typedef lowbit_status (*lowbit_fp8_encode_f64_fn)(size_t n, const double* in, uint8_t* out, const lowbit_fp8_options* o);
typedef lowbit_status (*lowbit_fp8_encode_f16_fn)(size_t n, const uint16_t* in, uint8_t* out, const lowbit_fp8_options* o);
typedef lowbit_status (*lowbit_fp8_encode_bf16_fn)(size_t n, const uint16_t* in, uint8_t* out, const lowbit_fp8_options* o);
/* FP8 decode: out[i] = the value of code in[i]. */
typedef lowbit_status (*lowbit_fp8_decode_f32_fn)(size_t n, const uint8_t* in, float* out, const lowbit_fp8_options* o);
typedef lowbit_status (*lowbit_fp8_decode_f16_fn)(size_t n, const uint8_t* in, uint16_t* out, const lowbit_fp8_options* o);
typedef lowbit_status (*lowbit_fp8_decode_bf16_fn)(size_t n, const uint8_t* in, uint16_t* out, const lowbit_fp8_options* o);
/* NF4/FP4 encode and decode (version 1 named them quantize and dequantize) in bitsandbytes' storage:
 * packed has (n + 1) / 2 bytes, element 2j in the HIGH nibble of byte j; absmax has ceil(n / block) floats. */
typedef lowbit_status (*lowbit_nf4_quantize_f32_fn)(size_t n, const float* in, uint8_t* packed, float* absmax,
                                                    const lowbit_nf4_options* o);
typedef lowbit_status (*lowbit_nf4_dequantize_f32_fn)(size_t n, const uint8_t* packed, const float* absmax,
                                                      float* out, const lowbit_nf4_options* o);

/* GSE encode: codes[i] (one int8 per element), exps[g] (one exponent field per group; the last
 * group may be short); stats: NULL or overwritten with this call's counts. f16/bf16 as bit patterns. */
typedef lowbit_status (*lowbit_gse_encode_f32_fn)(size_t n, const float* in, int8_t* codes, uint8_t* exps,
                                                  lowbit_gse_stats* stats, const lowbit_gse_options* o);
typedef lowbit_status (*lowbit_gse_encode_f16_fn)(size_t n, const uint16_t* in, int8_t* codes, uint8_t* exps,
                                                  lowbit_gse_stats* stats, const lowbit_gse_options* o);
typedef lowbit_status (*lowbit_gse_encode_bf16_fn)(size_t n, const uint16_t* in, int8_t* codes, uint8_t* exps,
                                                   lowbit_gse_stats* stats, const lowbit_gse_options* o);
/* GSE decode: out[i] = codes[i] * 2^(exponent of group i / group), rounded once to the output type. */
typedef lowbit_status (*lowbit_gse_decode_f32_fn)(size_t n, const int8_t* codes, const uint8_t* exps, float* out,
                                                  const lowbit_gse_format* f);
typedef lowbit_status (*lowbit_gse_decode_f16_fn)(size_t n, const int8_t* codes, const uint8_t* exps, uint16_t* out,
                                                  const lowbit_gse_format* f);
typedef lowbit_status (*lowbit_gse_decode_bf16_fn)(size_t n, const int8_t* codes, const uint8_t* exps, uint16_t* out,
                                                   const lowbit_gse_format* f);
/* MX: codes one byte per element (FP6/FP4 in the low bits, sign at the top bit of their width;
 * MXINT8 two's complement), scales one E8M0 byte per block of 32 (the last may be short). */
typedef lowbit_status (*lowbit_mx_encode_f32_fn)(size_t n, const float* in, uint8_t* codes, uint8_t* scales,
                                                 const lowbit_mx_options* o);
typedef lowbit_status (*lowbit_mx_decode_f32_fn)(size_t n, const uint8_t* codes, const uint8_t* scales, float* out,
                                                 const lowbit_mx_options* o);
/* GSE GEMM: C = A B^T, the reduction dimension k grouped (docs/formats/gse.md "GEMM"). A is m x k, B
 * is n x k, both row-major, every row encoded on its own: codes one int8 per element (m*k, n*k),
 * exponent fields one byte per group of each row (m*ceil(k/N), n*ceil(k/N)). The formats may differ
 * in bits and exponent fields, not in group (N); their overflow rules are ignored. C is m x n
 * row-major f32; an output whose A row or B row has a NaN group is NaN. accumulate: LOWBIT_GSE_ACCUMULATE_*. */
typedef lowbit_status (*lowbit_gse_gemm_f32_fn)(size_t m, size_t n, size_t k, const int8_t* a, const uint8_t* a_exps,
                                                const int8_t* b, const uint8_t* b_exps,
                                                const lowbit_gse_format* a_format, const lowbit_gse_format* b_format,
                                                lowbit_gse_accumulate accumulate, float* c);
/* QEFT: y = W x (y: oc floats, x: ic floats), the fp32 sum in the order of formats/weak.hpp. */
typedef lowbit_status (*lowbit_qeft_matvec_f32_fn)(const lowbit_qeft_matrix* w, const float* x, float* y);

typedef struct lowbit_vendor_descriptor {
  uint32_t abi_version;    /* LOWBIT_VENDOR_ABI_VERSION */
  const char* vendor_name; /* shown as the implementation name in the report */
  lowbit_fp8_encode_f32_fn fp8_encode_f32; /* each: NULL = not implemented */
  lowbit_fp8_encode_f64_fn fp8_encode_f64;
  lowbit_fp8_encode_f16_fn fp8_encode_f16;
  lowbit_fp8_encode_bf16_fn fp8_encode_bf16;
  lowbit_fp8_decode_f32_fn fp8_decode_f32;
  lowbit_fp8_decode_f16_fn fp8_decode_f16;
  lowbit_fp8_decode_bf16_fn fp8_decode_bf16;
  lowbit_nf4_quantize_f32_fn nf4_quantize_f32;
  lowbit_nf4_dequantize_f32_fn nf4_dequantize_f32;
  lowbit_gse_encode_f32_fn gse_encode_f32;
  lowbit_gse_encode_f16_fn gse_encode_f16;
  lowbit_gse_encode_bf16_fn gse_encode_bf16;
  lowbit_gse_decode_f32_fn gse_decode_f32;
  lowbit_gse_decode_f16_fn gse_decode_f16;
  lowbit_gse_decode_bf16_fn gse_decode_bf16;
  lowbit_mx_encode_f32_fn mx_encode_f32;
  lowbit_mx_decode_f32_fn mx_decode_f32;
  lowbit_qeft_matvec_f32_fn qeft_matvec_f32;
  lowbit_gse_gemm_f32_fn gse_gemm_f32;
} lowbit_vendor_descriptor;

/* Version 2: version 1's descriptor (its abi_version = LOWBIT_VENDOR_ABI_VERSION_2), then the fp8
 * formats the fp8_* functions implement, one bit per format: LOWBIT_FP8_FORMAT_BIT(LOWBIT_FP8_E4M3FNUZ)
 * ... (formats 0 to 31; version 4 adds the rest). The loader calls them with no other format. A version-1
 * plugin implements E4M3 and E5M2. */
typedef struct lowbit_vendor_descriptor2 {
  lowbit_vendor_descriptor v1;
  uint32_t fp8_formats;
} lowbit_vendor_descriptor2;
#define LOWBIT_FP8_FORMAT_BIT(format) (UINT32_C(1) << (format))

/* NVFP4 (version 3): a rows x cols row-major matrix of n = rows * o->cols elements (o->cols 0: one row).
 * codes: one E2M1 code per byte (the low nibble, sign at bit 3; o->packed is 0 in every call), scales:
 * the E4M3FN bytes of o->scale_layout, with the swizzled layout's padding written as zero. Encode scales
 * by *o->global_amax (never NULL in the loader's calls) and, for LOWBIT_ROUND_SR, takes its random bits
 * from o->random_bits (never NULL then: rows * ceil(cols / 4) words). Decode scales by global_amax. */
typedef lowbit_status (*lowbit_nvfp4_encode_f32_fn)(size_t n, const float* in, uint8_t* codes, uint8_t* scales,
                                                    const lowbit_nvfp4_options* o);
typedef lowbit_status (*lowbit_nvfp4_decode_f32_fn)(size_t n, const uint8_t* codes, const uint8_t* scales,
                                                    float global_amax, float* out, const lowbit_nvfp4_options* o);

/* Version 3: version 2's descriptor (its v1.abi_version = LOWBIT_VENDOR_ABI_VERSION_3), then the NVFP4
 * slots (NULL = not implemented). */
typedef struct lowbit_vendor_descriptor3 {
  lowbit_vendor_descriptor2 v2;
  lowbit_nvfp4_encode_f32_fn nvfp4_encode_f32;
  lowbit_nvfp4_decode_f32_fn nvfp4_decode_f32;
} lowbit_vendor_descriptor3;

/* Version 4: version 3's descriptor (its v2.v1.abi_version = LOWBIT_VENDOR_ABI_VERSION_4), then the fp8
 * formats 32 to 63 the fp8_* functions implement (the unsigned P3109 formats from LOWBIT_FP8_BINARY8P4UE
 * on), one bit per format: LOWBIT_FP8_FORMAT_BIT_HIGH(LOWBIT_FP8_BINARY8P8UF). */
typedef struct lowbit_vendor_descriptor4 {
  lowbit_vendor_descriptor3 v3;
  uint32_t fp8_formats_high;
} lowbit_vendor_descriptor4;
#define LOWBIT_FP8_FORMAT_BIT_HIGH(format) (UINT32_C(1) << ((format) - 32u))

typedef const lowbit_vendor_descriptor* (*lowbit_vendor_descriptor_v1_fn)(void);
typedef const lowbit_vendor_descriptor2* (*lowbit_vendor_descriptor_v2_fn)(void);
typedef const lowbit_vendor_descriptor3* (*lowbit_vendor_descriptor_v3_fn)(void);
typedef const lowbit_vendor_descriptor4* (*lowbit_vendor_descriptor_v4_fn)(void);

/* The symbol a plugin exports, one of the four (declared here so that a plugin's definition is checked). */
LOWBIT_VENDOR_EXPORT const lowbit_vendor_descriptor* lowbit_vendor_descriptor_v1(void);
LOWBIT_VENDOR_EXPORT const lowbit_vendor_descriptor2* lowbit_vendor_descriptor_v2(void);
LOWBIT_VENDOR_EXPORT const lowbit_vendor_descriptor3* lowbit_vendor_descriptor_v3(void);
LOWBIT_VENDOR_EXPORT const lowbit_vendor_descriptor4* lowbit_vendor_descriptor_v4(void);

#ifdef __cplusplus
}
#endif

#endif /* LOWBIT_VENDOR_H */
