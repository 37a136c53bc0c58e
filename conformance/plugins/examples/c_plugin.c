/* A vendor plugin written in ISO C11 (built with -pedantic-errors): lowbit/vendor.h compiles as C,
 * and a descriptor laid out by a C compiler is read right up to its last slot. It implements only
 * qeft_matvec_f32 and gse_gemm_f32 (the last slot), and both say "unsupported" for every call; every
 * other slot is NULL. */
#include "lowbit/vendor.h"

static int unsupported_matvec(const lowbit_qeft_matrix* w, const float* x, float* y) {
  (void)w;
  (void)x;
  (void)y;
  return LOWBIT_E_UNSUPPORTED;
}

static int unsupported_gemm(size_t m, size_t n, size_t k, const int8_t* a, const uint8_t* a_exps, const int8_t* b,
                            const uint8_t* b_exps, const lowbit_gse_format* fa, const lowbit_gse_format* fb,
                            uint32_t accumulate, float* c) {
  (void)m, (void)n, (void)k, (void)a, (void)a_exps, (void)b, (void)b_exps, (void)fa, (void)fb, (void)accumulate, (void)c;
  return LOWBIT_E_UNSUPPORTED;
}

static const lowbit_vendor_descriptor descriptor = {
    .abi_version = LOWBIT_VENDOR_ABI_VERSION,
    .vendor_name = "c-vendor",
    .qeft_matvec_f32 = unsupported_matvec,
    .gse_gemm_f32 = unsupported_gemm,
};

LOWBIT_VENDOR_EXPORT const lowbit_vendor_descriptor* lowbit_vendor_descriptor_v1(void) { return &descriptor; }
