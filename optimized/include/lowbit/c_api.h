/* lowbit's C API: the streaming codecs of the C++ API (lowbit/fp8.hpp, gse.hpp, mx.hpp, nvfp4.hpp,
 * nf4.hpp, qeft.hpp) for C (C99 or later) and any language with a C FFI. The same kernels run as in C++ (the
 * fastest this CPU has, bit-identical to the reference), so the bits are those of the C++ API and of
 * the `lowbit` tool. docs/api.md, "The C API", has a complete example per family.
 *
 * Conventions:
 *  - Arguments come in the order (n, inputs, outputs, options), as in lowbit/vendor.h; an encode's block
 *    statistics are an output (may be NULL). n is the element count; input buffers
 *    hold what n implies. Every output buffer is followed by its length in elements (not bytes), which
 *    must be the one the function names (else LOWBIT_E_INVALID).
 *  - Every function that can fail returns a lowbit_status (lowbit/c_types.h) and never throws nor
 *    aborts; on failure the outputs hold unspecified values and lowbit_last_error() says what was wrong.
 *  - A buffer pointer may be NULL only when its length is 0 (else LOWBIT_E_NULL). Buffers must not overlap.
 *  - An options pointer may be NULL: the defaults, the *_INIT initializers of lowbit/c_types.h.
 *  - Enumerations are uint32_t fields with LOWBIT_* macros: another value is LOWBIT_E_INVALID.
 *  - f16 and bf16 values travel as their uint16_t bit patterns.
 *  - Thread-safe: calls share no state except each thread's last error message.
 *
 * Link with lowbit::lowbit (static) or lowbit::lowbit_shared (CMake), or `pkg-config --libs lowbit`
 * (shared) / `pkg-config --libs lowbit-static`. */
#ifndef LOWBIT_C_API_H
#define LOWBIT_C_API_H

#include "lowbit/c_types.h"

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

/* ---- version, status, errors ------------------------------------------------------------------- */

/* The library's version, LOWBIT_VERSION of the build it comes from (compare with the header's). */
LOWBIT_API uint32_t lowbit_version(void) LOWBIT_NOEXCEPT;
/* "0.1.0": LOWBIT_VERSION_STRING of the library. */
LOWBIT_API const char* lowbit_version_string(void) LOWBIT_NOEXCEPT;
/* The message of this thread's last call: "" when it succeeded, else one line naming the function
 * and the problem. Valid until this thread's next lowbit call. Never NULL. */
LOWBIT_API const char* lowbit_last_error(void) LOWBIT_NOEXCEPT;
/* "ok", "unsupported", "invalid argument", "null pointer", "out of memory", "internal error",
 * "malformed data", "i/o error"; "unknown status" for any other value. */
LOWBIT_API const char* lowbit_status_name(lowbit_status status) LOWBIT_NOEXCEPT;

/* ---- FP8 E4M3 (OCP E4M3FN) / E5M2 -------------------------------------------------------------- */

/* out[i] = the FP8 code of in[i], i < n; n_out == n. */
LOWBIT_API lowbit_status lowbit_fp8_encode_f32(size_t n, const float* in, uint8_t* out, size_t n_out,
                                               const lowbit_fp8_options* o) LOWBIT_NOEXCEPT;
LOWBIT_API lowbit_status lowbit_fp8_encode_f64(size_t n, const double* in, uint8_t* out, size_t n_out,
                                               const lowbit_fp8_options* o) LOWBIT_NOEXCEPT;
LOWBIT_API lowbit_status lowbit_fp8_encode_f16(size_t n, const uint16_t* in, uint8_t* out, size_t n_out,
                                               const lowbit_fp8_options* o) LOWBIT_NOEXCEPT;
LOWBIT_API lowbit_status lowbit_fp8_encode_bf16(size_t n, const uint16_t* in, uint8_t* out, size_t n_out,
                                                const lowbit_fp8_options* o) LOWBIT_NOEXCEPT;
/* out[i] = the value of code in[i] (exact in every output type), i < n; n_out == n. NaN codes decode
 * as the profile says. */
LOWBIT_API lowbit_status lowbit_fp8_decode_f32(size_t n, const uint8_t* in, float* out, size_t n_out,
                                               const lowbit_fp8_options* o) LOWBIT_NOEXCEPT;
LOWBIT_API lowbit_status lowbit_fp8_decode_f16(size_t n, const uint8_t* in, uint16_t* out, size_t n_out,
                                               const lowbit_fp8_options* o) LOWBIT_NOEXCEPT;
LOWBIT_API lowbit_status lowbit_fp8_decode_bf16(size_t n, const uint8_t* in, uint16_t* out, size_t n_out,
                                                const lowbit_fp8_options* o) LOWBIT_NOEXCEPT;

/* Packed storage (docs/formats/fp6-fp4.md, "Packed storage"): FP4 two codes per byte (CUDA's fp4x2
 * order), FP6 four per three bytes, the 8-bit formats one per byte; code i at bits [i*w, i*w + w) of
 * a little-endian bit stream. lowbit_fp8_packed_size: ceil(n * w / 8) bytes (0 for an unknown format). */
LOWBIT_API size_t lowbit_fp8_packed_size(size_t n, lowbit_fp8_format format) LOWBIT_NOEXCEPT;
/* n codes, one per byte -> n_out == lowbit_fp8_packed_size(n, format) bytes, the padding bits zero. A
 * code at or above 2^w is LOWBIT_E_DATA. */
LOWBIT_API lowbit_status lowbit_fp8_pack(size_t n, const uint8_t* codes, uint8_t* out, size_t n_out,
                                         lowbit_fp8_format format) LOWBIT_NOEXCEPT;
/* lowbit_fp8_packed_size(n, format) bytes -> n_codes == n codes, one per byte. A padding bit that is
 * set is LOWBIT_E_DATA. */
LOWBIT_API lowbit_status lowbit_fp8_unpack(size_t n, const uint8_t* in, uint8_t* codes, size_t n_codes,
                                           lowbit_fp8_format format) LOWBIT_NOEXCEPT;

/* ---- GSE-INT (group-shared exponent integers) -------------------------------------------------- */

/* ceil(n / group): the exponent fields of n elements (0 when group <= 0). */
LOWBIT_API size_t lowbit_gse_groups(size_t n, int32_t group) LOWBIT_NOEXCEPT;

/* A flat stream of n elements in groups of o->format.group (the last one possibly short): n_codes == n
 * codes (one int8 per element) and n_exps == lowbit_gse_groups(n, group) exponent fields. stats may be
 * NULL; else it receives this call's counts. */
LOWBIT_API lowbit_status lowbit_gse_encode_f32(size_t n, const float* in, int8_t* codes, size_t n_codes, uint8_t* exps,
                                               size_t n_exps, lowbit_gse_stats* stats,
                                               const lowbit_gse_options* o) LOWBIT_NOEXCEPT;
LOWBIT_API lowbit_status lowbit_gse_encode_f16(size_t n, const uint16_t* in, int8_t* codes, size_t n_codes,
                                               uint8_t* exps, size_t n_exps, lowbit_gse_stats* stats,
                                               const lowbit_gse_options* o) LOWBIT_NOEXCEPT;
LOWBIT_API lowbit_status lowbit_gse_encode_bf16(size_t n, const uint16_t* in, int8_t* codes, size_t n_codes,
                                                uint8_t* exps, size_t n_exps, lowbit_gse_stats* stats,
                                                const lowbit_gse_options* o) LOWBIT_NOEXCEPT;
/* The inverse: n codes (within +-(2^(bits-1) - 1), else LOWBIT_E_DATA) and their
 * lowbit_gse_groups(n, group) exponent fields -> n_out == n values. */
LOWBIT_API lowbit_status lowbit_gse_decode_f32(size_t n, const int8_t* codes, const uint8_t* exps, float* out,
                                               size_t n_out, const lowbit_gse_options* o) LOWBIT_NOEXCEPT;
LOWBIT_API lowbit_status lowbit_gse_decode_f16(size_t n, const int8_t* codes, const uint8_t* exps, uint16_t* out,
                                               size_t n_out, const lowbit_gse_options* o) LOWBIT_NOEXCEPT;
LOWBIT_API lowbit_status lowbit_gse_decode_bf16(size_t n, const int8_t* codes, const uint8_t* exps, uint16_t* out,
                                                size_t n_out, const lowbit_gse_options* o) LOWBIT_NOEXCEPT;

/* ---- OCP MX (MXINT8, MXFP8, MXFP6, MXFP4) ------------------------------------------------------ */

/* ceil(n / 32): the E8M0 scales of n elements. */
LOWBIT_API size_t lowbit_mx_blocks(size_t n) LOWBIT_NOEXCEPT;

/* n values -> n_codes == n element codes (one byte each: FP6/FP4 in the low bits, MXINT8 two's
 * complement) and n_scales == lowbit_mx_blocks(n) scales. stats may be NULL. */
LOWBIT_API lowbit_status lowbit_mx_encode_f32(size_t n, const float* in, uint8_t* codes, size_t n_codes,
                                              uint8_t* scales, size_t n_scales, lowbit_gse_stats* stats,
                                              const lowbit_mx_options* o) LOWBIT_NOEXCEPT;
/* The inverse: a code with bits above its element's width is LOWBIT_E_DATA. */
LOWBIT_API lowbit_status lowbit_mx_decode_f32(size_t n, const uint8_t* codes, const uint8_t* scales, float* out,
                                              size_t n_out, const lowbit_mx_options* o) LOWBIT_NOEXCEPT;

/* ---- NVFP4 (E2M1 elements, an E4M3 scale per 16 of a row, the tensor's f32 amax) ---------------- */

/* The sizes of n elements under o (NULL: the defaults); each 0 when o->cols does not divide n or an
 * option is out of range. The E4M3 scale bytes: rows x ceil(cols / 16), or the swizzled layout's padded tiles. */
LOWBIT_API size_t lowbit_nvfp4_scales(size_t n, const lowbit_nvfp4_options* o) LOWBIT_NOEXCEPT;
/* The code bytes: n, or ceil(n / 2) with o->packed. */
LOWBIT_API size_t lowbit_nvfp4_code_bytes(size_t n, const lowbit_nvfp4_options* o) LOWBIT_NOEXCEPT;
/* The random words of LOWBIT_ROUND_SR (o->random_bits): rows * ceil(cols / 4). */
LOWBIT_API size_t lowbit_nvfp4_random_words(size_t n, const lowbit_nvfp4_options* o) LOWBIT_NOEXCEPT;

/* n values (rows x o->cols) -> n_codes == lowbit_nvfp4_code_bytes(n, o) code bytes and n_scales ==
 * lowbit_nvfp4_scales(n, o) scales. global_amax may be NULL; else it receives the amax the encode scaled
 * by (*o->global_amax, or max |x|: NaN if an element is NaN), which decode needs. */
LOWBIT_API lowbit_status lowbit_nvfp4_encode_f32(size_t n, const float* in, uint8_t* codes, size_t n_codes, uint8_t* scales,
                                                 size_t n_scales, float* global_amax,
                                                 const lowbit_nvfp4_options* o) LOWBIT_NOEXCEPT;
/* The inverse: lowbit_nvfp4_code_bytes(n, o) code bytes, lowbit_nvfp4_scales(n, o) scales and the
 * tensor's amax -> n_out == n values. A code above 0x0F, or a set padding nibble, is LOWBIT_E_DATA. */
LOWBIT_API lowbit_status lowbit_nvfp4_decode_f32(size_t n, const uint8_t* codes, const uint8_t* scales, float global_amax,
                                                 float* out, size_t n_out, const lowbit_nvfp4_options* o) LOWBIT_NOEXCEPT;

/* ---- NF4 / FP4 (bitsandbytes' 4-bit blockwise formats) with double quantization ----------------- */

/* Entries of a double quantization map, and absmax values per nested block. */
#define LOWBIT_NF4_MAP_SIZE 256
#define LOWBIT_NF4_NESTED_BLOCK 256

/* ceil(n / 2): the packed bytes of n elements (two per byte). */
LOWBIT_API size_t lowbit_nf4_packed_bytes(size_t n) LOWBIT_NOEXCEPT;
/* ceil(n / block): the absmax values of n elements (0 when block <= 0). */
LOWBIT_API size_t lowbit_nf4_blocks(size_t n, int32_t block) LOWBIT_NOEXCEPT;
/* ceil(n_absmax / 256): the nested absmax values of a double quantization. */
LOWBIT_API size_t lowbit_nf4_nested_blocks(size_t n_absmax) LOWBIT_NOEXCEPT;

/* n values -> n_packed == lowbit_nf4_packed_bytes(n) bytes (element 2j in the high nibble of byte j)
 * and n_absmax == lowbit_nf4_blocks(n, block) absmax values. */
LOWBIT_API lowbit_status lowbit_nf4_encode_f32(size_t n, const float* in, uint8_t* packed, size_t n_packed,
                                               float* absmax, size_t n_absmax,
                                               const lowbit_nf4_options* o) LOWBIT_NOEXCEPT;
/* The inverse: n elements' packed codes and absmax values -> n_out == n values. */
LOWBIT_API lowbit_status lowbit_nf4_decode_f32(size_t n, const uint8_t* packed, const float* absmax, float* out,
                                               size_t n_out, const lowbit_nf4_options* o) LOWBIT_NOEXCEPT;

/* bitsandbytes' signed dynamic map (create_dynamic_map as torch computes it on x86-64, the
 * nested_quant_map checkpoints store): n_map == LOWBIT_NF4_MAP_SIZE floats. */
LOWBIT_API lowbit_status lowbit_nf4_dynamic_map(float* map, size_t n_map) LOWBIT_NOEXCEPT;
/* Double quantization of n absmax values: *offset (the mean, or o->offset), n_codes == n 8-bit codes
 * of absmax - offset and n_nested == lowbit_nf4_nested_blocks(n) nested absmax values. */
LOWBIT_API lowbit_status lowbit_nf4_double_quantize(size_t n, const float* absmax, uint8_t* codes, size_t n_codes,
                                                    float* nested_absmax, size_t n_nested, float* offset,
                                                    const lowbit_nf4_dq_options* o) LOWBIT_NOEXCEPT;
/* The inverse: absmax[i] = fl(fl(map[codes[i]] * nested_absmax[i / 256]) + offset), n_absmax == n. */
LOWBIT_API lowbit_status lowbit_nf4_double_dequantize(size_t n, const uint8_t* codes, const float* nested_absmax,
                                                      float offset, float* absmax, size_t n_absmax,
                                                      const lowbit_nf4_dq_options* o) LOWBIT_NOEXCEPT;

/* ---- QEFT: mixed-precision matvec and packing --------------------------------------------------- */

/* y = W x: x has w->ic floats (in the layout's column order: the non-weak columns ascending, then the
 * weak ones), y has n_y == w->oc. */
LOWBIT_API lowbit_status lowbit_qeft_matvec(const lowbit_qeft_matrix* w, const float* x, float* y,
                                            size_t n_y) LOWBIT_NOEXCEPT;

/* The lengths of a packed layer's buffers, in elements. */
typedef struct lowbit_qeft_sizes {
  size_t qweight; /* oc/4 x ic int16 */
  size_t scales;  /* groups x oc binary16: scales, and as many scaled_zeros */
  size_t oweight; /* oc x k binary16 */
  size_t group;   /* columns per group: lowbit_qeft_matrix.group */
} lowbit_qeft_sizes;
/* The sizes of an oc x ic layer with k weak columns packed with o; LOWBIT_E_INVALID for a shape
 * QEFT cannot store (oc % 8, ic % 64, the group, k < ic). */
LOWBIT_API lowbit_status lowbit_qeft_buffer_sizes(size_t oc, size_t ic, size_t k, const lowbit_qeft_pack_options* o,
                                                  lowbit_qeft_sizes* sizes) LOWBIT_NOEXCEPT;
/* Quantizes w (oc x ic f32, row-major, the original column order; finite in binary16) with the k weak
 * columns weak[] (ascending, distinct, < ic) kept in fp16, into QEFT's buffers, each of the length
 * lowbit_qeft_buffer_sizes gives. The layout moves the weak columns last (see lowbit_qeft_matvec). */
LOWBIT_API lowbit_status lowbit_qeft_pack(size_t oc, size_t ic, const float* w, size_t k, const int32_t* weak,
                                          int16_t* qweight, size_t n_qweight, uint16_t* scales, size_t n_scales,
                                          uint16_t* scaled_zeros, size_t n_scaled_zeros, uint16_t* oweight,
                                          size_t n_oweight, const lowbit_qeft_pack_options* o) LOWBIT_NOEXCEPT;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LOWBIT_C_API_H */
