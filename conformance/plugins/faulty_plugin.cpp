// A deliberately faulty vendor plugin, for the tests of `lowbit verify --plugin`:
//   - FP8 encode rounds ties away from zero where round-to-nearest-even is asked (rne -> rna);
//   - NF4/FP4 puts element 2j in the LOW nibble of byte j (the two nibbles of every byte swapped);
//   - LOWBIT_FAULTY_CRASH=e4m3|e5m2|nf4: the first encode/quantize call for that format dies of
//     SIGSEGV; LOWBIT_FAULTY_ERROR=e4m3|e5m2|nf4: those calls return error 7 (outputs untouched);
//   - LOWBIT_FAULTY_ABI=N: the descriptor claims ABI version N (a version-mismatch test).
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "example_codecs.hpp"

namespace {

using namespace lowbit_plugin;

constexpr int kFaultyError = 7;

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
  return env_is("LOWBIT_FAULTY_ERROR", format) ? kFaultyError : LOWBIT_VENDOR_OK;
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
  if (status == LOWBIT_VENDOR_OK)
    for (size_t j = 0; j < (n + 1) / 2; ++j) packed[j] = swap_nibbles(packed[j]);
  return status;
}
int dequantize(size_t n, const uint8_t* packed, const float* absmax, float* out, const lowbit_nf4_options* o) {
  std::vector<uint8_t> swapped((n + 1) / 2);
  for (size_t j = 0; j < swapped.size(); ++j) swapped[j] = swap_nibbles(packed[j]);
  return nf4_dequantize(n, swapped.data(), absmax, out, o);
}

lowbit_vendor_descriptor kDescriptor{LOWBIT_VENDOR_ABI_VERSION, "faulty-vendor",
                                     enc_f32, enc_f64, enc_f16, enc_bf16, dec_f32, dec_f16, dec_bf16,
                                     quantize, dequantize};

}  // namespace

extern "C" LOWBIT_VENDOR_EXPORT const lowbit_vendor_descriptor* lowbit_vendor_descriptor_v1(void) {
  const char* v = std::getenv("LOWBIT_FAULTY_ABI");
  kDescriptor.abi_version = v ? static_cast<uint32_t>(std::atoi(v)) : LOWBIT_VENDOR_ABI_VERSION;
  return &kDescriptor;
}
