/* lowbit/vendor.h: the vendor plugin ABI (version 1). Pure C.
 *
 * A vendor builds a shared library that exports one function,
 *
 *     const lowbit_vendor_descriptor* lowbit_vendor_descriptor_v1(void);
 *
 * returning a descriptor that lists the codecs it implements: one C function per operation, NULL
 * where an operation is not implemented. `lowbit verify --plugin libvendor.so` loads the library,
 * checks abi_version and runs the conformance suite on those functions. The operations have the
 * same shape as lowbit's internal kernel table (lowbit/formats/fp8_kernel.hpp, nf4_kernel.hpp):
 * plain pointers, an element count and an option struct. docs/vendor-abi.md is the reference. */
#ifndef LOWBIT_VENDOR_H
#define LOWBIT_VENDOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version this header describes. A plugin stores it in abi_version; a loader accepts only its
 * own version. A later version adds a new symbol (lowbit_vendor_descriptor_v2); v1 never changes. */
#define LOWBIT_VENDOR_ABI_VERSION 1
#define LOWBIT_VENDOR_DESCRIPTOR_SYMBOL "lowbit_vendor_descriptor_v1"

#if defined(_WIN32)
#define LOWBIT_VENDOR_EXPORT __declspec(dllexport)
#else
#define LOWBIT_VENDOR_EXPORT __attribute__((visibility("default")))
#endif

/* Status codes: every codec function returns one. Any other non-zero value is a vendor error. */
#define LOWBIT_VENDOR_OK 0
#define LOWBIT_VENDOR_E_UNSUPPORTED 1 /* this option combination is not implemented */
#define LOWBIT_VENDOR_E_INVALID 2     /* bad arguments (null pointer, bad block size, ...) */

/* lowbit_fp8_options.format */
#define LOWBIT_FP8_E4M3 0u /* OCP E4M3FN */
#define LOWBIT_FP8_E5M2 1u

/* lowbit_fp8_options.rounding */
#define LOWBIT_ROUND_RNE 0u /* to nearest, ties to even */
#define LOWBIT_ROUND_RNA 1u /* to nearest, ties away from zero */
#define LOWBIT_ROUND_RTZ 2u /* toward zero */
#define LOWBIT_ROUND_SR 3u  /* stochastic: 32 random bits added below the rounding position */

/* lowbit_nf4_options.table */
#define LOWBIT_NF4_TABLE_NF4 0u /* NormalFloat4 */
#define LOWBIT_NF4_TABLE_FP4 1u /* bitsandbytes' FP4 (not OCP E2M1) */

typedef struct lowbit_fp8_options {
  uint32_t format;     /* LOWBIT_FP8_E4M3 or LOWBIT_FP8_E5M2 */
  uint32_t rounding;   /* LOWBIT_ROUND_*; ignored by decode */
  const char* profile; /* peer semantics: "ml_dtypes", "ml_dtypes-sat", "cuda-nosat", "cuda-satfinite" */
  uint64_t seed;       /* LOWBIT_ROUND_SR: Philox-4x32-10 key */
  uint64_t index0;     /* LOWBIT_ROUND_SR: global element index of in[0] (the Philox counter) */
  const uint32_t* random_bits; /* LOWBIT_ROUND_SR: NULL = Philox(seed); else word i is for in[i] */
} lowbit_fp8_options;

typedef struct lowbit_nf4_options {
  uint32_t table;      /* LOWBIT_NF4_TABLE_NF4 or LOWBIT_NF4_TABLE_FP4 */
  int32_t block;       /* elements per absmax block: a power of two in 32..4096 */
  const char* profile; /* "lowbit", "bnb-cpu", "bnb-torch", "bnb-cuda" (lowbit list) */
} lowbit_nf4_options;

/* FP8 encode: out[i] = the FP8 code of in[i], i < n. f16 and bf16 are passed as their bit patterns. */
typedef int (*lowbit_fp8_encode_f32_fn)(size_t n, const float* in, uint8_t* out, const lowbit_fp8_options* o);
typedef int (*lowbit_fp8_encode_f64_fn)(size_t n, const double* in, uint8_t* out, const lowbit_fp8_options* o);
typedef int (*lowbit_fp8_encode_f16_fn)(size_t n, const uint16_t* in, uint8_t* out, const lowbit_fp8_options* o);
typedef int (*lowbit_fp8_encode_bf16_fn)(size_t n, const uint16_t* in, uint8_t* out, const lowbit_fp8_options* o);
/* FP8 decode: out[i] = the value of code in[i]. */
typedef int (*lowbit_fp8_decode_f32_fn)(size_t n, const uint8_t* in, float* out, const lowbit_fp8_options* o);
typedef int (*lowbit_fp8_decode_f16_fn)(size_t n, const uint8_t* in, uint16_t* out, const lowbit_fp8_options* o);
typedef int (*lowbit_fp8_decode_bf16_fn)(size_t n, const uint8_t* in, uint16_t* out, const lowbit_fp8_options* o);
/* NF4/FP4 in bitsandbytes' storage: packed has (n + 1) / 2 bytes, element 2j in the HIGH nibble of
 * byte j; absmax has ceil(n / block) floats. */
typedef int (*lowbit_nf4_quantize_f32_fn)(size_t n, const float* in, uint8_t* packed, float* absmax,
                                          const lowbit_nf4_options* o);
typedef int (*lowbit_nf4_dequantize_f32_fn)(size_t n, const uint8_t* packed, const float* absmax, float* out,
                                            const lowbit_nf4_options* o);

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
} lowbit_vendor_descriptor;

typedef const lowbit_vendor_descriptor* (*lowbit_vendor_descriptor_v1_fn)(void);

/* The one symbol a plugin exports (declared here so that a plugin's definition is checked). */
LOWBIT_VENDOR_EXPORT const lowbit_vendor_descriptor* lowbit_vendor_descriptor_v1(void);

#ifdef __cplusplus
}
#endif

#endif /* LOWBIT_VENDOR_H */
