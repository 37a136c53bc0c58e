// A vendor plugin that implements only some option combinations, as ml_dtypes' float8 conversions
// wrapped as a plugin would: FP8 encode from every source type with round-to-nearest-even, and decode,
// for the ml_dtypes profile only. Every other rounding or profile answers LOWBIT_E_UNSUPPORTED
// (outputs untouched). `lowbit conform --plugin` passes it, the unsupported checks listed apart. Its
// name is long, as vendors' names are.
#include <cstring>

#include "example_codecs.hpp"

namespace {

using namespace lowbit_plugin;

bool supported(const lowbit_fp8_options* o, bool encode) {
  return o && o->profile && std::strcmp(o->profile, "ml_dtypes") == 0 && (!encode || o->rounding == LOWBIT_ROUND_RNE);
}

template <class In, class Raw> int enc(size_t n, const Raw* in, uint8_t* out, const lowbit_fp8_options* o) {
  return supported(o, true) ? encode<In>(n, in, out, o) : LOWBIT_E_UNSUPPORTED;
}
template <class Out, class Raw> int dec(size_t n, const uint8_t* in, Raw* out, const lowbit_fp8_options* o) {
  return supported(o, false) ? decode<Out>(n, in, out, o) : LOWBIT_E_UNSUPPORTED;
}

// Only the FP8 slots: the others stay NULL ("not implemented").
const lowbit_vendor_descriptor kDescriptor = [] {
  lowbit_vendor_descriptor d{};
  d.abi_version = LOWBIT_VENDOR_ABI_VERSION;
  d.vendor_name = "ml_dtypes float8 (round to nearest even only), wrapped as a plugin";
  d.fp8_encode_f32 = enc<float, float>;
  d.fp8_encode_f64 = enc<double, double>;
  d.fp8_encode_f16 = enc<f16, uint16_t>;
  d.fp8_encode_bf16 = enc<bf16, uint16_t>;
  d.fp8_decode_f32 = dec<float, float>;
  d.fp8_decode_f16 = dec<f16, uint16_t>;
  d.fp8_decode_bf16 = dec<bf16, uint16_t>;
  return d;
}();

}  // namespace

extern "C" LOWBIT_VENDOR_EXPORT const lowbit_vendor_descriptor* lowbit_vendor_descriptor_v1(void) { return &kDescriptor; }
