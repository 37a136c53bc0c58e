// The codecs of the example plugins: lowbit's own dispatched kernels (lowbit/kernels.hpp: the best
// implementation this CPU runs; NVFP4 through the C API) behind the C functions of lowbit/vendor.h. MX minifloat blocks have
// no optimized kernel: they are the reference codec (MXINT8 is the GSE kernel on gse::mxint8_format()).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lowbit/c_api.h"
#include "lowbit/kernels.hpp"
#include "lowbit/qeft.hpp"
#include "lowbit/reference/mx.hpp"
#include "lowbit/vendor.h"

namespace lowbit_plugin {

using namespace lowbit;

// Options -> kernel parameters; false for a bad format, rounding or profile. (Which formats a plugin
// is called with is what its descriptor declares: version 1, E4M3 and E5M2.)
inline bool fp8_profile(const lowbit_fp8_options* o, const fp8::Profile*& p) {
  if (!o || !o->profile || o->format >= fp8::kFormats.size() || o->rounding > LOWBIT_ROUND_RTO) return false;
  p = fp8::find_profile(o->profile);
  return p != nullptr;
}

template <class In, class Raw>
int encode(std::size_t n, const Raw* in, std::uint8_t* out, const lowbit_fp8_options* o, bool ties_away = false) {
  const fp8::Profile* p = nullptr;
  if (!fp8_profile(o, p) || (n && (!in || !out))) return LOWBIT_E_INVALID;
  Rounding r = static_cast<Rounding>(o->rounding);
  if (ties_away && r == Rounding::rne) r = Rounding::rna;  // the faulty plugin's wrong tie rule
  fp8::EncodeParams params = fp8::encode_params(static_cast<fp8::Format>(o->format), *p, FloatTraits<In>::type, r, o->seed);
  params.index0 = o->index0;
  params.random_bits = o->random_bits;
  fp8::encode_kernel<In>(kernels::best<fp8::Impl>())(n, reinterpret_cast<const In*>(in), out, &params);
  return LOWBIT_OK;
}

template <class Out, class Raw>
int decode(std::size_t n, const std::uint8_t* in, Raw* out, const lowbit_fp8_options* o) {
  const fp8::Profile* p = nullptr;
  if (!fp8_profile(o, p) || (n && (!in || !out))) return LOWBIT_E_INVALID;
  const fp8::DecodeParams params = fp8::decode_params(static_cast<fp8::Format>(o->format), *p);
  fp8::decode_kernel<Out>(kernels::best<fp8::Impl>())(n, in, reinterpret_cast<Out*>(out), &params);
  return LOWBIT_OK;
}

inline bool nf4_params(const lowbit_nf4_options* o, nf4::Params& p) {
  if (!o || !o->profile || o->table > LOWBIT_NF4_TABLE_FP4 || !nf4::valid_block(o->block)) return false;
  const nf4::Profile* profile = nf4::find_profile(o->profile);
  if (!profile) return false;
  p = nf4::make_params(static_cast<nf4::Table>(o->table), *profile, o->block);
  return true;
}

inline int nf4_quantize(std::size_t n, const float* in, std::uint8_t* packed, float* absmax, const lowbit_nf4_options* o) {
  nf4::Params p;
  if (!nf4_params(o, p) || (n && (!in || !packed || !absmax))) return LOWBIT_E_INVALID;
  kernels::best<nf4::Impl>().encode(n, in, packed, absmax, &p);
  return LOWBIT_OK;
}

inline int nf4_dequantize(std::size_t n, const std::uint8_t* packed, const float* absmax, float* out,
                          const lowbit_nf4_options* o) {
  nf4::Params p;
  if (!nf4_params(o, p) || (n && (!packed || !absmax || !out))) return LOWBIT_E_INVALID;
  kernels::best<nf4::Impl>().decode(n, packed, absmax, out, &p);
  return LOWBIT_OK;
}

// Options -> kernel parameters; false for a bad field (the C enums arrive unchecked).
inline bool gse_format(const lowbit_gse_format* c, gse::Format& f) {
  if (!c || c->mantissa_overflow > LOWBIT_GSE_MANTISSA_BUMP || c->exponent_overflow > LOWBIT_GSE_EXPONENT_NAN) return false;
  f = {c->bits, c->group, c->exp_bits, c->exp_bias, c->exp_offset, static_cast<gse::MantissaOverflow>(c->mantissa_overflow),
       static_cast<gse::ExponentOverflow>(c->exponent_overflow)};
  return !validate(f);
}

inline void copy_stats(const BlockStats& s, lowbit_gse_stats* out) {
  if (out) *out = {s.groups, s.nan_groups, s.exp_underflow, s.exp_overflow, s.bumped, s.saturated};
}

template <class In, class Raw>
int gse_encode(std::size_t n, const Raw* in, std::int8_t* codes, std::uint8_t* exps, lowbit_gse_stats* stats,
               const lowbit_gse_options* o, bool ties_away = false) {
  gse::Format f;
  if (!o || !gse_format(&o->format, f) || o->rounding > LOWBIT_ROUND_SR || (n && (!in || !codes || !exps)))
    return LOWBIT_E_INVALID;
  Rounding r = static_cast<Rounding>(o->rounding);
  if (ties_away && r == Rounding::rne) r = Rounding::rna;  // the faulty plugin's wrong tie rule
  const gse::EncodeParams p{f, r, o->seed, o->index0, o->random_bits};
  BlockStats s;
  gse::encode_kernel<In>(kernels::best<gse::Impl>())(n, reinterpret_cast<const In*>(in), codes, exps, &p, &s);
  copy_stats(s, stats);
  return LOWBIT_OK;
}

template <class Out, class Raw>
int gse_decode(std::size_t n, const std::int8_t* codes, const std::uint8_t* exps, Raw* out, const lowbit_gse_format* c) {
  gse::Format f;
  if (!gse_format(c, f) || (n && (!codes || !exps || !out))) return LOWBIT_E_INVALID;
  gse::decode_kernel<Out>(kernels::best<gse::Impl>())(n, codes, exps, reinterpret_cast<Out*>(out), &f);
  return LOWBIT_OK;
}

// ignore_b_offset: the faulty plugin's bug (B's exp_offset taken as 0).
inline int gse_gemm(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, const std::uint8_t* a_exps,
                    const std::int8_t* b, const std::uint8_t* b_exps, const lowbit_gse_format* a_format,
                    const lowbit_gse_format* b_format, std::uint32_t accumulate, float* c, bool ignore_b_offset = false) {
  gse::GemmParams p;
  if (!gse_format(a_format, p.a) || !gse_format(b_format, p.b) || p.a.group != p.b.group ||
      accumulate > LOWBIT_GSE_ACCUMULATE_FP32 || (m && n && !c) || (m && n && k && (!a || !a_exps || !b || !b_exps)))
    return LOWBIT_E_INVALID;
  p.accumulate = static_cast<gse::Accumulate>(accumulate);
  if (ignore_b_offset) p.b.exp_offset = 0;
  kernels::best<gse::GemmImpl>().gemm(m, n, k, a, a_exps, b, b_exps, c, &p);
  return LOWBIT_OK;
}

inline bool mx_valid(const lowbit_mx_options* o) {
  return o && o->format <= LOWBIT_MX_FP4_E2M1 && o->rounding <= LOWBIT_ROUND_SR;
}

inline int mx_encode(std::size_t n, const float* in, std::uint8_t* codes, std::uint8_t* scales, const lowbit_mx_options* o) {
  if (!mx_valid(o) || (n && (!in || !codes || !scales))) return LOWBIT_E_INVALID;
  const Rounding r = static_cast<Rounding>(o->rounding);
  if (o->format == LOWBIT_MX_INT8) {
    const gse::EncodeParams p{gse::mxint8_format(), r, o->seed, o->index0, nullptr};
    gse::encode_kernel<float>(kernels::best<gse::Impl>())(n, in, reinterpret_cast<std::int8_t*>(codes), scales, &p, nullptr);
  } else {
    const mx::EncodeParams p{static_cast<mx::Format>(o->format), r, o->seed, o->index0};
    ref::mx_encode_ref(n, in, codes, scales, &p, nullptr);
  }
  return LOWBIT_OK;
}

inline int mx_decode(std::size_t n, const std::uint8_t* codes, const std::uint8_t* scales, float* out, const lowbit_mx_options* o) {
  if (!mx_valid(o) || (n && (!codes || !scales || !out))) return LOWBIT_E_INVALID;
  if (o->format == LOWBIT_MX_INT8) {
    const gse::Format f = gse::mxint8_format();
    gse::decode_kernel<float>(kernels::best<gse::Impl>())(n, reinterpret_cast<const std::int8_t*>(codes), scales, out, &f);
  } else {
    const mx::DecodeParams p{static_cast<mx::Format>(o->format)};
    ref::mx_decode_ref(n, codes, scales, out, &p);
  }
  return LOWBIT_OK;
}

// NVFP4: the vendor ABI's options are the C API's (lowbit/c_types.h), so they go straight to it.
inline int nvfp4_encode(std::size_t n, const float* in, std::uint8_t* codes, std::uint8_t* scales, const lowbit_nvfp4_options* o) {
  if (!o) return LOWBIT_E_INVALID;
  return lowbit_nvfp4_encode_f32(n, in, codes, lowbit_nvfp4_code_bytes(n, o), scales, lowbit_nvfp4_scales(n, o), nullptr, o);
}

inline int nvfp4_decode(std::size_t n, const std::uint8_t* codes, const std::uint8_t* scales, float global_amax, float* out,
                        const lowbit_nvfp4_options* o) {
  if (!o) return LOWBIT_E_INVALID;
  return lowbit_nvfp4_decode_f32(n, codes, scales, global_amax, out, n, o);
}

inline qeft::Matrix qeft_matrix(const lowbit_qeft_matrix& m) {
  return {m.oc, m.ic, m.k, m.group, m.qweight, m.scales, m.scaled_zeros, m.oweight};
}

inline int qeft_matvec(const lowbit_qeft_matrix* m, const float* x, float* y) {
  if (!m || !x || !y) return LOWBIT_E_INVALID;
  const qeft::Matrix w = qeft_matrix(*m);
  try {
    qeft::validate(w);
  } catch (const Error&) {
    return LOWBIT_E_INVALID;
  }
  kernels::best<qeft::Impl>().matvec(&w, x, y);
  return LOWBIT_OK;
}

}  // namespace lowbit_plugin
