#include "options.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace lowbit::cli {

std::string join(const std::vector<std::string>& names) { return fmt::format("{}", fmt::join(names, ", ")); }

void add_io(CLI::App& c, std::string& in, std::string& out, const std::string& in_help, const std::string& out_help) {
  c.add_option("-i,--input", in, in_help + " (default: standard input)");
  c.add_option("-o,--output", out, out_help + ", written only on success (default: standard output)");
}

void add_bits_as_float(CLI::App& c, bool& flag) {
  c.add_flag("--bits-as-float", flag,
             "read an integer .npy of the float's size (<u4/<i4 for f32, <u2/<i2 for f16, <i2 for bf16) as the "
             "floats' bit patterns, as golden sets store them");
}

CLI::Option* add_choice(CLI::App& c, const std::string& flag, std::string& value, const std::vector<std::string>& names,
                        const std::string& help) {
  if (value.empty()) value = names.front();
  return c.add_option(flag, value, fmt::format("{} (default {})", help, names.front()))
      ->check(CLI::IsMember(names));
}

Rounding rounding(std::string_view name) {
  if (const auto r = parse_rounding(name)) return *r;
  throw UsageError(fmt::format("unknown rounding '{}'", name));
}

void add_rounding(CLI::App& c, std::string& name, std::uint64_t& seed, const std::vector<std::string>& names) {
  add_choice(c, "--rounding", name, names, "rounding");
  c.add_option("--seed", seed, "sr: the Philox-4x32-10 key (default 0)");
}

void add_gen_options(CLI::App& c, GenFlags& g) {
  add_choice(c, "--level", g.level, {"quick", "boundary", "full"},
             "quick: the boundary cases and -n seeded random ones; boundary: the structured boundary cases only; full is "
             "refused (the exhaustive inputs are checked in process by conform --level full)");
  c.add_option("--seed", g.seed, "seed of the random cases, and the Philox key of --rounding sr (default 1)");
  c.add_option("-n", g.n, "random cases at --level quick (default 100000)");
  c.add_option("-o,--output", g.out, "output folder, created if missing")->required();
  add_choice(c, "--container", g.container, {"npy", "safetensors"},
             "npy: a .npy file per array; safetensors: one golden.safetensors");
}

conformance::GenCommon gen_common(const GenFlags& g) {
  conformance::GenCommon c;
  c.seed = g.seed;
  c.level = *conformance::parse_level(g.level);
  conformance::check_gen(c.level, g.n);
  c.random = g.n;
  c.container = *conformance::parse_container(g.container);
  return c;
}

int gen_done(const conformance::GenSummary& s, std::string_view what, const std::string& dir) {
  std::vector<std::string> counts;
  for (const auto& [k, v] : s.counts)
    if (v) counts.push_back(fmt::format("{} {}", k, v));
  fmt::print(stderr, "lowbit gen: {} {} ({}) -> {}\n", s.cases, what, join(counts), dir);
  return kSuccess;
}

Command verify_command(std::string format, std::vector<std::string> aliases, std::string set_format,
                       conformance::ValueReader reader, bool tolerance) {
  struct Flags {
    std::string golden, actual;
    std::size_t errors = 5;
    bool json = false, tolerance = false;
  };
  const std::string help = fmt::format("{}'s outputs against a golden set of lowbit gen {}", format, format);
  return command<Flags>(
      "verify", format, std::move(aliases), help,
      [tolerance](CLI::App& c, Flags& f) {
        c.add_option("--golden", f.golden, "the golden set: a folder written by lowbit gen")->required();
        c.add_option("--actual", f.actual,
                     "the outputs: one .npy (matched to a golden output by dtype and size), a folder of NAME.npy files, or a "
                     ".safetensors file with tensors NAME, NAME being the golden outputs' names")
            ->required();
        c.add_option("--errors", f.errors, "mismatches shown per class (default 5)");
        c.add_flag("--json", f.json, "one JSON object instead of the text");
        if (tolerance)
          c.add_flag("--tolerance", f.tolerance,
                     "sets with per-output bounds (--accumulate fp32): accept outputs within them and report the bounds");
      },
      [set_format, reader](const Flags& f) {
        const conformance::VerifyResult r = conformance::verify_golden(f.golden, f.actual, {f.errors, f.tolerance});
        if (r.format != set_format) throw UsageError(fmt::format("the golden set holds {} cases, not {}", r.format, set_format));
        const std::string out = f.json ? conformance::verify_json(r, reader) + "\n" : conformance::verify_text(r, reader);
        std::fputs(out.c_str(), stdout);
        return r.passed() ? kSuccess : kMismatch;
      });
}

}  // namespace lowbit::cli
