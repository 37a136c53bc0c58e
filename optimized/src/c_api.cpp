// lowbit/c_api.h on the C++ API: the C arguments become spans and Options (checking what C cannot:
// NULL pointers, output lengths, enumeration values), then the same calls as C++ users make. Errors
// travel as exceptions to guarded() (c_api_status.hpp), which returns their status.
#include "lowbit/c_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string_view>
#include <tuple>

#include "c_api_status.hpp"
#include "lowbit/fp8.hpp"
#include "lowbit/gse.hpp"
#include "lowbit/mx.hpp"
#include "lowbit/nf4.hpp"
#include "lowbit/nvfp4.hpp"
#include "lowbit/qeft.hpp"

#if defined(LOWBIT_PROJECT_VERSION_MAJOR)
static_assert(LOWBIT_VERSION_MAJOR == LOWBIT_PROJECT_VERSION_MAJOR && LOWBIT_VERSION_MINOR == LOWBIT_PROJECT_VERSION_MINOR &&
                  LOWBIT_VERSION_PATCH == LOWBIT_PROJECT_VERSION_PATCH,
              "lowbit/c_api.h's LOWBIT_VERSION_* differ from project(lowbit VERSION ...) in CMakeLists.txt");
#endif

namespace {

using namespace lowbit;
using capi::guarded;

// ---- the C types are the C++ ones -------------------------------------------------------------------

template <class E> constexpr std::int64_t c(E e) { return static_cast<std::int64_t>(e); }
static_assert(LOWBIT_E_UNSUPPORTED == c(Errc::unsupported) && LOWBIT_E_INVALID == c(Errc::invalid) &&
              LOWBIT_E_NULL == c(Errc::null) && LOWBIT_E_NOMEM == c(Errc::no_memory) &&
              LOWBIT_E_INTERNAL == c(Errc::internal) && LOWBIT_E_DATA == c(Errc::data) && LOWBIT_E_IO == c(Errc::io));
static_assert(LOWBIT_ROUND_RNE == c(Rounding::rne) && LOWBIT_ROUND_RNA == c(Rounding::rna) &&
              LOWBIT_ROUND_RTZ == c(Rounding::rtz) && LOWBIT_ROUND_SR == c(Rounding::sr) &&
              LOWBIT_ROUND_RTP == c(Rounding::rtp) && LOWBIT_ROUND_RTN == c(Rounding::rtn) &&
              LOWBIT_ROUND_RTA == c(Rounding::rta) && LOWBIT_ROUND_RTO == c(Rounding::rto));
static_assert(LOWBIT_FP8_E4M3 == c(fp8::Format::e4m3) && LOWBIT_FP8_E5M2 == c(fp8::Format::e5m2) &&
              LOWBIT_FP8_E4M3FNUZ == c(fp8::Format::e4m3fnuz) && LOWBIT_FP8_E5M2FNUZ == c(fp8::Format::e5m2fnuz) &&
              LOWBIT_FP8_E4M3B11FNUZ == c(fp8::Format::e4m3b11fnuz) && LOWBIT_FP8_E3M4 == c(fp8::Format::e3m4) &&
              LOWBIT_FP8_E4M3IEEE == c(fp8::Format::e4m3ieee) && LOWBIT_FP8_E8M0 == c(fp8::Format::e8m0) &&
              LOWBIT_FP8_E2M3 == c(fp8::Format::e2m3) && LOWBIT_FP8_E3M2 == c(fp8::Format::e3m2) &&
              LOWBIT_FP8_E2M1 == c(fp8::Format::e2m1) && LOWBIT_FP8_BINARY8P1SE == c(fp8::Format::binary8p1se) &&
              LOWBIT_FP8_BINARY8P4SF == c(fp8::Format::binary8p4sf) &&
              LOWBIT_FP8_BINARY8P7SF == c(fp8::Format::binary8p7sf) && LOWBIT_FP8_BINARY8P1UE == c(fp8::Format::binary8p1ue) &&
              LOWBIT_FP8_BINARY8P4UF == c(fp8::Format::binary8p4uf) &&
              LOWBIT_FP8_BINARY8P8UF == c(fp8::Format::binary8p8uf) && LOWBIT_FP8_BINARY8P8UF + 1 == fp8::kFormats.size());
static_assert(LOWBIT_NF4_TABLE_NF4 == c(nf4::Table::nf4) && LOWBIT_NF4_TABLE_FP4 == c(nf4::Table::fp4));
static_assert(LOWBIT_MX_INT8 == c(mx::Format::int8) && LOWBIT_MX_FP8_E4M3 == c(mx::Format::fp8_e4m3) &&
              LOWBIT_MX_FP8_E5M2 == c(mx::Format::fp8_e5m2) && LOWBIT_MX_FP6_E3M2 == c(mx::Format::fp6_e3m2) &&
              LOWBIT_MX_FP6_E2M3 == c(mx::Format::fp6_e2m3) && LOWBIT_MX_FP4_E2M1 == c(mx::Format::fp4_e2m1));
static_assert(LOWBIT_NVFP4_BLOCKING_1D == c(nvfp4::Blocking::d1) && LOWBIT_NVFP4_BLOCKING_2D == c(nvfp4::Blocking::d2) &&
              LOWBIT_NVFP4_SCALES_LINEAR == c(nvfp4::ScaleLayout::linear) &&
              LOWBIT_NVFP4_SCALES_SWIZZLED == c(nvfp4::ScaleLayout::swizzled));
static_assert(LOWBIT_GSE_MANTISSA_SATURATE == c(gse::MantissaOverflow::saturate) &&
              LOWBIT_GSE_MANTISSA_BUMP == c(gse::MantissaOverflow::bump) &&
              LOWBIT_GSE_EXPONENT_SATURATE == c(gse::ExponentOverflow::saturate) &&
              LOWBIT_GSE_EXPONENT_NAN == c(gse::ExponentOverflow::nan));
static_assert(LOWBIT_GSE_ACCUMULATE_EXACT == c(gse::Accumulate::exact) && LOWBIT_GSE_ACCUMULATE_FP32 == c(gse::Accumulate::fp32));
static_assert(LOWBIT_WEAK_TUNING_MINMAX == c(weak::Tuning::minmax) && LOWBIT_WEAK_TUNING_MSE == c(weak::Tuning::mse));
static_assert(LOWBIT_NF4_NESTED_BLOCK == nf4::kNestedBlock && LOWBIT_NF4_MAP_SIZE == std::tuple_size_v<nf4::DynamicMap>);

// The *_INIT initializers are the C++ defaults.
constexpr lowbit_fp8_options kFp8Init = LOWBIT_FP8_OPTIONS_INIT;
static_assert(kFp8Init.format == c(fp8::Options{}.format) &&
              kFp8Init.rounding == c(fp8::Options{}.rounding) &&
              std::string_view(kFp8Init.profile) == fp8::default_profile().name);
constexpr lowbit_nf4_options kNf4Init = LOWBIT_NF4_OPTIONS_INIT;
static_assert(kNf4Init.table == c(nf4::Options{}.table) && kNf4Init.block == nf4::Options{}.block &&
              std::string_view(kNf4Init.profile) == nf4::default_profile().name);
constexpr lowbit_nf4_dq_options kDqInit = LOWBIT_NF4_DQ_OPTIONS_INIT;
static_assert(std::string_view(kDqInit.profile) == nf4::default_profile().name);
constexpr lowbit_gse_options kGseInit = LOWBIT_GSE_OPTIONS_INIT;
constexpr gse::Format kGseFormat{};
static_assert(kGseInit.format.bits == kGseFormat.bits && kGseInit.format.group == kGseFormat.group &&
              kGseInit.format.exp_bits == kGseFormat.exp_bits && kGseInit.format.exp_bias == kGseFormat.exp_bias &&
              kGseInit.format.exp_offset == kGseFormat.exp_offset &&
              kGseInit.format.mantissa_overflow == c(kGseFormat.mantissa_overflow) &&
              kGseInit.format.exponent_overflow == c(kGseFormat.exponent_overflow) &&
              kGseInit.rounding == c(gse::Options{}.rounding));
constexpr lowbit_mx_options kMxInit = LOWBIT_MX_OPTIONS_INIT;
static_assert(kMxInit.format == c(mx::Options{}.format) &&
              kMxInit.rounding == c(mx::Options{}.rounding));
constexpr lowbit_nvfp4_options kNvfp4Init = LOWBIT_NVFP4_OPTIONS_INIT;
static_assert(kNvfp4Init.cols == nvfp4::Options{}.cols && kNvfp4Init.blocking == c(nvfp4::Options{}.blocking) &&
              kNvfp4Init.scale_layout == c(nvfp4::Options{}.layout) && kNvfp4Init.rounding == c(nvfp4::Options{}.rounding) &&
              kNvfp4Init.packed == nvfp4::Options{}.packed && !kNvfp4Init.global_amax);
constexpr lowbit_qeft_pack_options kQeftInit = LOWBIT_QEFT_PACK_OPTIONS_INIT;
static_assert(kQeftInit.group == weak::QuantOptions{}.group && kQeftInit.sym == weak::QuantOptions{}.sym &&
              kQeftInit.tuning == c(weak::QuantOptions{}.tuning));

// ---- buffers ---------------------------------------------------------------------------------------

// An input of n elements: NULL only when n == 0.
template <class T>
std::span<const T> input(const T* p, std::size_t n, std::string_view name) {
  if (!p && n) throw Error(fmt::format("{} is NULL but has {} elements", name, n), Errc::null);
  return p ? std::span<const T>(p, n) : std::span<const T>();
}

// An output of `length` elements, which must be `want`.
template <class T>
std::span<T> output(T* p, std::size_t length, std::size_t want, std::string_view name) {
  if (length != want) throw Error(fmt::format("{} has {} elements, expected {}", name, length, want));
  if (!p && length) throw Error(fmt::format("{} is NULL but has {} elements", name, length), Errc::null);
  return p ? std::span<T>(p, length) : std::span<T>();
}

// ---- options ---------------------------------------------------------------------------------------

template <class Enum>
Enum enum_of(std::uint32_t v, std::uint32_t last, std::string_view what) {
  if (v > last) throw Error(fmt::format("{} must be 0..{}, got {}", what, last, v));
  return static_cast<Enum>(v);
}

// sr words: n of them, or none.
std::span<const std::uint32_t> random_bits(const std::uint32_t* p, std::size_t n) {
  return p ? std::span(p, n) : std::span<const std::uint32_t>();
}

fp8::Options fp8_options(const lowbit_fp8_options* c, std::size_t n) {
  const lowbit_fp8_options d = LOWBIT_FP8_OPTIONS_INIT;
  if (!c) c = &d;
  fp8::Options o;
  o.format = enum_of<fp8::Format>(c->format, LOWBIT_FP8_BINARY8P8UF, "format (LOWBIT_FP8_*)");
  o.rounding = enum_of<Rounding>(c->rounding, LOWBIT_ROUND_RTO, "rounding (LOWBIT_ROUND_*)");
  if (c->profile) o.profile = fp8::profile(c->profile);
  o.seed = c->seed;
  o.index0 = c->index0;
  o.random_bits = random_bits(c->random_bits, n);
  return o;
}

gse::Options gse_options(const lowbit_gse_options* c, std::size_t n) {
  const lowbit_gse_options d = LOWBIT_GSE_OPTIONS_INIT;
  if (!c) c = &d;
  const lowbit_gse_format& f = c->format;
  gse::Options o;
  o.format = {f.bits, f.group, f.exp_bits, f.exp_bias, f.exp_offset,
              enum_of<gse::MantissaOverflow>(f.mantissa_overflow, LOWBIT_GSE_MANTISSA_BUMP, "mantissa_overflow (LOWBIT_GSE_MANTISSA_*)"),
              enum_of<gse::ExponentOverflow>(f.exponent_overflow, LOWBIT_GSE_EXPONENT_NAN, "exponent_overflow (LOWBIT_GSE_EXPONENT_*)")};
  if (const auto error = gse::validate(o.format)) throw Error(*error);
  o.rounding = enum_of<Rounding>(c->rounding, LOWBIT_ROUND_SR, "rounding (LOWBIT_ROUND_*)");
  o.seed = c->seed;
  o.index0 = c->index0;
  o.random_bits = random_bits(c->random_bits, n);
  return o;
}

mx::Options mx_options(const lowbit_mx_options* c) {
  const lowbit_mx_options d = LOWBIT_MX_OPTIONS_INIT;
  if (!c) c = &d;
  mx::Options o;
  o.format = enum_of<mx::Format>(c->format, LOWBIT_MX_FP4_E2M1, "format (LOWBIT_MX_*)");
  o.rounding = enum_of<Rounding>(c->rounding, LOWBIT_ROUND_SR, "rounding (LOWBIT_ROUND_*)");
  o.seed = c->seed;
  o.index0 = c->index0;
  return o;
}

// n elements: the matrix shape and the random words come from n and cols.
nvfp4::Options nvfp4_options(const lowbit_nvfp4_options* c, std::size_t n) {
  const lowbit_nvfp4_options d = LOWBIT_NVFP4_OPTIONS_INIT;
  if (!c) c = &d;
  nvfp4::Options o;
  o.cols = c->cols;
  o.blocking = enum_of<nvfp4::Blocking>(c->blocking, LOWBIT_NVFP4_BLOCKING_2D, "blocking (LOWBIT_NVFP4_BLOCKING_*)");
  o.layout = enum_of<nvfp4::ScaleLayout>(c->scale_layout, LOWBIT_NVFP4_SCALES_SWIZZLED, "scale_layout (LOWBIT_NVFP4_SCALES_*)");
  o.rounding = enum_of<Rounding>(c->rounding, LOWBIT_ROUND_SR, "rounding (LOWBIT_ROUND_*)");
  o.packed = enum_of<unsigned>(c->packed, 1, "packed") != 0;
  o.seed = c->seed;
  o.index0 = c->index0;
  if (c->random_bits) o.random_bits = random_bits(c->random_bits, nvfp4::random_words(n, o));
  if (c->global_amax) o.global_amax = *c->global_amax;
  return o;
}

// A size of n elements under c, 0 for options the codecs refuse.
template <class Size> std::size_t nvfp4_size(std::size_t n, const lowbit_nvfp4_options* c, Size size) noexcept {
  try {
    return size(n, nvfp4_options(c, n));
  } catch (...) {
    return 0;
  }
}

nf4::Options nf4_options(const lowbit_nf4_options* c) {
  const lowbit_nf4_options d = LOWBIT_NF4_OPTIONS_INIT;
  if (!c) c = &d;
  nf4::Options o;
  o.table = enum_of<nf4::Table>(c->table, LOWBIT_NF4_TABLE_FP4, "table (LOWBIT_NF4_TABLE_*)");
  if (c->profile) o.profile = nf4::profile(c->profile);
  o.block = c->block;
  nf4::params(o);  // validates the block
  return o;
}

struct DoubleQuant {
  nf4::Options nf4;  // its profile picks the nested quantizer
  nf4::DoubleQuantOptions dq;
};

DoubleQuant dq_options(const lowbit_nf4_dq_options* c) {
  const lowbit_nf4_dq_options d = LOWBIT_NF4_DQ_OPTIONS_INIT;
  if (!c) c = &d;
  DoubleQuant q;
  if (c->profile) q.nf4.profile = nf4::profile(c->profile);
  if (c->map) {
    q.dq.map.emplace();
    std::copy(c->map, c->map + LOWBIT_NF4_MAP_SIZE, q.dq.map->begin());
  }
  if (c->offset) q.dq.offset = *c->offset;
  return q;
}

qeft::Options qeft_options(const lowbit_qeft_pack_options* c) {
  const lowbit_qeft_pack_options d = LOWBIT_QEFT_PACK_OPTIONS_INIT;
  if (!c) c = &d;
  qeft::Options o;
  o.group = c->group;
  o.sym = enum_of<unsigned>(c->sym, 1, "sym") != 0;
  o.tuning = enum_of<weak::Tuning>(c->tuning, LOWBIT_WEAK_TUNING_MSE, "tuning (LOWBIT_WEAK_TUNING_*)");
  if (c->grid != 0 && o.tuning != weak::Tuning::mse) throw Error("grid applies to LOWBIT_WEAK_TUNING_MSE only");
  o.grid = c->grid;
  return o;
}

lowbit_qeft_sizes qeft_sizes(std::size_t oc, std::size_t ic, std::size_t k, const qeft::Options& q) {
  weak::QuantOptions o;
  o.bits = q.bits;
  o.group = q.group;
  if (const std::string_view e = weak::shape_error(weak::Layout::qeft, oc, ic, k, o); !e.empty())
    throw Error(fmt::format("{} (OC {}, IC {}, k {}, group {})", e, oc, ic, k, o.group));
  return {oc / qeft::kRowInterleave * ic, weak::groups(ic, o.group) * oc, oc * k, weak::group_columns(ic, o.group)};
}

// ---- the codecs, once per element type (f16 and bf16 arrive as their uint16_t bit patterns: Raw) -------

void copy_stats(const BlockStats& s, lowbit_gse_stats* out) {
  if (out) *out = {s.groups, s.nan_groups, s.exp_underflow, s.exp_overflow, s.bumped, s.saturated};
}

template <class In, class Raw>
lowbit_status fp8_encode(const char* fn, std::size_t n, const Raw* in, std::uint8_t* out, std::size_t n_out,
                         const lowbit_fp8_options* o) {
  return guarded(fn, [&] {
    const fp8::Options opts = fp8_options(o, n);
    fp8::encode(input(reinterpret_cast<const In*>(in), n, "in"), output(out, n_out, n, "out"), opts);
  });
}

template <class Out, class Raw>
lowbit_status fp8_decode(const char* fn, std::size_t n, const std::uint8_t* in, Raw* out, std::size_t n_out,
                         const lowbit_fp8_options* o) {
  return guarded(fn, [&] {
    const fp8::Options opts = fp8_options(o, n);
    fp8::decode(input(in, n, "in"), output(reinterpret_cast<Out*>(out), n_out, n, "out"), opts);
  });
}

fp8::Format any_fp8_format(lowbit_fp8_format f) { return enum_of<fp8::Format>(f, LOWBIT_FP8_BINARY8P7SF, "format (LOWBIT_FP8_*)"); }

template <class In, class Raw>
lowbit_status gse_encode(const char* fn, std::size_t n, const Raw* in, std::int8_t* codes, std::size_t n_codes,
                         std::uint8_t* exps, std::size_t n_exps, const lowbit_gse_options* o, lowbit_gse_stats* stats) {
  return guarded(fn, [&] {
    const gse::Options opts = gse_options(o, n);
    copy_stats(gse::encode(input(reinterpret_cast<const In*>(in), n, "in"), output(codes, n_codes, n, "codes"),
                           output(exps, n_exps, opts.format.groups(n), "exps"), opts),
               stats);
  });
}

template <class Out, class Raw>
lowbit_status gse_decode(const char* fn, std::size_t n, const std::int8_t* codes, const std::uint8_t* exps, Raw* out,
                         std::size_t n_out, const lowbit_gse_options* o) {
  return guarded(fn, [&] {
    const gse::Options opts = gse_options(o, n);
    gse::decode(input(codes, n, "codes"), input(exps, opts.format.groups(n), "exps"),
                output(reinterpret_cast<Out*>(out), n_out, n, "out"), opts);
  });
}

}  // namespace

extern "C" {

uint32_t lowbit_version(void) noexcept { return LOWBIT_VERSION; }

const char* lowbit_version_string(void) noexcept { return LOWBIT_VERSION_STRING; }

const char* lowbit_status_name(lowbit_status status) noexcept {
  if (status == LOWBIT_OK) return "ok";
  if (status < LOWBIT_E_UNSUPPORTED || status > LOWBIT_E_IO) return "unknown status";
  return name(static_cast<Errc>(status)).data();  // a string literal: NUL-terminated
}

// ---- FP8 ---------------------------------------------------------------------------------------------

lowbit_status lowbit_fp8_encode_f32(size_t n, const float* in, uint8_t* out, size_t n_out, const lowbit_fp8_options* o) noexcept {
  return fp8_encode<float>(__func__, n, in, out, n_out, o);
}
lowbit_status lowbit_fp8_encode_f64(size_t n, const double* in, uint8_t* out, size_t n_out, const lowbit_fp8_options* o) noexcept {
  return fp8_encode<double>(__func__, n, in, out, n_out, o);
}
lowbit_status lowbit_fp8_encode_f16(size_t n, const uint16_t* in, uint8_t* out, size_t n_out, const lowbit_fp8_options* o) noexcept {
  return fp8_encode<f16>(__func__, n, in, out, n_out, o);
}
lowbit_status lowbit_fp8_encode_bf16(size_t n, const uint16_t* in, uint8_t* out, size_t n_out, const lowbit_fp8_options* o) noexcept {
  return fp8_encode<bf16>(__func__, n, in, out, n_out, o);
}
lowbit_status lowbit_fp8_decode_f32(size_t n, const uint8_t* in, float* out, size_t n_out, const lowbit_fp8_options* o) noexcept {
  return fp8_decode<float>(__func__, n, in, out, n_out, o);
}
lowbit_status lowbit_fp8_decode_f16(size_t n, const uint8_t* in, uint16_t* out, size_t n_out, const lowbit_fp8_options* o) noexcept {
  return fp8_decode<f16>(__func__, n, in, out, n_out, o);
}
lowbit_status lowbit_fp8_decode_bf16(size_t n, const uint8_t* in, uint16_t* out, size_t n_out, const lowbit_fp8_options* o) noexcept {
  return fp8_decode<bf16>(__func__, n, in, out, n_out, o);
}

size_t lowbit_fp8_packed_size(size_t n, lowbit_fp8_format format) noexcept {
  return format <= LOWBIT_FP8_BINARY8P7SF ? fp8::packed_size(static_cast<fp8::Format>(format), n) : 0;
}

lowbit_status lowbit_fp8_pack(size_t n, const uint8_t* codes, uint8_t* out, size_t n_out, lowbit_fp8_format format) noexcept {
  return guarded(__func__, [&] {
    const fp8::Format f = any_fp8_format(format);
    fp8::pack(input(codes, n, "codes"), output(out, n_out, fp8::packed_size(f, n), "out"), f);
  });
}

lowbit_status lowbit_fp8_unpack(size_t n, const uint8_t* in, uint8_t* codes, size_t n_codes, lowbit_fp8_format format) noexcept {
  return guarded(__func__, [&] {
    const fp8::Format f = any_fp8_format(format);
    fp8::unpack(input(in, fp8::packed_size(f, n), "in"), output(codes, n_codes, n, "codes"), f);
  });
}

// ---- GSE ---------------------------------------------------------------------------------------------

size_t lowbit_gse_groups(size_t n, int32_t group) noexcept { return group > 0 ? ceil_div(n, static_cast<size_t>(group)) : 0; }

lowbit_status lowbit_gse_encode_f32(size_t n, const float* in, int8_t* codes, size_t n_codes, uint8_t* exps, size_t n_exps,
                                    lowbit_gse_stats* stats, const lowbit_gse_options* o) noexcept {
  return gse_encode<float>(__func__, n, in, codes, n_codes, exps, n_exps, o, stats);
}
lowbit_status lowbit_gse_encode_f16(size_t n, const uint16_t* in, int8_t* codes, size_t n_codes, uint8_t* exps, size_t n_exps,
                                    lowbit_gse_stats* stats, const lowbit_gse_options* o) noexcept {
  return gse_encode<f16>(__func__, n, in, codes, n_codes, exps, n_exps, o, stats);
}
lowbit_status lowbit_gse_encode_bf16(size_t n, const uint16_t* in, int8_t* codes, size_t n_codes, uint8_t* exps, size_t n_exps,
                                     lowbit_gse_stats* stats, const lowbit_gse_options* o) noexcept {
  return gse_encode<bf16>(__func__, n, in, codes, n_codes, exps, n_exps, o, stats);
}
lowbit_status lowbit_gse_decode_f32(size_t n, const int8_t* codes, const uint8_t* exps, float* out, size_t n_out,
                                    const lowbit_gse_options* o) noexcept {
  return gse_decode<float>(__func__, n, codes, exps, out, n_out, o);
}
lowbit_status lowbit_gse_decode_f16(size_t n, const int8_t* codes, const uint8_t* exps, uint16_t* out, size_t n_out,
                                    const lowbit_gse_options* o) noexcept {
  return gse_decode<f16>(__func__, n, codes, exps, out, n_out, o);
}
lowbit_status lowbit_gse_decode_bf16(size_t n, const int8_t* codes, const uint8_t* exps, uint16_t* out, size_t n_out,
                                     const lowbit_gse_options* o) noexcept {
  return gse_decode<bf16>(__func__, n, codes, exps, out, n_out, o);
}

// ---- MX ----------------------------------------------------------------------------------------------

size_t lowbit_mx_blocks(size_t n) noexcept { return mx::blocks(n); }

lowbit_status lowbit_mx_encode_f32(size_t n, const float* in, uint8_t* codes, size_t n_codes, uint8_t* scales,
                                   size_t n_scales, lowbit_gse_stats* stats, const lowbit_mx_options* o) noexcept {
  return guarded(__func__, [&] {
    const mx::Options opts = mx_options(o);
    copy_stats(mx::encode(input(in, n, "in"), output(codes, n_codes, n, "codes"), output(scales, n_scales, mx::blocks(n), "scales"), opts),
               stats);
  });
}

lowbit_status lowbit_mx_decode_f32(size_t n, const uint8_t* codes, const uint8_t* scales, float* out, size_t n_out,
                                   const lowbit_mx_options* o) noexcept {
  return guarded(__func__, [&] {
    const mx::Options opts = mx_options(o);
    mx::decode(input(codes, n, "codes"), input(scales, mx::blocks(n), "scales"), output(out, n_out, n, "out"), opts);
  });
}

// ---- NVFP4 -------------------------------------------------------------------------------------------

size_t lowbit_nvfp4_scales(size_t n, const lowbit_nvfp4_options* o) noexcept {
  return nvfp4_size(n, o, [](std::size_t m, const nvfp4::Options& opts) { return nvfp4::scales(m, opts); });
}
size_t lowbit_nvfp4_code_bytes(size_t n, const lowbit_nvfp4_options* o) noexcept {
  return nvfp4_size(n, o, [](std::size_t m, const nvfp4::Options& opts) {
    nvfp4::shape(m, opts);  // throws where cols does not divide n
    return nvfp4::code_bytes(m, opts);
  });
}
size_t lowbit_nvfp4_random_words(size_t n, const lowbit_nvfp4_options* o) noexcept {
  return nvfp4_size(n, o, [](std::size_t m, const nvfp4::Options& opts) { return nvfp4::random_words(m, opts); });
}

lowbit_status lowbit_nvfp4_encode_f32(size_t n, const float* in, uint8_t* codes, size_t n_codes, uint8_t* scales,
                                      size_t n_scales, float* global_amax, const lowbit_nvfp4_options* o) noexcept {
  return guarded(__func__, [&] {
    const nvfp4::Options opts = nvfp4_options(o, n);
    const float amax = nvfp4::encode(input(in, n, "in"), output(codes, n_codes, nvfp4::code_bytes(n, opts), "codes"),
                                     output(scales, n_scales, nvfp4::scales(n, opts), "scales"), opts);
    if (global_amax) *global_amax = amax;
  });
}

lowbit_status lowbit_nvfp4_decode_f32(size_t n, const uint8_t* codes, const uint8_t* scales, float global_amax, float* out,
                                      size_t n_out, const lowbit_nvfp4_options* o) noexcept {
  return guarded(__func__, [&] {
    const nvfp4::Options opts = nvfp4_options(o, n);
    nvfp4::decode(input(codes, nvfp4::code_bytes(n, opts), "codes"), input(scales, nvfp4::scales(n, opts), "scales"), global_amax,
                  output(out, n_out, n, "out"), opts);
  });
}

// ---- NF4 ---------------------------------------------------------------------------------------------

size_t lowbit_nf4_packed_bytes(size_t n) noexcept { return nf4::packed_bytes(n); }

size_t lowbit_nf4_blocks(size_t n, int32_t block) noexcept { return lowbit_gse_groups(n, block); }

size_t lowbit_nf4_nested_blocks(size_t n_absmax) noexcept { return nf4::blocks(n_absmax, nf4::kNestedBlock); }

lowbit_status lowbit_nf4_encode_f32(size_t n, const float* in, uint8_t* packed, size_t n_packed, float* absmax,
                                    size_t n_absmax, const lowbit_nf4_options* o) noexcept {
  return guarded(__func__, [&] {
    const nf4::Options opts = nf4_options(o);
    nf4::encode(input(in, n, "in"), output(packed, n_packed, nf4::packed_bytes(n), "packed"),
                output(absmax, n_absmax, nf4::blocks(n, opts.block), "absmax"), opts);
  });
}

lowbit_status lowbit_nf4_decode_f32(size_t n, const uint8_t* packed, const float* absmax, float* out, size_t n_out,
                                    const lowbit_nf4_options* o) noexcept {
  return guarded(__func__, [&] {
    const nf4::Options opts = nf4_options(o);
    nf4::decode(input(packed, nf4::packed_bytes(n), "packed"), input(absmax, nf4::blocks(n, opts.block), "absmax"),
                output(out, n_out, n, "out"), opts);
  });
}

lowbit_status lowbit_nf4_dynamic_map(float* map, size_t n_map) noexcept {
  return guarded(__func__, [&] {
    const std::span<float> out = output(map, n_map, LOWBIT_NF4_MAP_SIZE, "map");
    const nf4::DynamicMap m = nf4::dynamic_map();
    std::copy(m.begin(), m.end(), out.begin());
  });
}

lowbit_status lowbit_nf4_double_quantize(size_t n, const float* absmax, uint8_t* codes, size_t n_codes, float* nested_absmax,
                                         size_t n_nested, float* offset, const lowbit_nf4_dq_options* o) noexcept {
  return guarded(__func__, [&] {
    const DoubleQuant q = dq_options(o);
    const std::span<const float> a = input(absmax, n, "absmax");
    const std::span<std::uint8_t> c = output(codes, n_codes, n, "codes");
    const std::span<float> m = output(nested_absmax, n_nested, lowbit_nf4_nested_blocks(n), "nested_absmax");
    if (!offset) throw Error("offset is NULL", Errc::null);
    const nf4::DoubleQuantized r = nf4::double_quantize(a, q.nf4, q.dq);
    std::copy(r.codes.begin(), r.codes.end(), c.begin());
    std::copy(r.nested_absmax.begin(), r.nested_absmax.end(), m.begin());
    *offset = r.offset;
  });
}

lowbit_status lowbit_nf4_double_dequantize(size_t n, const uint8_t* codes, const float* nested_absmax, float offset,
                                           float* absmax, size_t n_absmax, const lowbit_nf4_dq_options* o) noexcept {
  return guarded(__func__, [&] {
    const DoubleQuant q = dq_options(o);
    const std::span<const std::uint8_t> c = input(codes, n, "codes");
    const std::span<const float> m = input(nested_absmax, lowbit_nf4_nested_blocks(n), "nested_absmax");
    nf4::DoubleQuantized dq;
    dq.offset = offset;
    dq.codes.assign(c.begin(), c.end());
    dq.nested_absmax.assign(m.begin(), m.end());
    dq.map = q.dq.map ? *q.dq.map : nf4::dynamic_map();
    nf4::double_dequantize(dq, output(absmax, n_absmax, n, "absmax"));
  });
}

// ---- QEFT --------------------------------------------------------------------------------------------

lowbit_status lowbit_qeft_matvec(const lowbit_qeft_matrix* w, const float* x, float* y, size_t n_y) noexcept {
  return guarded(__func__, [&] {
    if (!w) throw Error("w is NULL", Errc::null);
    const qeft::Matrix m{w->oc, w->ic, w->k, w->group, w->qweight, w->scales, w->scaled_zeros, w->oweight};
    qeft::matvec(m, input(x, w->ic, "x"), output(y, n_y, w->oc, "y"));
  });
}

lowbit_status lowbit_qeft_buffer_sizes(size_t oc, size_t ic, size_t k, const lowbit_qeft_pack_options* o,
                                       lowbit_qeft_sizes* sizes) noexcept {
  return guarded(__func__, [&] {
    if (!sizes) throw Error("sizes is NULL", Errc::null);
    *sizes = qeft_sizes(oc, ic, k, qeft_options(o));
  });
}

lowbit_status lowbit_qeft_pack(size_t oc, size_t ic, const float* w, size_t k, const int32_t* weak, int16_t* qweight,
                               size_t n_qweight, uint16_t* scales, size_t n_scales, uint16_t* scaled_zeros,
                               size_t n_scaled_zeros, uint16_t* oweight, size_t n_oweight,
                               const lowbit_qeft_pack_options* o) noexcept {
  return guarded(__func__, [&] {
    const lowbit::qeft::Options opts = qeft_options(o);
    const lowbit_qeft_sizes size = qeft_sizes(oc, ic, k, opts);
    const std::span<const float> weight = input(w, oc * ic, "w");  // qeft_sizes checked oc * ic
    const std::span<const std::int32_t> columns = input(weak, k, "weak");
    const std::span<std::int16_t> q = output(qweight, n_qweight, size.qweight, "qweight");
    const std::span<std::uint16_t> s = output(scales, n_scales, size.scales, "scales");
    const std::span<std::uint16_t> z = output(scaled_zeros, n_scaled_zeros, size.scales, "scaled_zeros");
    const std::span<std::uint16_t> ow = output(oweight, n_oweight, size.oweight, "oweight");
    const lowbit::qeft::Packed p = lowbit::qeft::encode(oc, ic, weight, columns, opts);
    std::copy(p.qweight.begin(), p.qweight.end(), q.begin());
    std::copy(p.scales.begin(), p.scales.end(), s.begin());
    std::copy(p.scaled_zeros.begin(), p.scaled_zeros.end(), z.begin());
    std::copy(p.oweight.begin(), p.oweight.end(), ow.begin());
  });
}

}  // extern "C"

// ---- errors ----------------------------------------------------------------------------------------------

namespace lowbit::capi {
namespace {

// The last call's message, per thread; a fixed buffer, so that reporting an error cannot fail.
thread_local char last_error[512];

lowbit_status fail(const char* fn, const char* what, lowbit_status status) noexcept {
  std::snprintf(last_error, sizeof last_error, "%s: %s", fn, what);
  return status;
}

}  // namespace

void clear_last_error() noexcept { last_error[0] = '\0'; }

lowbit_status status_of_current_exception(const char* fn) noexcept {
  try {
    throw;
  } catch (const Error& e) {
    return fail(fn, e.what(), static_cast<lowbit_status>(e.code()));
  } catch (const std::bad_alloc&) {
    return fail(fn, "out of memory", LOWBIT_E_NOMEM);
  } catch (const std::invalid_argument& e) {  // the standard library's
    return fail(fn, e.what(), LOWBIT_E_INVALID);
  } catch (const std::length_error& e) {
    return fail(fn, e.what(), LOWBIT_E_INVALID);
  } catch (const std::out_of_range& e) {
    return fail(fn, e.what(), LOWBIT_E_INVALID);
  } catch (const std::exception& e) {
    return fail(fn, e.what(), LOWBIT_E_INTERNAL);
  } catch (...) {
    return fail(fn, "unknown exception", LOWBIT_E_INTERNAL);
  }
}

}  // namespace lowbit::capi

extern "C" const char* lowbit_last_error(void) noexcept { return lowbit::capi::last_error; }
