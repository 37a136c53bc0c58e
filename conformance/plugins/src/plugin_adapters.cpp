// The vendor C functions of lowbit/vendor.h behind the slots of lowbit's kernel tables. Each adapter
// converts the kernel parameters to the C option struct, calls the plugin and reports its status
// (plugin_calls::record), describing the call with its options.
#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <type_traits>

#include "lowbit/conformance/plugin.hpp"
#include "lowbit/reference/gse.hpp"
#include "plugin_calls.hpp"

namespace lowbit::conformance {

static_assert(LOWBIT_FP8_E4M3 == static_cast<unsigned>(fp8::Format::e4m3) &&
              LOWBIT_FP8_E5M2 == static_cast<unsigned>(fp8::Format::e5m2));
static_assert(LOWBIT_ROUND_RNE == static_cast<unsigned>(Rounding::rne) &&
              LOWBIT_ROUND_RNA == static_cast<unsigned>(Rounding::rna) &&
              LOWBIT_ROUND_RTZ == static_cast<unsigned>(Rounding::rtz) &&
              LOWBIT_ROUND_SR == static_cast<unsigned>(Rounding::sr));
static_assert(LOWBIT_NF4_TABLE_NF4 == static_cast<unsigned>(nf4::Table::nf4) &&
              LOWBIT_NF4_TABLE_FP4 == static_cast<unsigned>(nf4::Table::fp4));
static_assert(LOWBIT_GSE_MANTISSA_SATURATE == static_cast<unsigned>(gse::MantissaOverflow::saturate) &&
              LOWBIT_GSE_MANTISSA_BUMP == static_cast<unsigned>(gse::MantissaOverflow::bump) &&
              LOWBIT_GSE_EXPONENT_SATURATE == static_cast<unsigned>(gse::ExponentOverflow::saturate) &&
              LOWBIT_GSE_EXPONENT_NAN == static_cast<unsigned>(gse::ExponentOverflow::nan));
static_assert(LOWBIT_MX_INT8 == static_cast<unsigned>(mx::Format::int8) &&
              LOWBIT_MX_FP8_E4M3 == static_cast<unsigned>(mx::Format::fp8_e4m3) &&
              LOWBIT_MX_FP8_E5M2 == static_cast<unsigned>(mx::Format::fp8_e5m2) &&
              LOWBIT_MX_FP6_E3M2 == static_cast<unsigned>(mx::Format::fp6_e3m2) &&
              LOWBIT_MX_FP6_E2M3 == static_cast<unsigned>(mx::Format::fp6_e2m3) &&
              LOWBIT_MX_FP4_E2M1 == static_cast<unsigned>(mx::Format::fp4_e2m1));
static_assert(LOWBIT_GSE_ACCUMULATE_EXACT == static_cast<unsigned>(gse::Accumulate::exact) &&
              LOWBIT_GSE_ACCUMULATE_FP32 == static_cast<unsigned>(gse::Accumulate::fp32));
static_assert(sizeof(f16) == 2 && sizeof(bf16) == 2);

namespace {

using plugin_calls::active;
using plugin_calls::record;
using D = lowbit_vendor_descriptor;

template <class T> constexpr std::string_view type_name() {
  if constexpr (std::is_same_v<T, float>) return "f32";
  else if constexpr (std::is_same_v<T, double>) return "f64";
  else if constexpr (std::is_same_v<T, f16>) return "f16";
  else return "bf16";
}

std::string describe(const gse::Format& f) {
  return fmt::format("b={} N={} e{} bias {} offset {} {}/{}", f.bits, f.group, f.exp_bits, f.exp_bias, f.exp_offset,
                     f.mantissa_overflow == gse::MantissaOverflow::bump ? "bump" : "saturate",
                     f.exponent_overflow == gse::ExponentOverflow::nan ? "nan" : "saturate");
}

// ---- FP8
lowbit_fp8_options fp8_options(fp8::Format f, Rounding r, std::uint64_t seed, std::uint64_t index0,
                               const std::uint32_t* random_bits) {
  return {static_cast<std::uint32_t>(f), static_cast<std::uint32_t>(r), active.fp8_profile.c_str(), seed, index0,
          random_bits};
}

template <class In, class Raw, auto Slot>
void fp8_encode(std::size_t n, const In* in, std::uint8_t* out, const fp8::EncodeParams* p) {
  const lowbit_fp8_options o = fp8_options(p->format, p->rounding, p->seed, p->index0, p->random_bits);
  record((active.d->*Slot)(n, reinterpret_cast<const Raw*>(in), out, &o), [&] {
    return fmt::format("fp8_encode_{}(n={}, {}, rounding {}, profile {})", type_name<In>(), n, traits(p->format).name,
                       name(p->rounding), active.fp8_profile);
  });
}
template <class Out, class Raw, auto Slot>
void fp8_decode(std::size_t n, const std::uint8_t* in, Out* out, const fp8::DecodeParams* p) {
  const lowbit_fp8_options o = fp8_options(p->format, Rounding::rne, 0, 0, nullptr);
  record((active.d->*Slot)(n, in, reinterpret_cast<Raw*>(out), &o), [&] {
    return fmt::format("fp8_decode_{}(n={}, {}, profile {})", type_name<Out>(), n, traits(p->format).name, active.fp8_profile);
  });
}

// ---- NF4 / FP4
std::string nf4_call(const char* fn, std::size_t n, const nf4::Params* p) {
  return fmt::format("{}(n={}, {}, block {}, profile {})", fn, n, name(p->table), p->block, p->profile.name);
}
void nf4_quantize(std::size_t n, const float* in, std::uint8_t* packed, float* absmax, const nf4::Params* p) {
  const std::string profile(p->profile.name);
  const lowbit_nf4_options o{static_cast<std::uint32_t>(p->table), p->block, profile.c_str()};
  record(active.d->nf4_quantize_f32(n, in, packed, absmax, &o), [&] { return nf4_call("nf4_quantize_f32", n, p); });
}
void nf4_dequantize(std::size_t n, const std::uint8_t* packed, const float* absmax, float* out, const nf4::Params* p) {
  const std::string profile(p->profile.name);
  const lowbit_nf4_options o{static_cast<std::uint32_t>(p->table), p->block, profile.c_str()};
  record(active.d->nf4_dequantize_f32(n, packed, absmax, out, &o), [&] { return nf4_call("nf4_dequantize_f32", n, p); });
}

// ---- GSE
lowbit_gse_format gse_format(const gse::Format& f) {
  return {f.bits, f.group, f.exp_bits, f.exp_bias, f.exp_offset, static_cast<std::uint32_t>(f.mantissa_overflow),
          static_cast<std::uint32_t>(f.exponent_overflow)};
}

template <class In, class Raw, auto Slot>
void gse_encode(std::size_t n, const In* in, std::int8_t* codes, std::uint8_t* exps, const gse::EncodeParams* p,
                BlockStats* stats) {
  const lowbit_gse_options o{gse_format(p->format), static_cast<std::uint32_t>(p->rounding), p->seed, p->index0,
                             p->random_bits};
  lowbit_gse_stats s{};
  record((active.d->*Slot)(n, reinterpret_cast<const Raw*>(in), codes, exps, &s, &o), [&] {
    return fmt::format("gse_encode_{}(n={}, {}, rounding {})", type_name<In>(), n, describe(p->format), name(p->rounding));
  });
  if (stats) *stats += {s.groups, s.nan_groups, s.exp_underflow, s.exp_overflow, s.bumped, s.saturated};
}
template <class Out, class Raw, auto Slot>
bool gse_decode(std::size_t n, const std::int8_t* codes, const std::uint8_t* exps, Out* out, const gse::Format* f) {
  const lowbit_gse_format c = gse_format(*f);
  record((active.d->*Slot)(n, codes, exps, reinterpret_cast<Raw*>(out), &c),
         [&] { return fmt::format("gse_decode_{}(n={}, {})", type_name<Out>(), n, describe(*f)); });
  return !ref::gse_invalid_code({codes, n}, *f);  // gse::DecodeFn's code check, which the vendor ABI leaves to lowbit
}

bool gse_gemm(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, const std::uint8_t* a_exps, const std::int8_t* b,
              const std::uint8_t* b_exps, float* c, const gse::GemmParams* p) {
  const lowbit_gse_format fa = gse_format(p->a), fb = gse_format(p->b);
  record(active.d->gse_gemm_f32(m, n, k, a, a_exps, b, b_exps, &fa, &fb, static_cast<std::uint32_t>(p->accumulate), c), [&] {
    return fmt::format("gse_gemm_f32(m={}, n={}, k={}, {}, A {}, B {})", m, n, k,
                       p->accumulate == gse::Accumulate::exact ? "exact" : "fp32", describe(p->a), describe(p->b));
  });
  return m == 0 || n == 0 || (!ref::gse_invalid_code({a, m * k}, p->a) && !ref::gse_invalid_code({b, n * k}, p->b));  // as gse_decode
}

// ---- MX
void mx_encode(std::size_t n, const float* in, std::uint8_t* codes, std::uint8_t* scales, const mx::EncodeParams* p,
               BlockStats*) {
  const lowbit_mx_options o{static_cast<std::uint32_t>(p->format), static_cast<std::uint32_t>(p->rounding), p->seed, p->index0};
  record(active.d->mx_encode_f32(n, in, codes, scales, &o),
         [&] { return fmt::format("mx_encode_f32(n={}, {}, rounding {})", n, traits(p->format).name, name(p->rounding)); });
}
void mx_decode(std::size_t n, const std::uint8_t* codes, const std::uint8_t* scales, float* out, const mx::DecodeParams* p) {
  const lowbit_mx_options o{static_cast<std::uint32_t>(p->format), LOWBIT_ROUND_RNE, 0, 0};
  record(active.d->mx_decode_f32(n, codes, scales, out, &o),
         [&] { return fmt::format("mx_decode_f32(n={}, {})", n, traits(p->format).name); });
}

// ---- QEFT
void qeft_matvec(const qeft::Matrix* w, const float* x, float* y) {
  const lowbit_qeft_matrix m{w->oc, w->ic, w->k, w->group, w->qweight, w->scales, w->scaled_zeros, w->oweight};
  record(active.d->qeft_matvec_f32(&m, x, y),
         [&] { return fmt::format("qeft_matvec_f32(oc={}, ic={}, k={}, group={})", w->oc, w->ic, w->k, w->group); });
}

template <class Fn, class Slot> Fn slot_if(bool present, Slot fn) { return present ? Fn(fn) : nullptr; }

template <class Keep> std::vector<Check> kept(std::vector<Check> all, Keep keep) {
  std::vector<Check> out;
  for (Check& c : all)
    if (keep(c)) out.push_back(std::move(c));
  return out;
}

// A check name's first words: "decode f32 -> ..." gives ("decode", "f32").
std::pair<std::string_view, std::string_view> first_words(std::string_view n) {
  const std::string_view first = n.substr(0, n.find(' '));
  n.remove_prefix(std::min(n.size(), first.size() + 1));
  return {first, n.substr(0, n.find(' '))};
}

}  // namespace

fp8::Impl plugin_fp8(const Plugin& plugin, const fp8::Profile& profile) {
  active.fp8_profile = profile.name;
  const D& d = plugin.descriptor();
  return {plugin.name().c_str(), 1, 0,
          slot_if<fp8::EncodeFn<float>>(d.fp8_encode_f32, fp8_encode<float, float, &D::fp8_encode_f32>),
          slot_if<fp8::EncodeFn<double>>(d.fp8_encode_f64, fp8_encode<double, double, &D::fp8_encode_f64>),
          slot_if<fp8::EncodeFn<f16>>(d.fp8_encode_f16, fp8_encode<f16, std::uint16_t, &D::fp8_encode_f16>),
          slot_if<fp8::EncodeFn<bf16>>(d.fp8_encode_bf16, fp8_encode<bf16, std::uint16_t, &D::fp8_encode_bf16>),
          slot_if<fp8::DecodeFn<float>>(d.fp8_decode_f32, fp8_decode<float, float, &D::fp8_decode_f32>),
          slot_if<fp8::DecodeFn<f16>>(d.fp8_decode_f16, fp8_decode<f16, std::uint16_t, &D::fp8_decode_f16>),
          slot_if<fp8::DecodeFn<bf16>>(d.fp8_decode_bf16, fp8_decode<bf16, std::uint16_t, &D::fp8_decode_bf16>)};
}

gse::Impl plugin_gse(const Plugin& plugin) {
  const D& d = plugin.descriptor();
  return {plugin.name().c_str(), 1, 0,
          slot_if<gse::EncodeFn<float>>(d.gse_encode_f32, gse_encode<float, float, &D::gse_encode_f32>),
          slot_if<gse::EncodeFn<f16>>(d.gse_encode_f16, gse_encode<f16, std::uint16_t, &D::gse_encode_f16>),
          slot_if<gse::EncodeFn<bf16>>(d.gse_encode_bf16, gse_encode<bf16, std::uint16_t, &D::gse_encode_bf16>),
          slot_if<gse::DecodeFn<float>>(d.gse_decode_f32, gse_decode<float, float, &D::gse_decode_f32>),
          slot_if<gse::DecodeFn<f16>>(d.gse_decode_f16, gse_decode<f16, std::uint16_t, &D::gse_decode_f16>),
          slot_if<gse::DecodeFn<bf16>>(d.gse_decode_bf16, gse_decode<bf16, std::uint16_t, &D::gse_decode_bf16>)};
}

gse::GemmImpl plugin_gse_gemm(const Plugin& plugin) {
  return {plugin.name().c_str(), 1, 0, slot_if<gse::GemmFn>(plugin.descriptor().gse_gemm_f32, gse_gemm)};
}

mx::Impl plugin_mx(const Plugin& plugin) {
  const D& d = plugin.descriptor();
  return {plugin.name().c_str(), 1, 0, slot_if<mx::EncodeFn>(d.mx_encode_f32, mx_encode),
          slot_if<mx::DecodeFn>(d.mx_decode_f32, mx_decode)};
}

nf4::Impl plugin_nf4(const Plugin& plugin) {
  const D& d = plugin.descriptor();
  return {plugin.name().c_str(), 1, 0, slot_if<nf4::EncodeFn>(d.nf4_quantize_f32, nf4_quantize),
          slot_if<nf4::DecodeFn>(d.nf4_dequantize_f32, nf4_dequantize)};
}

qeft::Impl plugin_qeft(const Plugin& plugin) {
  return {plugin.name().c_str(), 1, 0, slot_if<qeft::MatvecFn>(plugin.descriptor().qeft_matvec_f32, qeft_matvec)};
}

// FP8 check names start with the source type ("f16 all -> ...") or "decode" and the output type.
std::vector<Check> exercised(const fp8::Impl& row, std::vector<Check> checks) {
  return kept(std::move(checks), [&](const Check& c) {
    const auto [first, second] = first_words(c.name);
    if (first == "decode") {
      if (second == "f32") return row.decode_f32 != nullptr;
      if (second == "f16") return row.decode_f16 != nullptr;
      return second == "bf16" ? row.decode_bf16 != nullptr : true;
    }
    if (first == "f32") return row.encode_f32 != nullptr;
    if (first == "f64") return row.encode_f64 != nullptr;
    if (first == "f16") return row.encode_f16 != nullptr;
    return first == "bf16" ? row.encode_bf16 != nullptr : true;
  });
}

// GSE check names: "encode T groups ...", "decode T ...", "stream T encode+decode ..." (kept when the
// row has the encode or the decode of T).
std::vector<Check> exercised(const gse::Impl& row, std::vector<Check> checks) {
  return kept(std::move(checks), [&](const Check& c) {
    const auto [kind, type] = first_words(c.name);
    const bool enc = type == "f32" ? row.encode_f32 != nullptr : type == "f16" ? row.encode_f16 != nullptr : row.encode_bf16 != nullptr;
    const bool dec = type == "f32" ? row.decode_f32 != nullptr : type == "f16" ? row.decode_f16 != nullptr : row.decode_bf16 != nullptr;
    if (kind == "encode") return enc;
    if (kind == "decode") return dec;
    return kind == "stream" ? enc || dec : true;
  });
}

}  // namespace lowbit::conformance
