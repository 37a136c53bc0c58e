// The example vendor plugin: lowbit's own optimized kernels behind the C ABI of lowbit/vendor.h.
// `lowbit conform --plugin liblowbit_example_plugin.so` passes every check.
#include "example_codecs.hpp"

namespace {

using namespace lowbit_plugin;

int enc_f32(size_t n, const float* in, uint8_t* out, const lowbit_fp8_options* o) { return encode<float>(n, in, out, o); }
int enc_f64(size_t n, const double* in, uint8_t* out, const lowbit_fp8_options* o) { return encode<double>(n, in, out, o); }
int enc_f16(size_t n, const uint16_t* in, uint8_t* out, const lowbit_fp8_options* o) { return encode<f16>(n, in, out, o); }
int enc_bf16(size_t n, const uint16_t* in, uint8_t* out, const lowbit_fp8_options* o) { return encode<bf16>(n, in, out, o); }
int dec_f32(size_t n, const uint8_t* in, float* out, const lowbit_fp8_options* o) { return decode<float>(n, in, out, o); }
int dec_f16(size_t n, const uint8_t* in, uint16_t* out, const lowbit_fp8_options* o) { return decode<f16>(n, in, out, o); }
int dec_bf16(size_t n, const uint8_t* in, uint16_t* out, const lowbit_fp8_options* o) { return decode<bf16>(n, in, out, o); }

int gse_enc_f32(size_t n, const float* in, int8_t* c, uint8_t* e, lowbit_gse_stats* s, const lowbit_gse_options* o) { return gse_encode<float>(n, in, c, e, s, o); }
int gse_enc_f16(size_t n, const uint16_t* in, int8_t* c, uint8_t* e, lowbit_gse_stats* s, const lowbit_gse_options* o) { return gse_encode<f16>(n, in, c, e, s, o); }
int gse_enc_bf16(size_t n, const uint16_t* in, int8_t* c, uint8_t* e, lowbit_gse_stats* s, const lowbit_gse_options* o) { return gse_encode<bf16>(n, in, c, e, s, o); }
int gse_dec_f32(size_t n, const int8_t* c, const uint8_t* e, float* out, const lowbit_gse_format* f) { return gse_decode<float>(n, c, e, out, f); }
int gse_dec_f16(size_t n, const int8_t* c, const uint8_t* e, uint16_t* out, const lowbit_gse_format* f) { return gse_decode<f16>(n, c, e, out, f); }
int gse_dec_bf16(size_t n, const int8_t* c, const uint8_t* e, uint16_t* out, const lowbit_gse_format* f) { return gse_decode<bf16>(n, c, e, out, f); }

int gemm(size_t m, size_t n, size_t k, const int8_t* a, const uint8_t* ae, const int8_t* b, const uint8_t* be,
         const lowbit_gse_format* fa, const lowbit_gse_format* fb, uint32_t accumulate, float* c) {
  return gse_gemm(m, n, k, a, ae, b, be, fa, fb, accumulate, c);
}

// Version 4: version 1's slots, the fp8 formats it implements (E4M3 and E5M2, as version 1 would, and
// P3109's binary8p8uf, a format past bit 31), and NVFP4.
const lowbit_vendor_descriptor4 kDescriptor{
    {{{LOWBIT_VENDOR_ABI_VERSION_4, "lowbit-example",
      enc_f32, enc_f64, enc_f16, enc_bf16, dec_f32, dec_f16, dec_bf16,
      nf4_quantize, nf4_dequantize,
      gse_enc_f32, gse_enc_f16, gse_enc_bf16, gse_dec_f32, gse_dec_f16, gse_dec_bf16,
      mx_encode, mx_decode, qeft_matvec, gemm},
     LOWBIT_FP8_FORMAT_BIT(LOWBIT_FP8_E4M3) | LOWBIT_FP8_FORMAT_BIT(LOWBIT_FP8_E5M2)},
     nvfp4_encode, nvfp4_decode},
    LOWBIT_FP8_FORMAT_BIT_HIGH(LOWBIT_FP8_BINARY8P8UF)};

}  // namespace

extern "C" LOWBIT_VENDOR_EXPORT const lowbit_vendor_descriptor4* lowbit_vendor_descriptor_v4(void) { return &kDescriptor; }
