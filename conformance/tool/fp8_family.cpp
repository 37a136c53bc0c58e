// The minifloat family (fp8::Format: OCP FP8 E4M3/E5M2, ml_dtypes' FNUZ and IEEE-style types, E8M0,
// FP6, FP4), with the peers' profiles. Registers encode, decode, quantize, sweep, gen and verify for
// each format (ml_dtypes' names accepted verbatim), convert for OCP FP8, the suite, and its table in
// `lowbit list`.
#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <memory>

#include "lowbit/conformance/fp8_suite.hpp"
#include "lowbit/conformance/sweep.hpp"
#include "lowbit/fp8.hpp"
#include "lowbit/kernels.hpp"
#include "convert_command.hpp"
#include "options.hpp"
#include "stream.hpp"

namespace lowbit::cli {
namespace {

constexpr std::size_t kChunk = 1 << 20;  // elements per read

struct Flags {
  std::string type, profile, rounding, input, output, shard = "0/1", impl;
  std::uint64_t seed = 0;
  bool bits_as_float = false;
  bool packed = false;                                     // --packed (FP6, FP4)
  std::uint64_t count = std::numeric_limits<std::uint64_t>::max();  // decode --packed --count; max: every whole code
};

std::vector<std::string> profile_names() {
  return names_of(fp8::kProfiles, [](const fp8::Profile& p) { return std::string(p.name); });
}

fp8::Options options(fp8::Format format, const Flags& f) {
  fp8::Options o;
  o.format = format;
  // --profile's default (ml_dtypes) stands for the format's default, as in fp8::Options.
  o.profile = fp8::profile_for(f.profile.empty() ? fp8::default_profile() : fp8::profile(f.profile), format);
  o.rounding = f.rounding.empty() ? Rounding::rne : rounding(f.rounding);
  o.seed = f.seed;
  return o;
}

void add_profile(CLI::App& c, Flags& f) { add_choice(c, "--profile", f.profile, profile_names(), "peer semantics (lowbit list)"); }

// --packed: codes in packed storage (lowbit/formats/packing.hpp), not one per byte. kChunk codes are
// whole groups of every format, so every chunk but the last packs and unpacks on its own.
void add_packed(CLI::App& c, Flags& f, fp8::Format format, bool with_count = false) {
  if (traits(format).width() == 8) return;
  CLI::Option* packed = c.add_flag("--packed", f.packed, "codes packed: FP4 two per byte, FP6 four per three bytes");
  if (with_count)
    c.add_option("--count", f.count, "--packed: the number of codes (default: every whole code; a padding code is +0)")
        ->needs(packed);
}
static_assert(kChunk % fp8::packing(fp8::Format::e2m3).codes_per_group == 0 &&
              kChunk % fp8::packing(fp8::Format::e2m1).codes_per_group == 0);

template <class T> int encode_packed(InputStream& in, OutputStream& out, fp8::Options o) {
  std::vector<std::uint8_t> buf;
  std::vector<T> x;
  for (std::uint64_t index = 0; const std::size_t n = in.read(buf, kChunk); index += n) {
    x.resize(n);
    std::memcpy(x.data(), buf.data(), buf.size());
    o.index0 = index;
    out.write(fp8::pack(fp8::encode(std::span<const T>(x), o), o.format));
  }
  out.commit();
  return kSuccess;
}

template <class T> int decode_packed(InputStream& in, OutputStream& out, const fp8::Options& o, std::uint64_t count) {
  const auto width = static_cast<std::size_t>(traits(o.format).width());
  std::vector<std::uint8_t> buf;
  std::uint64_t done = 0;
  while (const std::size_t bytes = in.read(buf, fp8::packed_size(o.format, kChunk))) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(bytes * 8 / width, count - done));
    out.write_values<T>(fp8::decode<T>(fp8::unpack(buf, n, o.format), o));
    done += n;
  }
  if (count != Flags{}.count && done != count) throw UsageError(fmt::format("--count {}: the input holds {} codes", count, done));
  out.commit();
  return kSuccess;
}

template <class T> int encode(fp8::Format format, const Flags& f) {
  InputStream in(f.input, element(f.type), f.bits_as_float);
  OutputStream out(f.output, &kU8);
  if (f.packed) return encode_packed<T>(in, out, options(format, f));
  map_stream<T, std::uint8_t>(in, out, kChunk, [o = options(format, f)](auto x, auto codes, std::uint64_t index) mutable {
    o.index0 = index;
    fp8::encode(x, codes, o);
  });
  return kSuccess;
}

template <class T> int decode(fp8::Format format, const Flags& f) {
  InputStream in(f.input, kU8);
  OutputStream out(f.output, &element(f.type));
  if (f.packed) return decode_packed<T>(in, out, options(format, f), f.count);
  map_stream<std::uint8_t, T>(in, out, kChunk, [o = options(format, f)](auto codes, auto y, std::uint64_t) { fp8::decode(codes, y, o); });
  return kSuccess;
}

template <class T> int quantize(fp8::Format format, const Flags& f) {
  InputStream in(f.input, element(f.type), f.bits_as_float);
  OutputStream out(f.output, &element(f.type));
  map_stream<T, T>(in, out, kChunk, [o = options(format, f)](auto x, auto y, std::uint64_t index) mutable {
    o.index0 = index;
    fp8::quantize(x, y, o);
  });
  return kSuccess;
}

std::pair<std::uint64_t, std::uint64_t> parse_shard(const std::string& s) {
  std::uint64_t i = 0, n = 0;
  const auto slash = s.find('/');
  const char* end = s.data() + s.size();
  const bool ok = slash != std::string::npos && std::from_chars(s.data(), s.data() + slash, i).ptr == s.data() + slash &&
                  std::from_chars(s.data() + slash + 1, end, n).ptr == end && n >= 1 && i < n;
  if (!ok) throw UsageError(fmt::format("bad --shard '{}': expected I/N with 0 <= I < N", s));
  return {i, n};
}

// sweep --impl: a row of the kernel list this CPU runs; none given: the fastest.
const fp8::Impl& sweep_impl(const std::string& name) {
  if (name.empty()) return kernels::best<fp8::Impl>();
  const fp8::Impl* impl = kernels::find<fp8::Impl>(name);
  if (!impl) throw UsageError(fmt::format("unknown implementation '{}' (lowbit list)", name));
  if (!kernels::available(*impl)) throw UsageError(fmt::format("implementation '{}' does not run on this CPU", name));
  return *impl;
}

int sweep(fp8::Format format, const Flags& f) {
  const fp8::Options o = options(format, f);
  const fp8::Impl& impl = sweep_impl(f.impl);
  const auto [shard, shards] = parse_shard(f.shard);
  const std::uint64_t total = std::uint64_t{1} << (f.type == "f32" ? 32 : 16);
  const std::uint64_t begin = total / shards * shard + std::min(shard, total % shards);
  const std::uint64_t end = begin + total / shards + (shard < total % shards ? 1 : 0);
  OutputStream out(f.output, &kU8);
  const auto write = [&](std::span<const std::uint8_t> codes) {
    if (f.packed) out.write(fp8::pack(codes, format));
    else out.write(codes);
  };
  if (f.type != "f32") {  // 2^16 inputs: one call
    std::vector<std::uint16_t> in(end - begin);
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::uint16_t>(begin + i);
    std::vector<std::uint8_t> codes(in.size());
    const auto encode = [&](auto type) {
      using T = decltype(type);
      fp8::EncodeParams p = fp8::encode_params(o.format, o.profile, FloatTraits<T>::type, o.rounding, o.seed);
      p.index0 = begin;
      fp8::encode_kernel<T>(impl)(in.size(), reinterpret_cast<const T*>(in.data()), codes.data(), &p);
    };
    if (f.type == "f16") encode(f16{});
    else encode(bf16{});
    write(codes);
    out.commit();
    return kSuccess;
  }
  const fp8::EncodeParams p = fp8::encode_params(o.format, o.profile, FloatType::f32, o.rounding, o.seed);
  const bool progress = ::isatty(2);
  conformance::sweep_f32(fp8::encode_kernel<float>(impl), p, begin, end, conformance::default_threads(),
                         [&](std::uint64_t first, std::span<const std::uint8_t> codes) {
                           write(codes);
                           if (progress)
                             fmt::print(stderr, "\rsweep {:5.1f}%", 100.0 * (first + codes.size() - begin) / (end - begin));
                         });
  if (progress) fmt::print(stderr, "\n");
  out.commit();
  return kSuccess;
}

// ml_dtypes' name verbatim, and the short spellings parse_format also takes.
// ml_dtypes' name, gfloat's for P3109 (p3109_k8p4se), and e4m3fn, e8m0fnu: the names parse_format takes.
std::vector<std::string> aliases(fp8::Format format) {
  const std::string_view name = traits(format).name;
  std::vector<std::string> out;
  if (!traits(format).ml_dtypes.empty()) out.emplace_back(traits(format).ml_dtypes);
  if (name.starts_with("binary8p")) out.push_back("p3109_k8p" + std::string(name.substr(8)));
  for (std::string_view s : {"e4m3fn", "e8m0fnu"})
    if (fp8::parse_format(s) == format) out.emplace_back(s);
  return out;
}

// A codec command of one format.
template <class Add, class Run> Command codec(std::string verb, fp8::Format format, std::string help, Add add, Run run) {
  return command<Flags>(std::move(verb), std::string(traits(format).name), aliases(format), std::move(help), add,
                        [=](const Flags& f) { return run(format, f); });
}

void add_encode_options(CLI::App& c, Flags& f, const std::vector<std::string>& types, const char* type_flag) {
  add_choice(c, type_flag, f.type, types, "element type of the input: raw little-endian, or a .npy array");
  add_profile(c, f);
  add_rounding(c, f.rounding, f.seed, kMinifloatRoundingNames);
  add_bits_as_float(c, f.bits_as_float);
}

// An FP8 code's value, for verify's reports.
conformance::ValueReader value_reader(fp8::Format format) {
  return [format](std::string_view array, std::uint64_t bits) -> std::optional<std::string> {
    if (array != "expected" && array != "decode_inputs") return std::nullopt;
    fp8::Options o;
    o.format = format;
    const std::uint8_t code = static_cast<std::uint8_t>(bits);
    float v = 0;
    fp8::decode(std::span(&code, 1), std::span(&v, 1), o);
    return std::isnan(v) ? "nan" : fmt::format("{}", v);
  };
}

Command gen_command(fp8::Format format) {
  struct Gen {
    GenFlags common;
    std::string profile, rounding;
  };
  const std::string name(traits(format).name);
  return command<Gen>(
      "gen", name, aliases(format),
      fmt::format("golden {} vectors: encode cases (f32 inputs) and the {} decode cases, with classes", name, traits(format).codes()),
      [](CLI::App& c, Gen& f) {
        add_choice(c, "--profile", f.profile, profile_names(), "peer semantics of the expected outputs");
        add_choice(c, "--rounding", f.rounding, kMinifloatRoundingNames, "rounding of the encode cases (sr: Philox keyed by --seed)");
        add_gen_options(c, f.common);
      },
      [format](const Gen& f) {
        conformance::Fp8GenOptions o;
        static_cast<conformance::GenCommon&>(o) = gen_common(f.common);
        o.format = format;
        o.profile = f.profile;
        o.rounding = rounding(f.rounding);
        return gen_done(conformance::gen_fp8(o, f.common.out), fmt::format("encode cases + {} decode cases", traits(format).codes()),
                        f.common.out);
      });
}

// `convert e4m3|e5m2` (e4m3 also as `convert fp8`): compressed-tensors' per-channel or per-tensor
// scales, or DeepSeek-V3's 128x128 blocks with --block 128.
Command convert_command(fp8::Format format) {
  struct Convert {
    ConvertFlags common;
    std::string scale;
    unsigned block = 0;
  };
  std::vector<std::string> names = aliases(format);
  if (format == fp8::Format::e4m3) names.push_back("fp8");
  const std::string name(traits(format).name);
  return command<Convert>(
      "convert", name, names,
      fmt::format("a checkpoint -> {} weights with f32 scales (compressed-tensors' layout; DeepSeek-V3's with --block 128)", name),
      [](CLI::App& c, Convert& f) {
        CLI::Option* scale = add_choice(c, "--scale", f.scale, {"channel", "tensor"},
                                        "one scale per output row or per tensor, as <w>_scale");
        c.add_option("--block", f.block, "128: one scale per 128x128 block, as <w>_scale_inv (DeepSeek-V3)")
            ->check(CLI::IsMember({128u}))
            ->excludes(scale);
        add_convert_flags(c, f.common);
      },
      [format](const Convert& f) {
        using io::model::Fp8Scale;
        const Fp8Scale kind = f.block ? Fp8Scale::block : f.scale == "tensor" ? Fp8Scale::tensor : Fp8Scale::channel;
        return run_convert(f.common, *io::model::fp8_target(format, kind));
      });
}

void register_format(Registry& reg, fp8::Format format) {
  const std::string name(traits(format).name);
  reg.add(codec("encode", format, fmt::format("f32, f64, f16 or bf16 values -> {} codes (one byte each)", name),
                [format](CLI::App& c, Flags& f) {
                  add_encode_options(c, f, {"f32", "f64", "f16", "bf16"}, "--from");
                  add_packed(c, f, format);
                  add_io(c, f.input, f.output, "values", "codes");
                },
                [](fp8::Format fm, const Flags& f) { return with_type(f.type, [&](auto t) { return encode<decltype(t)>(fm, f); }); }));
  reg.add(codec("decode", format, fmt::format("{} codes -> f32, f16 or bf16 values (every code is exact in each)", name),
                [format](CLI::App& c, Flags& f) {
                  add_choice(c, "--to", f.type, {"f32", "f16", "bf16"}, "element type of the output");
                  add_profile(c, f);
                  add_packed(c, f, format, true);
                  add_io(c, f.input, f.output, "codes: raw bytes or a |u1 .npy", "values");
                },
                [](fp8::Format fm, const Flags& f) { return with_type16(f.type, [&](auto t) { return decode<decltype(t)>(fm, f); }); }));
  reg.add(codec("quantize", format, fmt::format("values -> the nearest {} values, in the same type", name),
                [](CLI::App& c, Flags& f) {
                  add_encode_options(c, f, {"f32", "f16", "bf16"}, "--type");
                  add_io(c, f.input, f.output, "values", "values");
                },
                [](fp8::Format fm, const Flags& f) { return with_type16(f.type, [&](auto t) { return quantize<decltype(t)>(fm, f); }); }));
  reg.add(codec("sweep", format, fmt::format("the {} code of every f32, f16 or bf16 bit pattern, in order", name),
                [format](CLI::App& c, Flags& f) {
                  add_choice(c, "--from", f.type, {"f32", "f16", "bf16"}, "the input type whose every bit pattern is encoded");
                  add_profile(c, f);
                  add_packed(c, f, format);
                  add_rounding(c, f.rounding, f.seed, kMinifloatRoundingNames);
                  c.add_option("--shard", f.shard, "I/N: write only slice I (from 0) of N equal slices (default 0/1)");
                  c.add_option("--impl", f.impl, "the implementation, a row of lowbit list (default: the fastest this CPU runs)");
                  c.add_option("-o,--output", f.output, "codes, written only on success (default: standard output)");
                },
                sweep));
  reg.add(gen_command(format));
  if (fp8::kOcpFp8 & fp8::format_bit(format)) reg.add(convert_command(format));  // checkpoints ship OCP FP8 only
  reg.add(verify_command(name, aliases(format), name, value_reader(format)));
}

conformance::Fp8SuiteOptions suite_options(const SuiteRun& run) {
  conformance::Fp8SuiteOptions o;
  o.level = run.level;
  o.threads = run.threads;
  o.max_errors = run.max_errors;
  o.seed = run.seed;
  o.random_cases = run.random_cases;
  o.roundings = run.roundings;
  return o;
}

bool has_format(const SuiteRun& run, fp8::Format f) { return run.has_format(traits(f).name); }

std::vector<conformance::Check> run_suite(const SuiteRun& run) {
  conformance::Fp8SuiteOptions o = suite_options(run);
  o.formats.clear();
  for (fp8::Format f : fp8::kFormats)
    if (has_format(run, f)) o.formats.push_back(f);
  o.profiles.clear();
  for (const fp8::Profile& p : fp8::kProfiles)
    if (run.has_profile(p.name)) o.profiles.push_back(&p);
  return each_implementation<fp8::Impl>(run, [&](const fp8::Impl& impl) { return run_fp8_suite(impl, run.golden, o); });
}

bool in_plugin(const conformance::Plugin& p) {
  const lowbit_vendor_descriptor& d = p.descriptor();
  return d.fp8_encode_f32 || d.fp8_encode_f64 || d.fp8_encode_f16 || d.fp8_encode_bf16 || d.fp8_decode_f32 ||
         d.fp8_decode_f16 || d.fp8_decode_bf16;
}

// One group per format and profile that applies, of the formats the plugin declares (version 1:
// e4m3, e5m2): it is never called with another. A format named with --format that it does not
// declare is a failed check.
std::vector<conformance::Check> run_plugin(const conformance::Plugin& plugin, const SuiteRun& run) {
  std::vector<conformance::Check> out;
  for (fp8::Format format : fp8::kFormats) {
    if (!has_format(run, format)) continue;
    if (!(plugin.fp8_formats() & fp8::format_bit(format))) {
      if (!run.formats.empty())
        out.push_back(conformance::not_implemented(plugin, {std::string(traits(format).name), "all"},
                                                   "the plugin does not declare this format (fp8_formats; version 1: e4m3, e5m2)"));
      continue;
    }
    for (const fp8::Profile& profile : fp8::kProfiles) {
      if (!run.has_profile(profile.name) || !fp8::applies(profile, format)) continue;
      conformance::Fp8SuiteOptions o = suite_options(run);
      o.formats = {format};
      o.profiles = {&profile};
      const std::vector<conformance::Check> c = conformance::run_plugin_group(
          plugin, {std::string(traits(format).name), std::string(profile.name)},
          [&] {
            const fp8::Impl row = conformance::plugin_fp8(plugin, profile);
            return conformance::exercised(row, run_fp8_suite(row, run.golden, o));
          },
          run.group_run());
      out.insert(out.end(), c.begin(), c.end());
    }
  }
  return out;
}

std::string_view name(fp8::Specials s) {
  switch (s) {
    case fp8::Specials::ieee: return "ieee";
    case fp8::Specials::fn: return "fn";
    case fp8::Specials::fnuz: return "fnuz";
    case fp8::Specials::finite: return "finite";
    case fp8::Specials::extended: return "extended";
  }
  return "?";
}

// A power of two far from 1 as 2^e, any other value in the shortest digits.
std::string value_text(float v) {
  const int e = std::ilogb(v);
  return std::ldexp(1.0f, e) == v && std::abs(e) > 4 ? fmt::format("2^{}", e) : fmt::format("{}", double{v});
}

// The codes where `is` holds, as ranges: "0x79-0x7f,0xf9-0xff"; "-" for none.
template <class Pred> std::string code_ranges(const fp8::Traits& t, Pred is) {
  std::string s;
  for (unsigned c = 0; c < t.codes(); ++c) {
    if (!is(c)) continue;
    unsigned last = c;
    while (last + 1 < t.codes() && is(last + 1)) ++last;
    s += fmt::format("{}0x{:02x}{}", s.empty() ? "" : ",", c, last > c ? fmt::format("-0x{:02x}", last) : "");
    c = last;
  }
  return s.empty() ? "-" : s;
}

// One row per format: its descriptor (fp8::Traits) and what follows from it.
void print_list() {
  fmt::print("minifloats (encode, decode, quantize, sweep, gen, verify, conform; convert: e4m3, e5m2): one code per byte,\n"
             "sub-byte codes in the low bits; ml_dtypes' names are accepted verbatim\n");
  fmt::print("  {:<12}{:<19}{:>5}{:>3}{:>3}{:>5} {:<7}{:<9}{:<17}{:<11}{:<14}{:<10}{:<24}{}\n", "format", "ml_dtypes", "bits",
             "E", "M", "bias", "signed", "specials", "max finite", "min normal", "min subnormal", "Inf", "NaN", "profiles");
  for (fp8::Format f : fp8::kFormats) {
    const fp8::Traits& t = traits(f);
    fp8::Options o;
    o.format = f;
    const auto value = [&](unsigned code) {
      const std::uint8_t c = static_cast<std::uint8_t>(code);
      float v = 0;
      fp8::decode(std::span(&c, 1), std::span(&v, 1), o);
      return value_text(v);
    };
    // No mantissa bits: no subnormals. E8M0's code 0 is its smallest normal (2^-127); P3109 P1's is 0.
    const bool subnormals = t.layout.man_bits > 0;
    const unsigned min_normal = subnormals || t.has_zero ? 1u << t.layout.man_bits : 0u;
    std::string profiles;
    for (const fp8::Profile& p : fp8::kProfiles)
      if (fp8::applies(p, f)) profiles += fmt::format("{}{}", profiles.empty() ? "" : ",", p.name);
    fmt::print("  {:<12}{:<19}{:>5}{:>3}{:>3}{:>5} {:<7}{:<9}{:<17}{:<11}{:<14}{:<10}{:<24}{}\n", t.name, t.ml_dtypes, t.width(),
               t.layout.exp_bits, t.layout.man_bits, t.layout.bias(), t.is_signed ? "yes" : "no", name(t.specials),
               fmt::format("{} (0x{:02x})", value(t.max_finite()), t.max_finite()),
               value(min_normal), subnormals ? value(1) : "-",
               code_ranges(t, [&](unsigned c) { return t.has_inf() && (c & t.all_ones()) == t.inf(); }),
               code_ranges(t, [&](unsigned c) { return t.is_nan(static_cast<std::uint8_t>(c)); }), profiles);
  }
  fmt::print("  encode --from f32, f64, f16, bf16; decode --to f32, f16, bf16; quantize --type f32, f16, bf16\n");
  fmt::print("  --rounding rne (default), rna, rtz, sr (Philox-4x32-10 keyed by --seed), rtp, rtn, rta (away from zero), rto (to odd)\n  --profile:\n");
  for (const fp8::Profile& p : fp8::kProfiles)
    fmt::print("    {:<15}{} {}\n", p.name, &p == &fp8::default_profile() ? " *" : "  ", p.summary);
}

// --format names: lowbit's names, and as aliases ml_dtypes' and the short spellings.
std::vector<std::string> format_names() {
  return names_of(fp8::kTraits, [](const fp8::Traits& t) { return std::string(t.name); });
}
std::vector<std::pair<std::string, std::string>> format_aliases() {
  std::vector<std::pair<std::string, std::string>> out;
  for (fp8::Format f : fp8::kFormats)
    for (const std::string& a : aliases(f)) out.emplace_back(a, traits(f).name);
  return out;
}

void define(Registry& reg) {
  for (fp8::Format f : fp8::kFormats) register_format(reg, f);
  // A plugin may declare any format (version 2's fp8_formats); run_plugin keeps to what it declares.
  reg.add(Suite{format_names(), format_aliases(), profile_names(), format_names(), run_suite, in_plugin, run_plugin});
  reg.add_list(print_list);
}

const Registration registration("fp8", define);

}  // namespace
}  // namespace lowbit::cli
