// Options that several commands take, each added to one command's own CLI11 subcommand (so that its
// --help describes exactly its options), and the shared parts of gen and verify.
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lowbit/conformance/golden_gen.hpp"
#include "lowbit/formats/binary_float.hpp"
#include "lowbit/formats/rounding.hpp"
#include "registry.hpp"

namespace lowbit::cli {

std::string join(const std::vector<std::string>& names);  // "a, b, c"
template <class Range, class Name> std::vector<std::string> names_of(const Range& r, Name name) {
  std::vector<std::string> out;
  for (const auto& x : r) out.emplace_back(name(x));
  return out;
}

// Calls f(T{}) for the element type named f32, f16 or bf16 (with_type: also f64), as the command's
// --from/--to/--type choices allow.
template <class F> int with_type16(std::string_view type, F&& f) {
  if (type == "f16") return f(f16{});
  if (type == "bf16") return f(bf16{});
  return f(float{});
}
template <class F> int with_type(std::string_view type, F&& f) {
  return type == "f64" ? f(double{}) : with_type16(type, f);
}

// `lowbit VERB FORMAT` whose options fill a Flags: add(c, flags) adds them to the command's own
// subcommand, run(flags) runs it.
template <class Flags, class Add, class Run>
Command command(std::string verb, std::string format, std::vector<std::string> aliases, std::string help, Add add, Run run) {
  return {std::move(verb), std::move(format), std::move(aliases), std::move(help), [=](CLI::App& c) -> Action {
            auto f = std::make_shared<Flags>();
            add(c, *f);
            return [=] { return run(*f); };
          }};
}

// -i/--input and -o/--output (default: standard input and output).
void add_io(CLI::App& c, std::string& in, std::string& out, const std::string& in_help, const std::string& out_help);
// --bits-as-float: an integer .npy of a float's size is read as the floats' bit patterns.
void add_bits_as_float(CLI::App& c, bool& flag);
// An option whose value is one of `names` (the first is the default when `value` is empty).
CLI::Option* add_choice(CLI::App& c, const std::string& flag, std::string& value, const std::vector<std::string>& names,
                        const std::string& help);

// lowbit's rounding names; every family accepts exactly those it documents.
inline const std::vector<std::string> kRoundingNames{"rne", "rna", "rtz", "sr"};
// The minifloat family's: those, the directed roundings and round-to-odd.
inline const std::vector<std::string> kMinifloatRoundingNames{"rne", "rna", "rtz", "sr", "rtp", "rtn", "rta", "rto"};
// A name of kMinifloatRoundingNames, or microxcaling's words for MX: nearest (rna), even (rne), floor (rtz).
Rounding rounding(std::string_view name);
// --rounding (one of `names`, the first the default) and --seed (the Philox key of sr).
void add_rounding(CLI::App& c, std::string& name, std::uint64_t& seed, const std::vector<std::string>& names);

// gen's options shared by every format: --level boundary|quick, --seed, -n, -o, --container.
struct GenFlags {
  std::string level = "quick", container = "npy", out;
  std::uint64_t seed = 1;
  std::size_t n = 100000;
};
void add_gen_options(CLI::App& c, GenFlags& g);
conformance::GenCommon gen_common(const GenFlags& g);  // validated (UsageError)
// "lowbit gen: N <what> (class counts) -> DIR" on stderr; returns kSuccess.
int gen_done(const conformance::GenSummary& s, std::string_view what, const std::string& dir);

// `lowbit verify FORMAT --golden DIR --actual X`: the command of a format whose golden sets record
// `set_format`; `reader` gives the decimal values of the format's arrays; `tolerance` adds --tolerance
// (sets with per-output bounds). Exit status 0: no mismatch; 1: mismatches; 2: it could not run.
Command verify_command(std::string format, std::vector<std::string> aliases, std::string set_format,
                       conformance::ValueReader reader = {}, bool tolerance = false);

}  // namespace lowbit::cli
