/* lowbit/c_types.h: the C types that lowbit/c_api.h (the library for C users) and lowbit/vendor.h (what
 * a vendor plugin implements) share, defined once: status codes, enumerations, option structs.
 * Plain ISO C (C99 or later) and C++.
 *
 * Enumerations are fixed-width typedefs with macros, so that every struct has one layout whatever the
 * compiler. The structs of vendor ABI version 1 (lowbit_fp8_options, lowbit_nf4_options,
 * lowbit_gse_format, lowbit_gse_options, lowbit_gse_stats, lowbit_mx_options, lowbit_qeft_matrix) and of
 * version 3 (lowbit_nvfp4_options) are frozen: a field is never moved, resized or removed
 * (docs/vendor-abi.md, "Versioning"). */
#ifndef LOWBIT_C_TYPES_H
#define LOWBIT_C_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* ---- status codes: the numbers of lowbit::Errc (lowbit/error.hpp) ------------------------------ */

typedef int32_t lowbit_status;
#define LOWBIT_OK 0
#define LOWBIT_E_UNSUPPORTED 1 /* an option combination this implementation does not provide */
#define LOWBIT_E_INVALID 2     /* a bad argument: a size, an option, a name, a value out of range */
#define LOWBIT_E_NULL 3        /* a NULL pointer where a buffer is needed */
#define LOWBIT_E_NOMEM 4       /* out of memory */
#define LOWBIT_E_INTERNAL 5    /* a bug in lowbit */
#define LOWBIT_E_DATA 6        /* malformed input data, e.g. a code the format does not have */
#define LOWBIT_E_IO 7          /* a file could not be opened, read or written */

/* ---- enumerations -------------------------------------------------------------------------------- */

typedef uint32_t lowbit_rounding;
#define LOWBIT_ROUND_RNE 0u /* to nearest, ties to even */
#define LOWBIT_ROUND_RNA 1u /* to nearest, ties away from zero (microxcaling's 'nearest') */
#define LOWBIT_ROUND_RTZ 2u /* toward zero */
#define LOWBIT_ROUND_SR 3u  /* stochastic: 32 random bits added below the rounding position */
/* The minifloat family (LOWBIT_FP8_*) only: */
#define LOWBIT_ROUND_RTP 4u /* toward +Inf */
#define LOWBIT_ROUND_RTN 5u /* toward -Inf */
#define LOWBIT_ROUND_RTA 6u /* away from zero (P3109 TowardMaxMagnitude) */
#define LOWBIT_ROUND_RTO 7u /* to odd (P3109 ToOdd) */

typedef uint32_t lowbit_fp8_format;
#define LOWBIT_FP8_E4M3 0u /* OCP E4M3FN */
#define LOWBIT_FP8_E5M2 1u
/* The rest of the minifloat family (lowbit list, docs/formats/), appended in fp8::Format's order. */
#define LOWBIT_FP8_E4M3FNUZ 2u
#define LOWBIT_FP8_E5M2FNUZ 3u
#define LOWBIT_FP8_E4M3B11FNUZ 4u
#define LOWBIT_FP8_E3M4 5u
#define LOWBIT_FP8_E4M3IEEE 6u /* ml_dtypes' float8_e4m3: IEEE-style, with Inf */
#define LOWBIT_FP8_E8M0 7u     /* unsigned: no sign bit */
#define LOWBIT_FP8_E2M3 8u     /* FP6, FP4: one code per byte, in its low bits */
#define LOWBIT_FP8_E3M2 9u
#define LOWBIT_FP8_E2M1 10u
#define LOWBIT_FP8_BINARY8P1SE 11u /* IEEE P3109 binary8pP, signed, extended (E) and finite (F) domains */
#define LOWBIT_FP8_BINARY8P1SF 12u
#define LOWBIT_FP8_BINARY8P2SE 13u
#define LOWBIT_FP8_BINARY8P2SF 14u
#define LOWBIT_FP8_BINARY8P3SE 15u
#define LOWBIT_FP8_BINARY8P3SF 16u
#define LOWBIT_FP8_BINARY8P4SE 17u
#define LOWBIT_FP8_BINARY8P4SF 18u
#define LOWBIT_FP8_BINARY8P5SE 19u
#define LOWBIT_FP8_BINARY8P5SF 20u
#define LOWBIT_FP8_BINARY8P6SE 21u
#define LOWBIT_FP8_BINARY8P6SF 22u
#define LOWBIT_FP8_BINARY8P7SE 23u
#define LOWBIT_FP8_BINARY8P7SF 24u
#define LOWBIT_FP8_BINARY8P1UE 25u /* IEEE P3109 binary8pP, unsigned: no sign bit */
#define LOWBIT_FP8_BINARY8P1UF 26u
#define LOWBIT_FP8_BINARY8P2UE 27u
#define LOWBIT_FP8_BINARY8P2UF 28u
#define LOWBIT_FP8_BINARY8P3UE 29u
#define LOWBIT_FP8_BINARY8P3UF 30u
#define LOWBIT_FP8_BINARY8P4UE 31u
#define LOWBIT_FP8_BINARY8P4UF 32u
#define LOWBIT_FP8_BINARY8P5UE 33u
#define LOWBIT_FP8_BINARY8P5UF 34u
#define LOWBIT_FP8_BINARY8P6UE 35u
#define LOWBIT_FP8_BINARY8P6UF 36u
#define LOWBIT_FP8_BINARY8P7UE 37u
#define LOWBIT_FP8_BINARY8P7UF 38u
#define LOWBIT_FP8_BINARY8P8UE 39u
#define LOWBIT_FP8_BINARY8P8UF 40u

typedef uint32_t lowbit_nf4_table;
#define LOWBIT_NF4_TABLE_NF4 0u /* NormalFloat4 */
#define LOWBIT_NF4_TABLE_FP4 1u /* bitsandbytes' FP4 (not OCP E2M1) */

typedef uint32_t lowbit_mx_format;
#define LOWBIT_MX_INT8 0u
#define LOWBIT_MX_FP8_E4M3 1u
#define LOWBIT_MX_FP8_E5M2 2u
#define LOWBIT_MX_FP6_E3M2 3u
#define LOWBIT_MX_FP6_E2M3 4u
#define LOWBIT_MX_FP4_E2M1 5u

/* The group maximum rounds up to 2^(bits-1), one past the largest mantissa: */
typedef uint32_t lowbit_gse_mantissa_overflow;
#define LOWBIT_GSE_MANTISSA_SATURATE 0u /* that element becomes 2^(bits-1) - 1 (as MX) */
#define LOWBIT_GSE_MANTISSA_BUMP 1u     /* the group's exponent goes up by one, the group is rounded again */
/* The group's exponent is above the field's range: */
typedef uint32_t lowbit_gse_exponent_overflow;
#define LOWBIT_GSE_EXPONENT_SATURATE 0u /* the largest exponent, mantissas saturate */
#define LOWBIT_GSE_EXPONENT_NAN 1u      /* the group is NaN (field all ones) */

/* How a GSE GEMM sums: */
typedef uint32_t lowbit_gse_accumulate;
#define LOWBIT_GSE_ACCUMULATE_EXACT 0u /* the exact sum of all products, rounded once to f32 (nearest even) */
#define LOWBIT_GSE_ACCUMULATE_FP32 1u  /* per group g in order: acc = f32(acc + f32(dot_g * 2^e_g)), acc = +0 first */

/* How the QEFT/OWQ quantizer picks a group's (scale, zero): */
typedef uint32_t lowbit_weak_tuning;
#define LOWBIT_WEAK_TUNING_MINMAX 0u /* the range [min(x, 0), max(x, 0)] */
#define LOWBIT_WEAK_TUNING_MSE 1u    /* the best of `grid` clip ranges by mean |x - q(x)|^2.4 */

/* ---- FP8 (docs/formats/fp8.md) ------------------------------------------------------------------ */

typedef struct lowbit_fp8_options {
  lowbit_fp8_format format;
  lowbit_rounding rounding;    /* encode only */
  const char* profile;         /* peer semantics: "ml_dtypes", "ml_dtypes-sat", "llvm", "cuda-nosat", "cuda-satfinite",
                                  "p3109", "p3109-satfinite", "p3109-satpropagate" */
  uint64_t seed;               /* LOWBIT_ROUND_SR: the Philox-4x32-10 key */
  uint64_t index0;             /* LOWBIT_ROUND_SR: stream index of in[0] (the Philox counter), so chunks round as the whole */
  const uint32_t* random_bits; /* LOWBIT_ROUND_SR: NULL = Philox(seed); else n words, word i for in[i] */
} lowbit_fp8_options;
#define LOWBIT_FP8_OPTIONS_INIT {LOWBIT_FP8_E4M3, LOWBIT_ROUND_RNE, "ml_dtypes", 0, 0, NULL}

/* ---- NF4 / FP4 (docs/formats/nf4.md) ------------------------------------------------------------- */

typedef struct lowbit_nf4_options {
  lowbit_nf4_table table;
  int32_t block;       /* elements per absmax: a power of two in 32..4096 */
  const char* profile; /* "lowbit", "bnb-cuda", "bnb-cpu", "bnb-torch" */
} lowbit_nf4_options;
#define LOWBIT_NF4_OPTIONS_INIT {LOWBIT_NF4_TABLE_NF4, 64, "lowbit"}

/* QLoRA's double quantization: the absmax values in 8-bit codes of a 256-entry map, blocks of 256. */
typedef struct lowbit_nf4_dq_options {
  const char* profile; /* whose nested quantizer: "lowbit", "bnb-cuda", "bnb-cpu", "bnb-torch" */
  const float* map;    /* 256 entries (a checkpoint's nested_quant_map); NULL = lowbit_nf4_dynamic_map's */
  const float* offset; /* NULL = the fp32 mean of the absmax values, as bitsandbytes; else the offset to use */
} lowbit_nf4_dq_options;
#define LOWBIT_NF4_DQ_OPTIONS_INIT {"lowbit", NULL, NULL}

/* ---- GSE-INT (docs/formats/gse.md) --------------------------------------------------------------- */

typedef struct lowbit_gse_format {
  int32_t bits;       /* b, sign included: 4..8 */
  int32_t group;      /* N, elements per shared exponent: 16, 32, 64, 128 or 256 */
  int32_t exp_bits;   /* 5, or 8 (E8M0, as MX) */
  int32_t exp_bias;   /* field = exponent + exp_bias - exp_offset: 0 .. 2^exp_bits - 2 (15 for 5 bits, 127 for 8) */
  int32_t exp_offset; /* a per-tensor power of two added to every group's exponent: -100..100 */
  lowbit_gse_mantissa_overflow mantissa_overflow;
  lowbit_gse_exponent_overflow exponent_overflow;
} lowbit_gse_format;
#define LOWBIT_GSE_FORMAT_INIT {8, 32, 5, 15, 0, LOWBIT_GSE_MANTISSA_SATURATE, LOWBIT_GSE_EXPONENT_SATURATE}

typedef struct lowbit_gse_options {
  lowbit_gse_format format;
  lowbit_rounding rounding;    /* encode only */
  uint64_t seed;               /* LOWBIT_ROUND_SR: the Philox-4x32-10 key */
  uint64_t index0;             /* LOWBIT_ROUND_SR: stream index of in[0] */
  const uint32_t* random_bits; /* LOWBIT_ROUND_SR: NULL = Philox(seed); else n words, word i for in[i] */
} lowbit_gse_options;
#define LOWBIT_GSE_OPTIONS_INIT {LOWBIT_GSE_FORMAT_INIT, LOWBIT_ROUND_RNE, 0, 0, NULL}

/* What a GSE or MX encode met (what IEEE flags are for a scalar format; MX blocks count as groups). */
typedef struct lowbit_gse_stats {
  uint64_t groups;
  uint64_t nan_groups;    /* NaN or Inf input, or exponent overflow with LOWBIT_GSE_EXPONENT_NAN */
  uint64_t exp_underflow; /* non-zero maximum below 2^emin: exponent clamped up */
  uint64_t exp_overflow;  /* maximum at or above 2^(emax+1): clamped down (or NaN) */
  uint64_t bumped;        /* groups whose exponent went up (LOWBIT_GSE_MANTISSA_BUMP) */
  uint64_t saturated;     /* elements set to the largest magnitude because they did not fit */
} lowbit_gse_stats;

/* ---- OCP MX (docs/formats/mx.md): blocks of 32 elements share an E8M0 scale ------------------------ */

typedef struct lowbit_mx_options {
  lowbit_mx_format format;
  lowbit_rounding rounding; /* encode only; MX's default is LOWBIT_ROUND_RNA */
  uint64_t seed;            /* LOWBIT_ROUND_SR: the Philox-4x32-10 key */
  uint64_t index0;          /* LOWBIT_ROUND_SR: stream index of in[0] */
} lowbit_mx_options;
#define LOWBIT_MX_OPTIONS_INIT {LOWBIT_MX_FP8_E4M3, LOWBIT_ROUND_RNA, 0, 0}

/* ---- NVFP4 (docs/formats/nvfp4.md): E2M1 elements, an E4M3 scale per 16 of a row, the tensor's amax -- */

typedef uint32_t lowbit_nvfp4_blocking;
#define LOWBIT_NVFP4_BLOCKING_1D 0u /* 1x16 blocks */
#define LOWBIT_NVFP4_BLOCKING_2D 1u /* 16x16 tiles share a scale (stored once per row of the tile) */

typedef uint32_t lowbit_nvfp4_scale_layout;
#define LOWBIT_NVFP4_SCALES_LINEAR 0u   /* row-major: rows x ceil(cols / 16) */
#define LOWBIT_NVFP4_SCALES_SWIZZLED 1u /* cuBLAS's 128x4 interleave, rows padded to 128 and blocks to 4 */

/* A rows x cols row-major f32 matrix of n = rows * cols elements (vendor ABI version 3). */
typedef struct lowbit_nvfp4_options {
  size_t cols;                            /* the row length, which divides n; 0 = one row of all n */
  lowbit_nvfp4_blocking blocking;
  lowbit_nvfp4_scale_layout scale_layout;
  lowbit_rounding rounding;               /* encode only: LOWBIT_ROUND_RNE or _SR (else LOWBIT_E_UNSUPPORTED) */
  uint32_t packed;                        /* codes: 0 = one per byte (low nibble); 1 = two per byte, element 2j in the low nibble */
  uint64_t seed;                          /* _SR: the Philox-4x32-10 key of the random words */
  uint64_t index0;                        /* _SR: stream index of the first random word */
  const uint32_t* random_bits;            /* _SR: NULL = Philox(seed); else rows * ceil(cols / 4) words, 8 bits per element */
  const float* global_amax;               /* encode: NULL = max |x| of the input; else the tensor's amax to scale by */
} lowbit_nvfp4_options;
#define LOWBIT_NVFP4_OPTIONS_INIT \
  {0, LOWBIT_NVFP4_BLOCKING_1D, LOWBIT_NVFP4_SCALES_LINEAR, LOWBIT_ROUND_RNE, 0u, 0, 0, NULL, NULL}

/* ---- QEFT (docs/formats/qeft-owq.md) ------------------------------------------------------------- */

/* A view of a layer's packed QEFT buffers: little-endian, row-major, as in the checkpoint. */
typedef struct lowbit_qeft_matrix {
  size_t oc, ic, k;             /* oc % 8 == 0, ic % 64 == 0, k < ic weak (fp16) columns, the last k */
  size_t group;                 /* columns per group (ic for per channel): a multiple of 32 dividing ic */
  const int16_t* qweight;       /* oc/4 x ic: four 4-bit codes per int16 */
  const uint16_t* scales;       /* ic/group x oc, binary16 bits */
  const uint16_t* scaled_zeros; /* ic/group x oc, binary16 bits */
  const uint16_t* oweight;      /* oc x k, binary16 bits (NULL when k == 0) */
} lowbit_qeft_matrix;

/* How a weight is quantized into a QEFT layer (4-bit codes, group-wise asymmetric min-max). */
typedef struct lowbit_qeft_pack_options {
  int32_t group;             /* input channels per group: 0 (one group per row) or a multiple of 32 dividing ic */
  uint32_t sym;              /* 0, or 1: symmetric codes (zero point 8) */
  lowbit_weak_tuning tuning;
  int32_t grid;              /* LOWBIT_WEAK_TUNING_MSE: clip ranges tried (>= 1); 0 = QEFT's own (1 grouped, 100 per channel) */
} lowbit_qeft_pack_options;
#define LOWBIT_QEFT_PACK_OPTIONS_INIT {128, 0u, LOWBIT_WEAK_TUNING_MSE, 0}

#endif /* LOWBIT_C_TYPES_H */
