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
using plugin_calls::call;
using plugin_calls::Guarded;
using D = lowbit_vendor_descriptor;

// The C function of a source or output type, e.g. "fp8_encode_f32": a literal (plugin_calls::Progress
// keeps it).
template <class T> constexpr const char* c_name(const char* of_f32, const char* of_f64, const char* of_f16, const char* of_bf16) {
  if constexpr (std::is_same_v<T, float>) return of_f32;
  else if constexpr (std::is_same_v<T, double>) return of_f64;
  else if constexpr (std::is_same_v<T, f16>) return of_f16;
  else return of_bf16;
}

std::size_t blocks(std::size_t n, std::size_t size) { return size ? (n + size - 1) / size : 0; }

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
  constexpr const char* fn = c_name<In>("fp8_encode_f32", "fp8_encode_f64", "fp8_encode_f16", "fp8_encode_bf16");
  const lowbit_fp8_options o = fp8_options(p->format, p->rounding, p->seed, p->index0, p->random_bits);
  Guarded<std::uint8_t> g_out("out", out, n);
  call(
      fn,
      [&] {
        return fmt::format("{}(n={}, {}, rounding {}, profile {})", fn, n, traits(p->format).name, name(p->rounding),
                           active.fp8_profile);
      },
      [&] { return (active.d->*Slot)(n, reinterpret_cast<const Raw*>(in), g_out.get(), &o); }, g_out);
}
template <class Out, class Raw, auto Slot>
void fp8_decode(std::size_t n, const std::uint8_t* in, Out* out, const fp8::DecodeParams* p) {
  constexpr const char* fn = c_name<Out>("fp8_decode_f32", "", "fp8_decode_f16", "fp8_decode_bf16");
  const lowbit_fp8_options o = fp8_options(p->format, Rounding::rne, 0, 0, nullptr);
  Guarded<Out> g_out("out", out, n);
  call(
      fn, [&] { return fmt::format("{}(n={}, {}, profile {})", fn, n, traits(p->format).name, active.fp8_profile); },
      [&] { return (active.d->*Slot)(n, in, reinterpret_cast<Raw*>(g_out.get()), &o); }, g_out);
}

// ---- NF4 / FP4
std::string nf4_call(const char* fn, std::size_t n, const nf4::Params* p) {
  return fmt::format("{}(n={}, {}, block {}, profile {})", fn, n, name(p->table), p->block, p->profile.name);
}
void nf4_quantize(std::size_t n, const float* in, std::uint8_t* packed, float* absmax, const nf4::Params* p) {
  const std::string profile(p->profile.name);
  const lowbit_nf4_options o{static_cast<std::uint32_t>(p->table), p->block, profile.c_str()};
  Guarded<std::uint8_t> g_packed("packed", packed, (n + 1) / 2);
  Guarded<float> g_absmax("absmax", absmax, blocks(n, p->block));
  call(
      "nf4_quantize_f32", [&] { return nf4_call("nf4_quantize_f32", n, p); },
      [&] { return active.d->nf4_quantize_f32(n, in, g_packed.get(), g_absmax.get(), &o); }, g_packed, g_absmax);
}
void nf4_dequantize(std::size_t n, const std::uint8_t* packed, const float* absmax, float* out, const nf4::Params* p) {
  const std::string profile(p->profile.name);
  const lowbit_nf4_options o{static_cast<std::uint32_t>(p->table), p->block, profile.c_str()};
  Guarded<float> g_out("out", out, n);
  call(
      "nf4_dequantize_f32", [&] { return nf4_call("nf4_dequantize_f32", n, p); },
      [&] { return active.d->nf4_dequantize_f32(n, packed, absmax, g_out.get(), &o); }, g_out);
}

// ---- GSE
lowbit_gse_format gse_format(const gse::Format& f) {
  return {f.bits, f.group, f.exp_bits, f.exp_bias, f.exp_offset, static_cast<std::uint32_t>(f.mantissa_overflow),
          static_cast<std::uint32_t>(f.exponent_overflow)};
}

template <class In, class Raw, auto Slot>
void gse_encode(std::size_t n, const In* in, std::int8_t* codes, std::uint8_t* exps, const gse::EncodeParams* p,
                BlockStats* stats) {
  constexpr const char* fn = c_name<In>("gse_encode_f32", "", "gse_encode_f16", "gse_encode_bf16");
  const lowbit_gse_options o{gse_format(p->format), static_cast<std::uint32_t>(p->rounding), p->seed, p->index0,
                             p->random_bits};
  lowbit_gse_stats s{};
  Guarded<std::int8_t> g_codes("codes", codes, n);
  Guarded<std::uint8_t> g_exps("exps", exps, blocks(n, p->format.group));
  Guarded<lowbit_gse_stats> g_stats("stats", &s, 1);
  call(
      fn,
      [&] { return fmt::format("{}(n={}, {}, rounding {})", fn, n, describe(p->format), name(p->rounding)); },
      [&] { return (active.d->*Slot)(n, reinterpret_cast<const Raw*>(in), g_codes.get(), g_exps.get(), g_stats.get(), &o); },
      g_codes, g_exps, g_stats);
  if (stats) *stats += {s.groups, s.nan_groups, s.exp_underflow, s.exp_overflow, s.bumped, s.saturated};
}
template <class Out, class Raw, auto Slot>
bool gse_decode(std::size_t n, const std::int8_t* codes, const std::uint8_t* exps, Out* out, const gse::Format* f) {
  constexpr const char* fn = c_name<Out>("gse_decode_f32", "", "gse_decode_f16", "gse_decode_bf16");
  const lowbit_gse_format c = gse_format(*f);
  Guarded<Out> g_out("out", out, n);
  call(
      fn, [&] { return fmt::format("{}(n={}, {})", fn, n, describe(*f)); },
      [&] { return (active.d->*Slot)(n, codes, exps, reinterpret_cast<Raw*>(g_out.get()), &c); }, g_out);
  return !ref::gse_invalid_code({codes, n}, *f);  // gse::DecodeFn's code check, which the vendor ABI leaves to lowbit
}

bool gse_gemm(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, const std::uint8_t* a_exps, const std::int8_t* b,
              const std::uint8_t* b_exps, float* c, const gse::GemmParams* p) {
  const lowbit_gse_format fa = gse_format(p->a), fb = gse_format(p->b);
  Guarded<float> g_c("c", c, m * n);
  call(
      "gse_gemm_f32",
      [&] {
        return fmt::format("gse_gemm_f32(m={}, n={}, k={}, {}, A {}, B {})", m, n, k,
                           p->accumulate == gse::Accumulate::exact ? "exact" : "fp32", describe(p->a), describe(p->b));
      },
      [&] {
        return active.d->gse_gemm_f32(m, n, k, a, a_exps, b, b_exps, &fa, &fb, static_cast<std::uint32_t>(p->accumulate), g_c.get());
      },
      g_c);
  return m == 0 || n == 0 || (!ref::gse_invalid_code({a, m * k}, p->a) && !ref::gse_invalid_code({b, n * k}, p->b));  // as gse_decode
}

// ---- MX
void mx_encode(std::size_t n, const float* in, std::uint8_t* codes, std::uint8_t* scales, const mx::EncodeParams* p,
               BlockStats*) {
  const lowbit_mx_options o{static_cast<std::uint32_t>(p->format), static_cast<std::uint32_t>(p->rounding), p->seed, p->index0};
  Guarded<std::uint8_t> g_codes("codes", codes, n);
  Guarded<std::uint8_t> g_scales("scales", scales, blocks(n, mx::kBlock));
  call(
      "mx_encode_f32",
      [&] { return fmt::format("mx_encode_f32(n={}, {}, rounding {})", n, traits(p->format).name, name(p->rounding)); },
      [&] { return active.d->mx_encode_f32(n, in, g_codes.get(), g_scales.get(), &o); }, g_codes, g_scales);
}
void mx_decode(std::size_t n, const std::uint8_t* codes, const std::uint8_t* scales, float* out, const mx::DecodeParams* p) {
  const lowbit_mx_options o{static_cast<std::uint32_t>(p->format), LOWBIT_ROUND_RNE, 0, 0};
  Guarded<float> g_out("out", out, n);
  call(
      "mx_decode_f32", [&] { return fmt::format("mx_decode_f32(n={}, {})", n, traits(p->format).name); },
      [&] { return active.d->mx_decode_f32(n, codes, scales, g_out.get(), &o); }, g_out);
}

// ---- NVFP4: the loader always gives the amax and, for sr, the random words (lowbit/vendor.h)
static_assert(LOWBIT_NVFP4_BLOCKING_2D == static_cast<unsigned>(nvfp4::Blocking::d2) &&
              LOWBIT_NVFP4_SCALES_SWIZZLED == static_cast<unsigned>(nvfp4::ScaleLayout::swizzled));
std::string nvfp4_call(const char* fn, std::size_t rows, std::size_t cols, nvfp4::ScaleLayout l, const char* more) {
  return fmt::format("{}(n={}, cols={}, {} scales{})", fn, rows * cols, cols, name(l), more);
}
void nvfp4_encode(const float* in, std::uint8_t* codes, std::uint8_t* scales, const nvfp4::EncodeParams* p) {
  const float amax = p->global_amax;
  const lowbit_nvfp4_options o{p->cols, static_cast<std::uint32_t>(p->blocking), static_cast<std::uint32_t>(p->layout),
                               static_cast<std::uint32_t>(p->rounding), 0, 0, 0,
                               p->rounding == Rounding::sr ? p->random : nullptr, &amax};
  const std::size_t n = p->rows * p->cols;
  Guarded<std::uint8_t> g_codes("codes", codes, n);
  Guarded<std::uint8_t> g_scales("scales", scales, nvfp4::scale_count(p->rows, p->cols, p->layout));
  call(
      "nvfp4_encode_f32",
      [&] {
        const std::string more = fmt::format(", {}, rounding {}, amax {}", name(p->blocking), name(p->rounding), amax);
        return nvfp4_call("nvfp4_encode_f32", p->rows, p->cols, p->layout, more.c_str());
      },
      [&] { return active.d3->nvfp4_encode_f32(n, in, g_codes.get(), g_scales.get(), &o); }, g_codes, g_scales);
}
void nvfp4_decode(const std::uint8_t* codes, const std::uint8_t* scales, float* out, const nvfp4::DecodeParams* p) {
  lowbit_nvfp4_options o = LOWBIT_NVFP4_OPTIONS_INIT;
  o.cols = p->cols;
  o.scale_layout = static_cast<std::uint32_t>(p->layout);
  const std::size_t n = p->rows * p->cols;
  Guarded<float> g_out("out", out, n);
  call(
      "nvfp4_decode_f32", [&] { return nvfp4_call("nvfp4_decode_f32", p->rows, p->cols, p->layout, ""); },
      [&] { return active.d3->nvfp4_decode_f32(n, codes, scales, p->global_amax, g_out.get(), &o); }, g_out);
}

// ---- QEFT
void qeft_matvec(const qeft::Matrix* w, const float* x, float* y) {
  const lowbit_qeft_matrix m{w->oc, w->ic, w->k, w->group, w->qweight, w->scales, w->scaled_zeros, w->oweight};
  Guarded<float> g_y("y", y, w->oc);
  call(
      "qeft_matvec_f32",
      [&] { return fmt::format("qeft_matvec_f32(oc={}, ic={}, k={}, group={})", w->oc, w->ic, w->k, w->group); },
      [&] { return active.d->qeft_matvec_f32(&m, x, g_y.get()); }, g_y);
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

nvfp4::Impl plugin_nvfp4(const Plugin& plugin) {
  const lowbit_vendor_descriptor3* d = plugin.descriptor3();
  return {plugin.name().c_str(), 1, 0, slot_if<nvfp4::EncodeFn>(d && d->nvfp4_encode_f32, nvfp4_encode),
          slot_if<nvfp4::DecodeFn>(d && d->nvfp4_decode_f32, nvfp4_decode)};
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
