// A version-2 plugin (lowbit/vendor.h) that declares E4M3FNUZ besides E4M3 and gets E4M3FNUZ's missing
// -0 wrong: a negative value that rounds to zero keeps its sign, 0x80, which is that format's one NaN.
// `lowbit conform --plugin` must run it on the two formats it declares and no other, and report the
// E4M3FNUZ checks failed. A call with any other format ends the process: the loader never makes one.
#include <cmath>
#include <cstdlib>

#include "example_codecs.hpp"

namespace {

using namespace lowbit_plugin;

void declared_or_abort(const lowbit_fp8_options* o) {
  if (o && o->format != LOWBIT_FP8_E4M3 && o->format != LOWBIT_FP8_E4M3FNUZ) std::abort();
}

bool negative(float x) { return std::signbit(x); }
bool negative(double x) { return std::signbit(x); }
bool negative(uint16_t bits) { return bits >> 15; }  // f16 and bf16

template <class In, class Raw> int enc(size_t n, const Raw* in, uint8_t* out, const lowbit_fp8_options* o) {
  declared_or_abort(o);
  const int status = encode<In>(n, in, out, o);
  if (status == LOWBIT_OK && o->format == LOWBIT_FP8_E4M3FNUZ)
    for (size_t i = 0; i < n; ++i)
      if (out[i] == 0 && negative(in[i])) out[i] = 0x80;  // the fault
  return status;
}
template <class Out, class Raw> int dec(size_t n, const uint8_t* in, Raw* out, const lowbit_fp8_options* o) {
  declared_or_abort(o);
  return decode<Out>(n, in, out, o);
}

const lowbit_vendor_descriptor2 kDescriptor = [] {
  lowbit_vendor_descriptor2 d{};
  d.v1.abi_version = LOWBIT_VENDOR_ABI_VERSION_2;
  d.v1.vendor_name = "fnuz-vendor";
  d.v1.fp8_encode_f32 = enc<float, float>;
  d.v1.fp8_encode_f64 = enc<double, double>;
  d.v1.fp8_encode_f16 = enc<f16, uint16_t>;
  d.v1.fp8_encode_bf16 = enc<bf16, uint16_t>;
  d.v1.fp8_decode_f32 = dec<float, float>;
  d.v1.fp8_decode_f16 = dec<f16, uint16_t>;
  d.v1.fp8_decode_bf16 = dec<bf16, uint16_t>;
  d.fp8_formats = LOWBIT_FP8_FORMAT_BIT(LOWBIT_FP8_E4M3) | LOWBIT_FP8_FORMAT_BIT(LOWBIT_FP8_E4M3FNUZ);
  return d;
}();

}  // namespace

extern "C" LOWBIT_VENDOR_EXPORT const lowbit_vendor_descriptor2* lowbit_vendor_descriptor_v2(void) { return &kDescriptor; }
