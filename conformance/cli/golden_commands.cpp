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

}  // namespace

int run_gen(const GenArgs& a) {
  const auto r = parse_rounding(a.rounding);
  if (!r) throw UsageError(fmt::format("unknown rounding '{}' (valid: rne, rna, rtz, sr)", a.rounding));
  if (a.level != 1 && a.level != 2) throw UsageError(fmt::format("bad --level {} (valid: 1, 2)", a.level));
  if (a.out.empty()) throw UsageError("-o DIR is required");
  const auto container = conformance::parse_container(a.container);
  if (!container) throw UsageError(fmt::format("unknown container '{}' (valid: npy, safetensors)", a.container));
  if (const auto t = parse_four_bit_table(a.format)) {
    conformance::Nf4GenOptions o;
    o.table = *t;
    o.profile = a.profile.empty() ? "lowbit" : a.profile;
    if (!find_nf4_profile(o.profile)) {
      std::string valid;
      for (const Nf4Profile& p : kNf4Profiles) valid += (valid.empty() ? "" : ", ") + std::string(p.name);
      throw UsageError(fmt::format("unknown NF4 profile '{}' (valid: {})", o.profile, valid));
    }
    if (!valid_nf4_block(a.block)) throw UsageError(fmt::format("bad --block {}: a power of two in 32..4096", a.block));
    if (*r != Rounding::rne) throw UsageError("nf4/fp4 round to the nearest table value: --rounding does not apply");
    o.block = a.block;
    o.seed = a.seed;
    o.level = a.level;
    o.random = a.n;
    o.container = *container;
    const conformance::GenSummary s = conformance::gen_nf4(o, a.out);
    fmt::print(stderr, "lowbit gen: {} {} elements ({}) -> {}\n", s.cases, a.format, counts_text(s), a.out);
    return 0;
  }
  if (a.format == "gse") {
    if (!a.profile.empty()) throw UsageError("--profile applies to the FP8 and NF4 formats only");
    if (const auto e = validate(a.gse)) throw UsageError(*e);
    conformance::GseGenOptions o;
    o.format = a.gse;
    o.rounding = *r;
    o.seed = a.seed;
    o.level = a.level;
    o.random = a.n;
    o.container = *container;
    const conformance::GenSummary s = conformance::gen_gse(o, a.out);
    fmt::print(stderr, "lowbit gen: {} gse elements ({}) -> {}\n", s.cases, counts_text(s), a.out);
    return 0;
  }
  const auto f = parse_fp8_format(a.format);
  if (!f) throw UsageError(fmt::format("unknown format '{}' (valid: e4m3, e4m3fn, e5m2, gse)", a.format));
  const std::string profile = a.profile.empty() ? "ml_dtypes" : a.profile;
  if (!find_fp8_profile(profile)) {
    std::string valid;
    for (const Fp8Profile& p : kFp8Profiles) valid += (valid.empty() ? "" : ", ") + std::string(p.name);
    throw UsageError(fmt::format("unknown profile '{}' (valid: {})", profile, valid));
  }
  conformance::Fp8GenOptions o;
  o.format = *f;
  o.profile = profile;
  o.rounding = *r;
  o.seed = a.seed;
  o.level = a.level;
  o.random = a.n;
  o.container = *container;
  const conformance::GenSummary s = conformance::gen_fp8(o, a.out);
  fmt::print(stderr, "lowbit gen: {} cases ({}) + 256 decode cases -> {}\n", s.cases, counts_text(s), a.out);
  return 0;
}

int run_verify(const VerifyArgs& a) {
  const auto f = parse_fp8_format(a.format);
  const bool other = a.format == "gse" || a.format == "nf4" || a.format == "fp4";
  if (!f && !other) throw UsageError(fmt::format("unknown format '{}' (valid: e4m3, e4m3fn, e5m2, gse, nf4, fp4)", a.format));
  const conformance::VerifyResult r = conformance::verify_golden(a.golden, a.actual, a.errors);
  if (r.format != (f ? traits(*f).name : std::string_view(a.format)))
    throw UsageError(fmt::format("the golden directory holds {} cases, not {}", r.format, a.format));
  const std::string out = a.json ? conformance::verify_json(r) + "\n" : conformance::verify_text(r);
  std::fputs(out.c_str(), stdout);
  return r.passed() ? 0 : 1;
}

}  // namespace lowbit::cli
