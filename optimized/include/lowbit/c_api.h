/* lowbit's C API: the FP8, GSE-INT, NF4/FP4 and QEFT codecs of lowbit/fp8.hpp, gse.hpp, nf4.hpp and
 * qeft.hpp for C (C99 or later) and for any language with a C FFI. The same kernels run as in C++ (the
 * fastest this CPU has, bit-identical to the reference), so the bits are those of the C++ API and of
 * the `lowbit` tool.
 *
 * Conventions:
 *  - Every function that can fail returns a lowbit_status and never throws nor aborts; on failure the
 *    output buffers hold unspecified values and lowbit_last_error() says what was wrong.
 *  - Buffers are given as a pointer and a count of elements (not bytes); a pointer may be NULL only
 *    when its count is 0. Input and output buffers must not overlap.
 *  - An options pointer may be NULL: the defaults (the *_OPTIONS_INIT initializers).
 *  - Integer "enum" arguments and fields are plain ints: an out-of-range value is LOWBIT_E_INVALID.
 *  - Thread-safe: calls share no state except each thread's last error message.
 *
 * Link with lowbit::lowbit (static) or lowbit::lowbit_shared (CMake), or `pkg-config --libs lowbit`.
 */
#ifndef LOWBIT_C_API_H
#define LOWBIT_C_API_H

#include <stddef.h>
#include <stdint.h>

#define LOWBIT_VERSION_MAJOR 0
#define LOWBIT_VERSION_MINOR 1
#define LOWBIT_VERSION_PATCH 0
/* The version these declarations come from, as major * 10000 + minor * 100 + patch. */
#define LOWBIT_VERSION (LOWBIT_VERSION_MAJOR * 10000 + LOWBIT_VERSION_MINOR * 100 + LOWBIT_VERSION_PATCH)
#define LOWBIT_VERSION_STRING "0.1.0"

#if defined(__GNUC__) || defined(__clang__)
#define LOWBIT_API __attribute__((visibility("default")))
#else
#define LOWBIT_API
#endif

#ifdef __cplusplus
#define LOWBIT_NOEXCEPT noexcept
extern "C" {
#else
#define LOWBIT_NOEXCEPT
#endif

/* ---- status, errors, version ------------------------------------------------------------------- */

typedef enum lowbit_status {
  LOWBIT_OK = 0,
  LOWBIT_E_INVALID = 1,  /* an invalid argument: a size, an option, a code, an unknown name */
  LOWBIT_E_NULL = 2,     /* a NULL pointer where a buffer (or matrix) is needed */
  LOWBIT_E_NOMEM = 3,    /* out of memory */
  LOWBIT_E_INTERNAL = 4  /* any other failure: a bug in lowbit */
} lowbit_status;

/* The library's version, LOWBIT_VERSION of the build it comes from (compare with the header's). */
LOWBIT_API uint32_t lowbit_version(void) LOWBIT_NOEXCEPT;
/* "0.1.0": LOWBIT_VERSION_STRING of the library. */
LOWBIT_API const char* lowbit_version_string(void) LOWBIT_NOEXCEPT;
/* The message of this thread's last call: "" when it succeeded, else one line naming the function
 * and the problem. Valid until this thread's next lowbit call. Never NULL. */
LOWBIT_API const char* lowbit_last_error(void) LOWBIT_NOEXCEPT;
/* "ok", "invalid argument", "null pointer", "out of memory", "internal error" (or "unknown status"). */
LOWBIT_API const char* lowbit_status_name(int status) LOWBIT_NOEXCEPT;

/* Rounding modes (docs/formats/fp8.md, gse.md). */
enum lowbit_rounding {
  LOWBIT_ROUND_RNE = 0, /* to nearest, ties to even */
  LOWBIT_ROUND_RNA = 1, /* to nearest, ties away from zero */
  LOWBIT_ROUND_RTZ = 2, /* toward zero */
  LOWBIT_ROUND_SR = 3   /* stochastic: Philox-4x32-10 keyed by the seed */
};

/* ---- FP8 E4M3 (OCP E4M3FN) / E5M2 -------------------------------------------------------------- */

enum lowbit_fp8_format { LOWBIT_FP8_E4M3 = 0, LOWBIT_FP8_E5M2 = 1 };

typedef struct lowbit_fp8_options {
  int format;          /* LOWBIT_FP8_E4M3 or LOWBIT_FP8_E5M2 */
  const char* profile; /* "ml_dtypes" (also NULL), "ml_dtypes-sat", "cuda-nosat", "cuda-satfinite" */
  int rounding;        /* encode: LOWBIT_ROUND_* */
  uint64_t seed;       /* encode, LOWBIT_ROUND_SR: the Philox key */
  uint64_t index0;     /* encode, LOWBIT_ROUND_SR: stream index of in[0] (chunks round as the whole) */
} lowbit_fp8_options;
#define LOWBIT_FP8_OPTIONS_INIT {LOWBIT_FP8_E4M3, NULL, LOWBIT_ROUND_RNE, 0, 0}

/* out[i] = the FP8 code of in[i], i < n. */
LOWBIT_API lowbit_status lowbit_fp8_encode_f32(const float* in, size_t n, uint8_t* out,
                                               const lowbit_fp8_options* o) LOWBIT_NOEXCEPT;
/* out[i] = the value of code in[i] (exact in f32), i < n; NaN codes as the profile decodes them. */
LOWBIT_API lowbit_status lowbit_fp8_decode_f32(const uint8_t* in, size_t n, float* out,
                                               const lowbit_fp8_options* o) LOWBIT_NOEXCEPT;

/* ---- GSE-INT (group-shared exponent integers) -------------------------------------------------- */

typedef struct lowbit_gse_options {
  int bits;       /* element bits, sign included: 4..8 */
  int group;      /* elements per shared exponent: 16, 32, 64, 128 or 256 */
  int exp_bits;   /* exponent field bits: 5 or 8 (E8M0) */
  int exp_bias;   /* field = exponent + bias - offset; negative: 15 for 5 bits, 127 for 8 */
  int exp_offset; /* a per-tensor power of two added to every group's exponent: -100..100 */
  int rounding;   /* encode: LOWBIT_ROUND_* */
  uint64_t seed;  /* encode, LOWBIT_ROUND_SR: the Philox key */
  uint64_t index0; /* encode, LOWBIT_ROUND_SR: stream index of in[0] */
} lowbit_gse_options;
#define LOWBIT_GSE_OPTIONS_INIT {8, 32, 5, -1, 0, LOWBIT_ROUND_RNE, 0, 0}

/* What an encode met (as IEEE flags are for a scalar format); see lowbit::BlockStats. */
typedef struct lowbit_gse_stats {
  uint64_t groups;
  uint64_t nan_groups;    /* NaN or Inf input (or exponent overflow with a NaN policy) */
  uint64_t exp_underflow; /* non-zero maximum below 2^emin: exponent clamped up */
  uint64_t exp_overflow;  /* maximum at or above 2^(emax+1): exponent clamped down */
  uint64_t bumped;        /* groups whose exponent went up */
  uint64_t saturated;     /* elements set to +-(2^(bits-1) - 1) */
} lowbit_gse_stats;

/* The number of exponent fields of n elements: ceil(n / group) (0 when group <= 0). */
LOWBIT_API size_t lowbit_gse_groups(size_t n, int group) LOWBIT_NOEXCEPT;

/* A flat stream of n elements in groups of o->group (the last one possibly short): n codes (one int8
 * per element) and n_exps == lowbit_gse_groups(n, o->group) exponent fields. stats may be NULL. */
LOWBIT_API lowbit_status lowbit_gse_encode_f32(const float* in, size_t n, int8_t* codes, uint8_t* exps,
                                               size_t n_exps, const lowbit_gse_options* o,
                                               lowbit_gse_stats* stats) LOWBIT_NOEXCEPT;
/* The inverse: codes must lie in +-(2^(bits-1) - 1). */
LOWBIT_API lowbit_status lowbit_gse_decode_f32(const int8_t* codes, size_t n, const uint8_t* exps, size_t n_exps,
                                               float* out, const lowbit_gse_options* o) LOWBIT_NOEXCEPT;

/* ---- NF4 / FP4 (bitsandbytes' 4-bit blockwise formats) ----------------------------------------- */

enum lowbit_nf4_table { LOWBIT_NF4 = 0, LOWBIT_FP4 = 1 };

typedef struct lowbit_nf4_options {
  int table;           /* LOWBIT_NF4 or LOWBIT_FP4 */
  const char* profile; /* "lowbit" (also NULL), "bnb-cuda", "bnb-cpu", "bnb-torch" */
  int block;           /* elements per absmax: a power of two in 32..4096 */
} lowbit_nf4_options;
#define LOWBIT_NF4_OPTIONS_INIT {LOWBIT_NF4, NULL, 64}

/* ceil(n / 2): the packed bytes of n elements (two per byte). */
LOWBIT_API size_t lowbit_nf4_packed_bytes(size_t n) LOWBIT_NOEXCEPT;
/* ceil(n / block): the absmax values of n elements (0 when block <= 0). */
LOWBIT_API size_t lowbit_nf4_blocks(size_t n, int block) LOWBIT_NOEXCEPT;

/* n floats -> n_packed == lowbit_nf4_packed_bytes(n) bytes and n_absmax == lowbit_nf4_blocks(n, block). */
LOWBIT_API lowbit_status lowbit_nf4_quantize_f32(const float* in, size_t n, uint8_t* packed, size_t n_packed,
                                                 float* absmax, size_t n_absmax,
                                                 const lowbit_nf4_options* o) LOWBIT_NOEXCEPT;
LOWBIT_API lowbit_status lowbit_nf4_dequantize_f32(const uint8_t* packed, size_t n_packed, const float* absmax,
                                                   size_t n_absmax, float* out, size_t n,
                                                   const lowbit_nf4_options* o) LOWBIT_NOEXCEPT;

/* ---- QEFT mixed-precision matvec ---------------------------------------------------------------- */

/* A view of a layer's packed QEFT buffers (docs/formats/qeft-owq.md), all row-major little-endian. */
typedef struct lowbit_qeft_matrix {
  size_t oc, ic, k;              /* OC % 8 == 0, IC % 64 == 0, k < IC weak columns */
  size_t group;                  /* columns per group (IC for per channel): a multiple of 32 dividing IC */
  const int16_t* qweight;        /* OC/4 x IC */
  const uint16_t* scales;        /* IC/group x OC, binary16 bits */
  const uint16_t* scaled_zeros;  /* IC/group x OC, binary16 bits */
  const uint16_t* oweight;       /* OC x k, binary16 bits (NULL when k == 0) */
} lowbit_qeft_matrix;

/* y = W x: x has n_x == IC floats (in the layout's column order), y has n_y == OC. */
LOWBIT_API lowbit_status lowbit_qeft_matvec(const lowbit_qeft_matrix* w, const float* x, size_t n_x, float* y,
                                            size_t n_y) LOWBIT_NOEXCEPT;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LOWBIT_C_API_H */
