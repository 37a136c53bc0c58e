#include "commands.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <type_traits>

#include "lowbit/conformance/block_suite.hpp"
#include "lowbit/conformance/fp8_suite.hpp"
#include "lowbit/conformance/nf4_suite.hpp"
#include "lowbit/conformance/weak_suite.hpp"
#include "lowbit/formats/mx.hpp"
#include "lowbit/conformance/sweep.hpp"
#include "lowbit/fp8.hpp"
#include "lowbit/kernels.hpp"
#include "stream.hpp"

namespace lowbit::cli {
namespace {

constexpr std::size_t kChunk = 1 << 20;  // elements per read

template <class T> std::string join(const T& items, auto name_of) {
  std::string s;
  for (const auto& x : items) s += fmt::format("{}{}", s.empty() ? "" : ", ", name_of(x));
  return s;
}

fp8::Options options(const CodecArgs& a) {
  fp8::Options o;
  const auto f = fp8::parse_format(a.format);
  if (!f) throw UsageError(fmt::format("unknown format '{}' (valid: e4m3, e4m3fn, e5m2)", a.format));
  o.format = *f;
  o.profile = fp8::profile(a.profile);
  const auto r = parse_rounding(a.rounding);
  if (!r) throw UsageError(fmt::format("unknown rounding '{}' (valid: rne, rna, rtz, sr)", a.rounding));
  o.rounding = *r;
  o.seed = a.seed;
  return o;
}

template <class T> int encode_stream(const CodecArgs& a, fp8::Options o) {
  InputStream in(a.input, sizeof(T));
  OutputStream out(a.output, "|u1");
  std::vector<std::uint8_t> buf, codes;
  std::vector<T> values;
  while (const std::size_t n = in.read(buf, kChunk)) {
    values.resize(n);
    codes.resize(n);
    std::memcpy(values.data(), buf.data(), n * sizeof(T));
    encode(std::span<const T>(values), std::span(codes), o);
    out.write(codes);
    o.index0 += n;
  }
  out.commit();
  return 0;
}

template <class T> int decode_stream(const CodecArgs& a, const fp8::Options& o) {
  InputStream in(a.input, 1);
  OutputStream out(a.output, std::is_same_v<T, float> ? "<f4" : std::is_same_v<T, f16> ? "<f2" : "<u2");
  std::vector<std::uint8_t> buf;
  std::vector<T> values;
  while (const std::size_t n = in.read(buf, kChunk)) {
    values.resize(n);
    decode(std::span<const std::uint8_t>(buf), std::span(values), o);
    out.write({reinterpret_cast<const std::uint8_t*>(values.data()), n * sizeof(T)});
  }
  out.commit();
  return 0;
}

std::pair<std::uint64_t, std::uint64_t> parse_shard(const std::string& s) {
  std::uint64_t i = 0, n = 0;
  const auto slash = s.find('/');
  const char* end = s.data() + s.size();
  bool ok = slash != std::string::npos &&
            std::from_chars(s.data(), s.data() + slash, i).ptr == s.data() + slash &&
            std::from_chars(s.data() + slash + 1, end, n).ptr == end && n >= 1 && i < n;
  if (!ok) throw UsageError(fmt::format("bad --shard '{}': expected I/N with 0 <= I < N", s));
  return {i, n};
}

}  // namespace

int run_list() {
  fmt::print("formats:\n");
  for (fp8::Format f : fp8::kFormats) {
    const fp8::Traits& t = traits(f);
    fmt::print("  {:<6} sign + {} exponent + {} mantissa bits, bias {}, max finite code 0x{:02x}{}{}\n", t.name,
               t.layout.exp_bits, t.layout.man_bits, t.layout.bias(), t.max_finite,
               t.has_inf ? ", Inf 0x7c" : ", no Inf", f == fp8::Format::e4m3 ? " (alias e4m3fn)" : "");
  }
  fmt::print("encode sources (--from): f32, f64, f16, bf16\ndecode destinations (--to): f32, f16, bf16\n");
  fmt::print("rounding (--rounding): rne (default), rna, rtz, sr (Philox-4x32-10 keyed by --seed)\n");
  fmt::print("profiles (--profile):\n");
  for (const fp8::Profile& p : fp8::kProfiles)
    fmt::print("  {:<15}{} {}\n", p.name, &p == &fp8::default_profile() ? " *" : "  ", p.summary);
  const gse::Format g;
  fmt::print("gse: groups of --group N (16..256, default 32) sharing a --exp-bits 5|8 exponent, --bits b (4..8,\n"
             "  default 8) two's-complement mantissas; bits per value (N*b + e)/N, {:.3f} by default\n",
             g.bits_per_value());
  fmt::print("mx (lowbit quantize, blocks of 32, E8M0 scale):");
  for (const mx::Traits& t : mx::kFormats) fmt::print(" {}", t.name);
  fmt::print("\n  roundings: nearest (default, ties away), even, floor, sr\n");
  fmt::print("nf4, fp4 (lowbit encode/decode, bitsandbytes Linear4bit .safetensors): blocks of --block 32..4096\n"
             "  (default 64), fp32 absmax, optional --double-quant; fp4 is bitsandbytes' FP4 table, not OCP E2M1\n"
             "  (that is mxfp4-e2m1); profiles:");
  for (const nf4::Profile& p : nf4::kProfiles) fmt::print(" {}{}", p.name, &p == &nf4::default_profile() ? " *" : "");
  fmt::print("\n");
  fmt::print("qeft, owq (lowbit pack/unpack, the repos' QuantLinear buffers in .safetensors): k fp16 weak columns +\n"
             "  group-wise asymmetric (or --sym) min-max codes, --tuning minmax|mse; qeft: 4-bit, --group 128 (0 = per\n"
             "  channel), weak columns last; owq: --bits 3|4 per channel, original order; paths: qeft gemv|nowc,\n"
             "  owq fp16|fp32|nowc\n");
  const auto show = [](const char* family, auto list, const auto& best) {
    fmt::print("{} implementations on this CPU:\n", family);
    for (const auto& impl : list)
      fmt::print("  {:<10} {}{}\n", impl.name, kernels::available(impl) ? "available" : "not available",
                 &impl == &best ? " (dispatched)" : "");
  };
  show("fp8", kernels::list<fp8::Impl>(), kernels::best<fp8::Impl>());
  show("gse", kernels::list<gse::Impl>(), kernels::best<gse::Impl>());
  show("gse gemm", kernels::list<gse::GemmImpl>(), kernels::best<gse::GemmImpl>());
  show("nf4", kernels::list<nf4::Impl>(), kernels::best<nf4::Impl>());
  show("qeft matvec", kernels::list<qeft::Impl>(), kernels::best<qeft::Impl>());
  return 0;
}

int run_encode(const CodecArgs& a) {
  const fp8::Options o = options(a);
  if (a.type == "f32") return encode_stream<float>(a, o);
  if (a.type == "f64") return encode_stream<double>(a, o);
  if (a.type == "f16") return encode_stream<f16>(a, o);
  return encode_stream<bf16>(a, o);
}

int run_decode(const CodecArgs& a) {
  const fp8::Options o = options(a);
  if (a.type == "f32") return decode_stream<float>(a, o);
  if (a.type == "f16") return decode_stream<f16>(a, o);
  return decode_stream<bf16>(a, o);
}

int run_sweep(const CodecArgs& a) {
  const fp8::Options o = options(a);
  const auto [shard, shards] = parse_shard(a.shard);
  const std::uint64_t total = std::uint64_t{1} << (a.type == "f32" ? 32 : 16);
  const std::uint64_t begin = total / shards * shard + std::min(shard, total % shards);
  const std::uint64_t end = begin + total / shards + (shard < total % shards ? 1 : 0);
  OutputStream out(a.output, "|u1");
  if (a.type != "f32") {  // 2^16 inputs: one call
    std::vector<std::uint16_t> in(end - begin);
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::uint16_t>(begin + i);
    std::vector<std::uint8_t> codes(in.size());
    fp8::Options oi = o;
    oi.index0 = begin;
    if (a.type == "f16") encode(std::span(reinterpret_cast<const f16*>(in.data()), in.size()), std::span(codes), oi);
    else encode(std::span(reinterpret_cast<const bf16*>(in.data()), in.size()), std::span(codes), oi);
    out.write(codes);
    out.commit();
    return 0;
  }
  const fp8::Impl& impl = kernels::best<fp8::Impl>();
  fp8::EncodeParams p = fp8::encode_params(o.format, o.profile, FloatType::f32, o.rounding, o.seed);
  const bool progress = ::isatty(2);
  conformance::sweep_f32(fp8::encode_kernel<float>(impl), p, begin, end, conformance::default_threads(),
                         [&](std::uint64_t first, std::span<const std::uint8_t> codes) {
                           out.write(codes);
                           if (progress)
                             fmt::print(stderr, "\rsweep {:5.1f}%", 100.0 * (first + codes.size() - begin) / (end - begin));
                         });
  if (progress) fmt::print(stderr, "\n");
  out.commit();
  return 0;
}

namespace {

// The implementations named by --impl (all this CPU runs if none) that exist in `list`; a name
// that exists in no table is an error, one missing from this table is skipped.
template <class Impl> std::vector<const Impl*> selected(std::span<const Impl> list, const std::vector<std::string>& names) {
  std::vector<const Impl*> out;
  for (const Impl& impl : list)
    if (kernels::available(impl) && (names.empty() || std::find(names.begin(), names.end(), impl.name) != names.end()))
      out.push_back(&impl);
  return out;
}

}  // namespace

int run_conform(const ConformArgs& a) {
  using namespace conformance;
  Fp8SuiteOptions o;
  if (a.level != "quick" && a.level != "full") throw UsageError(fmt::format("unknown --level '{}' (valid: quick, full)", a.level));
  o.level = a.level == "full" ? Level::full : Level::quick;
  o.threads = a.threads ? a.threads : default_threads();
  o.max_errors = a.errors;
  o.seed = a.seed;
  bool gse = a.formats.empty(), gse_gemm = a.formats.empty(), mx = a.formats.empty(), nf4 = a.formats.empty(), weak = a.formats.empty();
  o.formats.clear();
  for (const std::string& s : a.formats) {
    if (const auto f = fp8::parse_format(s)) o.formats.push_back(*f);
    else if (s == "gse") gse = true;
    else if (s == "gse-gemm") gse_gemm = true;
    else if (s == "mx" || mx::parse_format(s)) mx = true;
    else if (s == "nf4" || s == "fp4") nf4 = true;
    else if (weak::parse_layout(s)) weak = true;
    else throw UsageError(fmt::format("unknown format '{}' (valid: e4m3, e4m3fn, e5m2, gse, gse-gemm, mx, nf4, qeft, owq)", s));
  }
  if (a.formats.empty()) o.formats.assign(fp8::kFormats.begin(), fp8::kFormats.end());
  if (!a.profiles.empty()) {
    o.profiles.clear();
    for (const std::string& s : a.profiles) {
      const fp8::Profile* p = fp8::find_profile(s);
      if (!p) throw UsageError(fmt::format("unknown profile '{}' (valid: {})", s, join(fp8::kProfiles, [](const fp8::Profile& q) { return q.name; })));
      o.profiles.push_back(p);
    }
  }
  for (const std::string& s : a.impls) {
    if (!kernels::find<fp8::Impl>(s) && !kernels::find<gse::Impl>(s) && !kernels::find<gse::GemmImpl>(s) && !kernels::find<nf4::Impl>(s) && !kernels::find<qeft::Impl>(s))
      throw UsageError(fmt::format("unknown implementation '{}' (valid: {})", s, join(kernels::list<fp8::Impl>(), [](const fp8::Impl& i) { return i.name; })));
    if (const fp8::Impl* impl = kernels::find<fp8::Impl>(s); impl && !kernels::available(*impl))
      throw UsageError(fmt::format("implementation '{}' does not run on this CPU", s));
  }
  const GoldenDir golden = a.golden.empty() ? GoldenDir::from_env() : GoldenDir(a.golden);
  std::vector<Check> checks;
  const auto add = [&](std::vector<Check> c) {
    time_checks(c, std::chrono::steady_clock::now());
    checks.insert(checks.end(), c.begin(), c.end());
  };
  for (const fp8::Impl* impl : selected(kernels::list<fp8::Impl>(), a.impls)) add(run_fp8_suite(*impl, golden, o));
  BlockSuiteOptions bo;
  bo.max_errors = a.errors;
  bo.seed = a.seed;
  if (gse)
    for (const gse::Impl* impl : selected(kernels::list<gse::Impl>(), a.impls)) add(run_gse_suite(*impl, bo));
  if (gse_gemm)
    for (const gse::GemmImpl* impl : selected(kernels::list<gse::GemmImpl>(), a.impls)) add(run_gse_gemm_suite(*impl, bo));
  if (nf4)
    for (const nf4::Impl* impl : selected(kernels::list<nf4::Impl>(), a.impls)) add(run_nf4_suite(*impl, golden, bo));
  if (weak)
    for (const qeft::Impl* impl : selected(kernels::list<qeft::Impl>(), a.impls)) add(run_weak_suite(*impl, golden, bo));
  if (mx && (a.impls.empty() || std::find(a.impls.begin(), a.impls.end(), "reference") != a.impls.end()))
    add(run_mx_suite(golden, bo));
  if (a.json) fmt::print("{}", report_json(checks));
  else print_report(stdout, checks, a.verbose);
  for (const Check& c : checks)
    if (c.failed()) return 1;
  return 0;
}

}  // namespace lowbit::cli
