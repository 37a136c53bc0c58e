// A deliberately faulty vendor plugin, for the tests of `lowbit conform --plugin`:
//   - FP8 encode rounds ties away from zero where round-to-nearest-even is asked (rne -> rna);
//   - NF4/FP4 puts element 2j in the LOW nibble of byte j (the two nibbles of every byte swapped);
//   - GSE encode rounds ties away from zero where round-to-nearest-even is asked;
//   - MX encode takes the block scale from floor(log2 amax) without subtracting the element
//     format's emax (MXINT8, whose emax is 0, is right);
//   - the GSE GEMM ignores B's exp_offset (as if the weights had no per-tensor scale);
//   - the QEFT matvec reads the four codes of each qweight int16 in reverse nibble order;
//   - LOWBIT_FAULTY_CRASH=e4m3|e5m2|gse|gse-gemm|mx|nf4|qeft: the first encode/quantize/matvec/gemm call for that
//     format dies of SIGSEGV; LOWBIT_FAULTY_ERROR=...: those calls return error 42 (outputs untouched);
//   - LOWBIT_FAULTY_ABI=N: the descriptor claims ABI version N (a version-mismatch test).
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "example_codecs.hpp"
#include "lowbit/reference/philox.hpp"

namespace {

using namespace lowbit_plugin;

constexpr int kFaultyError = 42;

bool env_is(const char* var, const char* format) {
  const char* v = std::getenv(var);
  return v && std::strcmp(v, format) == 0;
}
// A fault asked for this format: crash (a real signal, whatever the sanitizers) or an error code.
int fault(const char* format) {
  if (env_is("LOWBIT_FAULTY_CRASH", format)) {
    std::signal(SIGSEGV, SIG_DFL);
    std::raise(SIGSEGV);
  }
  return env_is("LOWBIT_FAULTY_ERROR", format) ? kFaultyError : LOWBIT_OK;
}
const char* fp8_name(const lowbit_fp8_options* o) { return o && o->format == LOWBIT_FP8_E5M2 ? "e5m2" : "e4m3"; }

template <class In, class Raw> int enc(size_t n, const Raw* in, uint8_t* out, const lowbit_fp8_options* o) {
  if (const int e = fault(fp8_name(o))) return e;
  return encode<In>(n, in, out, o, /*ties_away=*/true);
}
int enc_f32(size_t n, const float* in, uint8_t* out, const lowbit_fp8_options* o) { return enc<float>(n, in, out, o); }
int enc_f64(size_t n, const double* in, uint8_t* out, const lowbit_fp8_options* o) { return enc<double>(n, in, out, o); }
int enc_f16(size_t n, const uint16_t* in, uint8_t* out, const lowbit_fp8_options* o) { return enc<f16>(n, in, out, o); }
int enc_bf16(size_t n, const uint16_t* in, uint8_t* out, const lowbit_fp8_options* o) { return enc<bf16>(n, in, out, o); }
int dec_f32(size_t n, const uint8_t* in, float* out, const lowbit_fp8_options* o) { return decode<float>(n, in, out, o); }
int dec_f16(size_t n, const uint8_t* in, uint16_t* out, const lowbit_fp8_options* o) { return decode<f16>(n, in, out, o); }
int dec_bf16(size_t n, const uint8_t* in, uint16_t* out, const lowbit_fp8_options* o) { return decode<bf16>(n, in, out, o); }

uint8_t swap_nibbles(uint8_t b) { return static_cast<uint8_t>((b << 4) | (b >> 4)); }

int quantize(size_t n, const float* in, uint8_t* packed, float* absmax, const lowbit_nf4_options* o) {
  if (const int e = fault("nf4")) return e;
  const int status = nf4_quantize(n, in, packed, absmax, o);
  if (status == LOWBIT_OK)
    for (size_t j = 0; j < (n + 1) / 2; ++j) packed[j] = swap_nibbles(packed[j]);
  return status;
}
int dequantize(size_t n, const uint8_t* packed, const float* absmax, float* out, const lowbit_nf4_options* o) {
  std::vector<uint8_t> swapped((n + 1) / 2);
  for (size_t j = 0; j < swapped.size(); ++j) swapped[j] = swap_nibbles(packed[j]);
  return nf4_dequantize(n, swapped.data(), absmax, out, o);
}

template <class In, class Raw>
int gse_enc(size_t n, const Raw* in, int8_t* c, uint8_t* e, lowbit_gse_stats* s, const lowbit_gse_options* o) {
  if (const int err = fault("gse")) return err;
  return gse_encode<In>(n, in, c, e, s, o, /*ties_away=*/true);
}
int gse_dec_f32(size_t n, const int8_t* c, const uint8_t* e, float* out, const lowbit_gse_format* f) { return gse_decode<float>(n, c, e, out, f); }
int gse_dec_f16(size_t n, const int8_t* c, const uint8_t* e, uint16_t* out, const lowbit_gse_format* f) { return gse_decode<f16>(n, c, e, out, f); }
int gse_dec_bf16(size_t n, const int8_t* c, const uint8_t* e, uint16_t* out, const lowbit_gse_format* f) { return gse_decode<bf16>(n, c, e, out, f); }

// The right encode, then every finite block of a minifloat format again with X = floor(log2 amax).
int mx_enc(size_t n, const float* in, uint8_t* codes, uint8_t* scales, const lowbit_mx_options* o) {
  if (const int e = fault("mx")) return e;
  const int status = mx_encode(n, in, codes, scales, o);
  if (status != LOWBIT_OK || o->format == LOWBIT_MX_INT8) return status;
  const mx::Traits& t = traits(static_cast<mx::Format>(o->format));
  const Rounding r = static_cast<Rounding>(o->rounding);
  for (size_t b = 0; b * mx::kBlock < n; ++b) {
    if (scales[b] == mx::kE8m0Nan) continue;
    const size_t first = b * mx::kBlock, last = std::min(n, first + mx::kBlock);
    float amax = 0;
    for (size_t i = first; i < last; ++i) amax = std::max(amax, std::fabs(in[i]));
    const int X = std::max(amax == 0 ? -127 : std::ilogb(amax), -127);  // missing: - t.emax
    scales[b] = static_cast<uint8_t>(X + 127);
    for (size_t i = first; i < last; ++i)
      codes[i] = ref::mx_element_code(t, in[i], X, r, r == Rounding::sr ? ref::philox_word(o->seed, o->index0 + i) : 0);
  }
  return LOWBIT_OK;
}

uint16_t reverse_nibbles(uint16_t w) {
  return static_cast<uint16_t>((w >> 12) | ((w >> 4) & 0x00F0) | ((w << 4) & 0x0F00) | (w << 12));
}

int matvec(const lowbit_qeft_matrix* m, const float* x, float* y) {
  if (const int e = fault("qeft")) return e;
  if (!m || !m->qweight) return qeft_matvec(m, x, y);
  std::vector<int16_t> q(m->oc / 4 * m->ic);
  for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<int16_t>(reverse_nibbles(static_cast<uint16_t>(m->qweight[i])));
  lowbit_qeft_matrix reversed = *m;
  reversed.qweight = q.data();
  return qeft_matvec(&reversed, x, y);
}

int gemm(size_t m, size_t n, size_t k, const int8_t* a, const uint8_t* ae, const int8_t* b, const uint8_t* be,
         const lowbit_gse_format* fa, const lowbit_gse_format* fb, uint32_t accumulate, float* c) {
  if (const int e = fault("gse-gemm")) return e;
  return gse_gemm(m, n, k, a, ae, b, be, fa, fb, accumulate, c, /*ignore_b_offset=*/true);
}

lowbit_vendor_descriptor kDescriptor{LOWBIT_VENDOR_ABI_VERSION, "faulty-vendor",
                                     enc_f32, enc_f64, enc_f16, enc_bf16, dec_f32, dec_f16, dec_bf16,
                                     quantize, dequantize,
                                     gse_enc<float>, gse_enc<f16>, gse_enc<bf16>, gse_dec_f32, gse_dec_f16, gse_dec_bf16,
                                     mx_enc, mx_decode, matvec, gemm};

}  // namespace

extern "C" LOWBIT_VENDOR_EXPORT const lowbit_vendor_descriptor* lowbit_vendor_descriptor_v1(void) {
  const char* v = std::getenv("LOWBIT_FAULTY_ABI");
  kDescriptor.abi_version = v ? static_cast<uint32_t>(std::atoi(v)) : LOWBIT_VENDOR_ABI_VERSION;
  return &kDescriptor;
}
