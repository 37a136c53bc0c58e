/* lowbit/vendor.h: the vendor plugin ABI (version 1). Pure C.
 *
 * A vendor builds a shared library that exports one function,
 *
 *     const lowbit_vendor_descriptor* lowbit_vendor_descriptor_v1(void);
 *
 * returning a descriptor that lists the codecs it implements: one C function per operation, NULL
 * where an operation is not implemented. `lowbit conform --plugin libvendor.so` loads the library,
 * checks abi_version and runs the conformance suite on those functions. The operations have the
 * same shape as lowbit's internal kernel table (lowbit/formats/fp8_kernel.hpp, nf4_kernel.hpp,
 * gse_kernel.hpp, weak_kernel.hpp): plain pointers, an element count and an option struct.
 * docs/vendor-abi.md is the reference. */
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

/* lowbit_gse_format.mantissa_overflow: the group maximum rounds up to 2^(bits-1) */
#define LOWBIT_GSE_MANTISSA_SATURATE 0u /* that element becomes 2^(bits-1) - 1 (as MX) */
#define LOWBIT_GSE_MANTISSA_BUMP 1u     /* the group's exponent goes up by one, the group is rounded again */
/* lowbit_gse_format.exponent_overflow: the group's exponent is above the field's range */
#define LOWBIT_GSE_EXPONENT_SATURATE 0u /* the largest exponent, mantissas saturate */
#define LOWBIT_GSE_EXPONENT_NAN 1u      /* the group is NaN (field all ones) */

/* gse_gemm_f32's accumulate */
#define LOWBIT_GSE_ACCUMULATE_EXACT 0u /* the exact sum of all products, rounded once to f32 (nearest even) */
#define LOWBIT_GSE_ACCUMULATE_FP32 1u  /* per group g in order: acc = f32(acc + f32(dot_g * 2^e_g)), acc = +0 first */

/* lowbit_mx_options.format */
#define LOWBIT_MX_INT8 0u
#define LOWBIT_MX_FP8_E4M3 1u
#define LOWBIT_MX_FP8_E5M2 2u
#define LOWBIT_MX_FP6_E3M2 3u
#define LOWBIT_MX_FP6_E2M3 4u
#define LOWBIT_MX_FP4_E2M1 5u

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

/* GSE-INT (lowbit/formats/gse.hpp): a group of `group` elements shares one exponent field. */
typedef struct lowbit_gse_format {
  int32_t bits;               /* b, sign included: 4..8 */
  int32_t group;              /* N: 16, 32, 64, 128 or 256 */
  int32_t exp_bits;           /* 5 or 8 */
  int32_t exp_bias;           /* field = exponent + exp_bias - exp_offset; 0 .. 2^exp_bits - 2 */
  int32_t exp_offset;         /* a per-tensor power of two added to every group's exponent: -100..100 */
  uint32_t mantissa_overflow; /* LOWBIT_GSE_MANTISSA_* */
  uint32_t exponent_overflow; /* LOWBIT_GSE_EXPONENT_* */
} lowbit_gse_format;

typedef struct lowbit_gse_options {
  lowbit_gse_format format;
  uint32_t rounding;           /* LOWBIT_ROUND_* */
  uint64_t seed;               /* LOWBIT_ROUND_SR: Philox-4x32-10 key */
  uint64_t index0;             /* LOWBIT_ROUND_SR: global element index of in[0] (the Philox counter) */
  const uint32_t* random_bits; /* LOWBIT_ROUND_SR: NULL = Philox(seed); else word i is for in[i] */
} lowbit_gse_options;

/* Block-level status of a GSE encode (what IEEE flags are for a scalar format). */
typedef struct lowbit_gse_stats {
  uint64_t groups;
  uint64_t nan_groups;    /* NaN or Inf input, or exponent overflow with LOWBIT_GSE_EXPONENT_NAN */
  uint64_t exp_underflow; /* non-zero maximum below 2^emin: exponent clamped up */
  uint64_t exp_overflow;  /* maximum at or above 2^(emax+1): clamped down (or NaN) */
  uint64_t bumped;        /* groups whose exponent went up (LOWBIT_GSE_MANTISSA_BUMP) */
  uint64_t saturated;     /* elements set to +-(2^(b-1) - 1) because they did not fit */
} lowbit_gse_stats;

/* OCP MX (lowbit/formats/mx.hpp): blocks of 32 elements share an E8M0 scale. */
typedef struct lowbit_mx_options {
  uint32_t format;   /* LOWBIT_MX_* */
  uint32_t rounding; /* LOWBIT_ROUND_*; ignored by decode */
  uint64_t seed;     /* LOWBIT_ROUND_SR: Philox-4x32-10 key */
  uint64_t index0;   /* LOWBIT_ROUND_SR: global element index of in[0] */
} lowbit_mx_options;

/* A QEFT layer's packed buffers (lowbit/formats/weak_kernel.hpp): little-endian, row-major. */
typedef struct lowbit_qeft_matrix {
  size_t oc, ic, k;              /* oc % 8 == 0, ic % 64 == 0, k < ic weak (fp16) columns, the last k */
  size_t group;                  /* columns per group (ic for per channel), a multiple of 32 dividing ic */
  const int16_t* qweight;        /* oc/4 x ic: 4-bit codes */
  const uint16_t* scales;        /* ic/group x oc, binary16 bits */
  const uint16_t* scaled_zeros;  /* ic/group x oc, binary16 bits */
  const uint16_t* oweight;       /* oc x k, binary16 bits (NULL when k == 0) */
} lowbit_qeft_matrix;

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

/* GSE encode: codes[i] (one int8 per element), exps[g] (one exponent field per group; the last
 * group may be short); stats: NULL or overwritten with this call's counts. f16/bf16 as bit patterns. */
typedef int (*lowbit_gse_encode_f32_fn)(size_t n, const float* in, int8_t* codes, uint8_t* exps,
                                        lowbit_gse_stats* stats, const lowbit_gse_options* o);
typedef int (*lowbit_gse_encode_f16_fn)(size_t n, const uint16_t* in, int8_t* codes, uint8_t* exps,
                                        lowbit_gse_stats* stats, const lowbit_gse_options* o);
typedef int (*lowbit_gse_encode_bf16_fn)(size_t n, const uint16_t* in, int8_t* codes, uint8_t* exps,
                                         lowbit_gse_stats* stats, const lowbit_gse_options* o);
/* GSE decode: out[i] = codes[i] * 2^(exponent of group i / group), rounded once to the output type. */
typedef int (*lowbit_gse_decode_f32_fn)(size_t n, const int8_t* codes, const uint8_t* exps, float* out,
                                        const lowbit_gse_format* f);
typedef int (*lowbit_gse_decode_f16_fn)(size_t n, const int8_t* codes, const uint8_t* exps, uint16_t* out,
                                        const lowbit_gse_format* f);
typedef int (*lowbit_gse_decode_bf16_fn)(size_t n, const int8_t* codes, const uint8_t* exps, uint16_t* out,
                                         const lowbit_gse_format* f);
/* MX: codes one byte per element (FP6/FP4 in the low bits, sign at the top bit of their width;
 * MXINT8 two's complement), scales one E8M0 byte per block of 32 (the last may be short). */
typedef int (*lowbit_mx_encode_f32_fn)(size_t n, const float* in, uint8_t* codes, uint8_t* scales,
                                       const lowbit_mx_options* o);
typedef int (*lowbit_mx_decode_f32_fn)(size_t n, const uint8_t* codes, const uint8_t* scales, float* out,
                                       const lowbit_mx_options* o);
/* GSE GEMM: C = A B^T, the reduction dimension k grouped (docs/formats/gse.md "GEMM"). A is m x k, B
 * is n x k, both row-major, every row encoded on its own: codes one int8 per element (m*k, n*k),
 * exponent fields one byte per group of each row (m*ceil(k/N), n*ceil(k/N)). The formats may differ
 * in bits and exponent fields, not in group (N); their overflow rules are ignored. C is m x n
 * row-major f32; an output whose A row or B row has a NaN group is NaN. accumulate: LOWBIT_GSE_ACCUMULATE_*. */
typedef int (*lowbit_gse_gemm_f32_fn)(size_t m, size_t n, size_t k, const int8_t* a, const uint8_t* a_exps,
                                      const int8_t* b, const uint8_t* b_exps, const lowbit_gse_format* a_format,
                                      const lowbit_gse_format* b_format, uint32_t accumulate, float* c);
/* QEFT: y = W x (y: oc floats, x: ic floats), the fp32 sum in the order of weak_kernel.hpp. */
typedef int (*lowbit_qeft_matvec_f32_fn)(const lowbit_qeft_matrix* w, const float* x, float* y);

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

typedef const lowbit_vendor_descriptor* (*lowbit_vendor_descriptor_v1_fn)(void);

/* The one symbol a plugin exports (declared here so that a plugin's definition is checked). */
LOWBIT_VENDOR_EXPORT const lowbit_vendor_descriptor* lowbit_vendor_descriptor_v1(void);

#ifdef __cplusplus
}
#endif

#endif /* LOWBIT_VENDOR_H */
