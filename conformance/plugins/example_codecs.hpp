// The codecs of the example plugins: lowbit's own dispatched kernels (lowbit/kernels.hpp: the best
// implementation this CPU runs) behind the C functions of lowbit/vendor.h.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lowbit/kernels.hpp"
#include "lowbit/vendor.h"

namespace lowbit_plugin {

using namespace lowbit;

// Options -> kernel parameters; false for a bad format, rounding or profile.
inline bool fp8_profile(const lowbit_fp8_options* o, const Fp8Profile*& p) {
  if (!o || !o->profile || o->format > LOWBIT_FP8_E5M2 || o->rounding > LOWBIT_ROUND_SR) return false;
  p = find_fp8_profile(o->profile);
  return p != nullptr;
}

template <class In, class Raw>
int encode(std::size_t n, const Raw* in, std::uint8_t* out, const lowbit_fp8_options* o, bool ties_away = false) {
  const Fp8Profile* p = nullptr;
  if (!fp8_profile(o, p) || (n && (!in || !out))) return LOWBIT_VENDOR_E_INVALID;
  Rounding r = static_cast<Rounding>(o->rounding);
  if (ties_away && r == Rounding::rne) r = Rounding::rna;  // the faulty plugin's wrong tie rule
  Fp8EncodeParams params = make_encode_params(static_cast<Fp8Format>(o->format), *p, FloatTraits<In>::type, r, o->seed);
  params.index0 = o->index0;
  params.random_bits = o->random_bits;
  encode_kernel<In>(fp8_best())(n, reinterpret_cast<const In*>(in), out, &params);
  return LOWBIT_VENDOR_OK;
}

template <class Out, class Raw>
int decode(std::size_t n, const std::uint8_t* in, Raw* out, const lowbit_fp8_options* o) {
  const Fp8Profile* p = nullptr;
  if (!fp8_profile(o, p) || (n && (!in || !out))) return LOWBIT_VENDOR_E_INVALID;
  const Fp8DecodeParams params = make_decode_params(static_cast<Fp8Format>(o->format), *p);
  decode_kernel<Out>(fp8_best())(n, in, reinterpret_cast<Out*>(out), &params);
  return LOWBIT_VENDOR_OK;
}

inline bool nf4_params(const lowbit_nf4_options* o, Nf4Params& p) {
  if (!o || !o->profile || o->table > LOWBIT_NF4_TABLE_FP4 || !valid_nf4_block(o->block)) return false;
  const Nf4Profile* profile = find_nf4_profile(o->profile);
  if (!profile) return false;
  p = make_nf4_params(static_cast<FourBitTable>(o->table), *profile, o->block);
  return true;
}

inline int nf4_quantize(std::size_t n, const float* in, std::uint8_t* packed, float* absmax, const lowbit_nf4_options* o) {
  Nf4Params p;
  if (!nf4_params(o, p) || (n && (!in || !packed || !absmax))) return LOWBIT_VENDOR_E_INVALID;
  nf4_best().quantize(n, in, packed, absmax, &p);
  return LOWBIT_VENDOR_OK;
}

inline int nf4_dequantize(std::size_t n, const std::uint8_t* packed, const float* absmax, float* out,
                          const lowbit_nf4_options* o) {
  Nf4Params p;
  if (!nf4_params(o, p) || (n && (!packed || !absmax || !out))) return LOWBIT_VENDOR_E_INVALID;
  nf4_best().dequantize(n, packed, absmax, out, &p);
  return LOWBIT_VENDOR_OK;
}

}  // namespace lowbit_plugin
