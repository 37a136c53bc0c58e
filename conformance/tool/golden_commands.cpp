#include "golden_commands.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "lowbit/conformance/golden_gen.hpp"
#include "stream.hpp"

namespace lowbit::cli {
namespace {

std::string counts_text(const conformance::GenSummary& s) {
  std::string counts;
  for (const auto& [k, v] : s.counts)
    if (v) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", k, v);
  return counts;
}

std::string mx_names() {
  std::string s;
  for (const mx::Traits& t : mx::kFormats) s += (s.empty() ? "" : ", ") + std::string(t.name);
  return s;
}

}  // namespace

namespace {

// lowbit gen qeft|owq and gse-gemm: the packing and GEMM sets (golden_gen.hpp).
int run_gen_weak_or_gemm(const GenArgs& a, conformance::Level level, conformance::Container container) {
  if (!a.profile.empty() || !a.rounding.empty()) throw UsageError(fmt::format("--profile and --rounding do not apply to {}", a.format));
  if (a.format == "gse-gemm") {
    if (const auto e = validate(a.gse)) throw UsageError(*e);
    if (a.accumulate != "exact" && a.accumulate != "fp32")
      throw UsageError(fmt::format("unknown --accumulate '{}' (valid: exact, fp32)", a.accumulate));
    if (a.gemm_m == 0 || a.gemm_n == 0) throw UsageError("--m and --n must be at least 1");
    conformance::GseGemmGenOptions o;
    o.format = a.gse;
    o.accumulate = a.accumulate == "fp32" ? gse::Accumulate::fp32 : gse::Accumulate::exact;
    o.m = a.gemm_m;
    o.n = a.gemm_n;
    o.k = a.gemm_k;
    static_cast<conformance::GenCommon&>(o) = {a.seed, level, a.n, container};
    const conformance::GenSummary s = conformance::gen_gse_gemm(o, a.out);
    fmt::print(stderr, "lowbit gen: {} gse-gemm outputs ({}) -> {}\n", s.cases, counts_text(s), a.out);
    return 0;
  }
  conformance::WeakGenOptions o;
  o.layout = *weak::parse_layout(a.format);
  o.quant.bits = a.weak_bits.value_or(4);
  o.quant.group = a.weak_group.value_or(o.layout == weak::Layout::qeft ? 128 : 0);
  o.quant.sym = a.sym;
  const auto tuning = weak::parse_tuning(a.tuning);
  if (!tuning) throw UsageError(fmt::format("unknown tuning '{}' (valid: minmax, mse)", a.tuning));
  o.quant.tuning = *tuning;
  if (a.grid && o.quant.tuning != weak::Tuning::mse) throw UsageError("--grid applies to --tuning mse only");
  o.quant.grid = a.grid.value_or(weak::default_grid(o.layout, o.quant.group));
  const std::string_view e = weak::shape_error(o.layout, a.rows, a.cols, a.weak, o.quant);
  if (!e.empty())
    throw UsageError(fmt::format("{} --bits {} --group {} --rows {} --cols {} --weak {}: {}", a.format, o.quant.bits, o.quant.group,
                                 a.rows, a.cols, a.weak, e));
  o.rows = a.rows;
  o.cols = a.cols;
  o.weak = a.weak;
  static_cast<conformance::GenCommon&>(o) = {a.seed, level, a.n, container};
  const conformance::GenSummary s = conformance::gen_weak(o, a.out);
  fmt::print(stderr, "lowbit gen: {} {} packed words ({}) -> {}\n", s.cases, a.format, counts_text(s), a.out);
  return 0;
}

}  // namespace

int run_gen(const GenArgs& a) {
  const auto mx = mx::parse_format(a.format);
  const std::string rounding = !a.rounding.empty() ? a.rounding : mx ? "nearest" : "rne";
  const auto r = parse_rounding(rounding);
  if (!r)
    throw UsageError(fmt::format("unknown rounding '{}' (valid: rne, rna, rtz, sr; for MX also nearest, even, floor)", rounding));
  const auto level = conformance::parse_level(a.level);
  if (!level) throw UsageError(fmt::format("unknown --level '{}' (valid: boundary, quick)", a.level));
  try {
    conformance::check_gen_level(*level);
  } catch (const std::runtime_error& e) {
    throw UsageError(e.what());
  }
  if (a.out.empty()) throw UsageError("-o DIR is required");
  const auto container = conformance::parse_container(a.container);
  if (!container) throw UsageError(fmt::format("unknown container '{}' (valid: npy, safetensors)", a.container));
  if (weak::parse_layout(a.format) || a.format == "gse-gemm") return run_gen_weak_or_gemm(a, *level, *container);
  if (const auto t = nf4::parse_table(a.format)) {
    conformance::Nf4GenOptions o;
    o.table = *t;
    o.profile = a.profile.empty() ? "lowbit" : a.profile;
    if (!nf4::find_profile(o.profile)) {
      std::string valid;
      for (const nf4::Profile& p : nf4::kProfiles) valid += (valid.empty() ? "" : ", ") + std::string(p.name);
      throw UsageError(fmt::format("unknown NF4 profile '{}' (valid: {})", o.profile, valid));
    }
    if (!nf4::valid_block(a.block)) throw UsageError(fmt::format("bad --block {}: a power of two in 32..4096", a.block));
    if (*r != Rounding::rne) throw UsageError("nf4/fp4 round to the nearest table value: --rounding does not apply");
    o.block = a.block;
    static_cast<conformance::GenCommon&>(o) = {a.seed, *level, a.n, *container};
    o.double_quant = a.double_quant;
    const conformance::GenSummary s = conformance::gen_nf4(o, a.out);
    fmt::print(stderr, "lowbit gen: {} {} elements ({}) -> {}\n", s.cases, a.format, counts_text(s), a.out);
    return 0;
  }
  if (a.double_quant) throw UsageError("--double-quant applies to the nf4/fp4 formats only");
  if (mx) {
    if (!a.profile.empty()) throw UsageError("--profile applies to the FP8 and NF4 formats only");
    conformance::MxGenOptions o;
    o.format = *mx;
    o.rounding = *r;
    static_cast<conformance::GenCommon&>(o) = {a.seed, *level, a.n, *container};
    const conformance::GenSummary s = conformance::gen_mx(o, a.out);
    fmt::print(stderr, "lowbit gen: {} {} block elements ({}) + element cases -> {}\n", s.cases, a.format, counts_text(s), a.out);
    return 0;
  }
  if (a.format == "gse") {
    if (!a.profile.empty()) throw UsageError("--profile applies to the FP8 and NF4 formats only");
    if (const auto e = validate(a.gse)) throw UsageError(*e);
    conformance::GseGenOptions o;
    o.format = a.gse;
    o.rounding = *r;
    static_cast<conformance::GenCommon&>(o) = {a.seed, *level, a.n, *container};
    const conformance::GenSummary s = conformance::gen_gse(o, a.out);
    fmt::print(stderr, "lowbit gen: {} gse elements ({}) -> {}\n", s.cases, counts_text(s), a.out);
    return 0;
  }
  const auto f = fp8::parse_format(a.format);
  if (!f) throw UsageError(fmt::format("unknown format '{}' (valid: e4m3, e4m3fn, e5m2, gse, nf4, fp4, {}, qeft, owq, gse-gemm)", a.format, mx_names()));
  const std::string profile = a.profile.empty() ? "ml_dtypes" : a.profile;
  if (!fp8::find_profile(profile)) {
    std::string valid;
    for (const fp8::Profile& p : fp8::kProfiles) valid += (valid.empty() ? "" : ", ") + std::string(p.name);
    throw UsageError(fmt::format("unknown profile '{}' (valid: {})", profile, valid));
  }
  conformance::Fp8GenOptions o;
  o.format = *f;
  o.profile = profile;
  o.rounding = *r;
  static_cast<conformance::GenCommon&>(o) = {a.seed, *level, a.n, *container};
  const conformance::GenSummary s = conformance::gen_fp8(o, a.out);
  fmt::print(stderr, "lowbit gen: {} cases ({}) + 256 decode cases -> {}\n", s.cases, counts_text(s), a.out);
  return 0;
}

int run_verify(const VerifyArgs& a) {
  const auto f = fp8::parse_format(a.format);
  const bool other = a.format == "gse" || a.format == "nf4" || a.format == "fp4" || mx::parse_format(a.format);
  const bool packed = a.format == "qeft" || a.format == "owq" || a.format == "gse-gemm";
  if (!f && !other && !packed)
    throw UsageError(fmt::format("unknown format '{}' (valid: e4m3, e4m3fn, e5m2, gse, nf4, fp4, {}, qeft, owq, gse-gemm)", a.format, mx_names()));
  const conformance::VerifyResult r = conformance::verify_golden(a.golden, a.actual, {a.errors, a.tolerance});
  if (r.format != (f ? traits(*f).name : std::string_view(a.format)))
    throw UsageError(fmt::format("the golden directory holds {} cases, not {}", r.format, a.format));
  const std::string out = a.json ? conformance::verify_json(r) + "\n" : conformance::verify_text(r);
  std::fputs(out.c_str(), stdout);
  return r.passed() ? 0 : 1;
}

}  // namespace lowbit::cli
