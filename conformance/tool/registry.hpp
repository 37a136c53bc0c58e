// The registry of the lowbit tool. Every format family registers, in one file of its own
// (conformance/tool/*_family.cpp), one command per (verb, format) it supports — its codecs (encode,
// decode, quantize, ...), its golden-set generator (gen) and verifier (verify) — with the options of
// that command only, its conformance suites (conform, also on a vendor plugin) and its lines of
// `lowbit list`. The verbs without formats (list, conform, weak-columns, ...) register the same way.
// main.cpp builds `lowbit VERB FORMAT [options]` from the registry and names no format.
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "lowbit/conformance/block_suite.hpp"
#include "lowbit/conformance/golden.hpp"
#include "lowbit/conformance/level.hpp"
#include "lowbit/conformance/plugin.hpp"
#include "lowbit/conformance/report.hpp"
#include "lowbit/kernels.hpp"
#include "usage_error.hpp"

namespace lowbit::cli {

// The exit status of every command.
enum Exit : int {
  kSuccess = 0,   // done; no mismatch found
  kMismatch = 1,  // a check or a verification found mismatches
  kUsage = 2,     // a usage or input error: a bad option, an unreadable file, malformed data
  kInternal = 3,  // an error inside lowbit (a bug): lowbit::Error with Errc::internal, out of memory
};

// What a command runs once its options are parsed; returns the exit status.
using Action = std::function<int()>;

// `lowbit VERB FORMAT [options]`, or `lowbit VERB [options]` for a verb without formats (format
// empty). `define` adds the command's own options to its CLI11 subcommand and returns what runs it;
// the values the options bind live in that closure.
struct Command {
  std::string verb, format;
  std::vector<std::string> aliases;  // other names of the format, e.g. e4m3fn
  std::string help;
  std::function<Action(CLI::App&)> define;
};

// What `lowbit conform` runs a suite with.
struct SuiteRun {
  conformance::GoldenDir golden = conformance::GoldenDir::from_env();
  conformance::Level level = conformance::Level::quick;  // full: FP8 adds all 2^32 f32 inputs
  std::size_t max_errors = 8;
  std::uint64_t seed = 1;
  unsigned threads = 1;                 // the f32 sweeps
  std::size_t random_cases = 1 << 18;   // FP8's f32 and f64 samples
  int groups = 2000;                    // random groups per check of the block suites
  std::vector<std::string> formats;     // the suite's formats to check (its own names); all if none named
  std::vector<std::string> impls;       // lowbit's implementations (--impl); empty = all this CPU runs
  std::vector<std::string> profiles;    // --profile; empty = all
  std::vector<Rounding> roundings{kMinifloatRoundings.begin(), kMinifloatRoundings.end()};  // --rounding
  bool isolate = true;                  // plugin groups in child processes (--in-process: false)
  double timeout = conformance::kCallTimeout;  // seconds a plugin call may run (--timeout)

  conformance::BlockSuiteOptions block() const;
  conformance::GroupRun group_run() const { return {isolate, max_errors, timeout}; }
  bool has_format(std::string_view f) const;
  bool has_profile(std::string_view p) const;
  // The rows of a kernel table to check: those --impl names (all if none) that this CPU runs.
  template <class Impl> std::vector<const Impl*> implementations() const {
    std::vector<const Impl*> out;
    for (const Impl& impl : kernels::list<Impl>())
      if (kernels::available(impl) && (impls.empty() || std::find(impls.begin(), impls.end(), impl.name) != impls.end()))
        out.push_back(&impl);
    return out;
  }
};

// A suite over every implementation of a kernel table the run selects: suite(impl) for each, in order.
template <class Impl, class Run> std::vector<conformance::Check> each_implementation(const SuiteRun& run, Run suite) {
  std::vector<conformance::Check> out;
  for (const Impl* impl : run.implementations<Impl>()) {
    std::vector<conformance::Check> c = suite(*impl);
    out.insert(out.end(), std::make_move_iterator(c.begin()), std::make_move_iterator(c.end()));
  }
  return out;
}

// A block suite on a plugin as one group (format, profile "all"): suite() makes its checks.
inline std::vector<conformance::Check> plugin_group(const conformance::Plugin& plugin, const SuiteRun& run, std::string format,
                                                    const std::function<std::vector<conformance::Check>()>& suite) {
  return conformance::run_plugin_group(plugin, {std::move(format), "all"}, suite, run.group_run());
}

// A family's conformance suite.
struct Suite {
  std::vector<std::string> formats;                        // what --format names it by
  std::vector<std::pair<std::string, std::string>> aliases;  // other --format names -> one of `formats`
  std::vector<std::string> profiles;  // what --profile names; a suite without profiles skips a run given --profile
  std::vector<std::string> plugin_formats;  // the formats a vendor plugin can implement (lowbit/vendor.h)
  std::function<std::vector<conformance::Check>(const SuiteRun&)> run;  // on lowbit's implementations
  std::function<bool(const conformance::Plugin&)> in_plugin;            // the plugin has a function of it
  std::function<std::vector<conformance::Check>(const conformance::Plugin&, const SuiteRun&)> run_plugin;
};

class Registry {
 public:
  void add(Command c) { commands_.push_back(std::move(c)); }
  void add(Suite s) { suites_.push_back(std::move(s)); }
  // Lines of `lowbit list` (what the family's formats are, their options and profiles).
  void add_list(std::function<void()> print) { lists_.push_back(std::move(print)); }

  const std::vector<Command>& commands() const { return commands_; }
  const std::vector<Suite>& suites() const { return suites_; }
  const std::vector<std::function<void()>>& lists() const { return lists_; }

 private:
  std::vector<Command> commands_;
  std::vector<Suite> suites_;
  std::vector<std::function<void()>> lists_;
};

// Every registration, made once, in the order of their names.
const Registry& registry();

// A static Registration in a family's file adds the family to registry(): adding a family is one
// new file.
struct Registration {
  Registration(std::string_view name, void (*define)(Registry&));
};

// The verbs in the order `lowbit --help` lists them, with their meaning: one vocabulary for every
// family and for the library (README, "Verbs").
struct Verb {
  std::string_view name, help;
};
std::span<const Verb> verbs();

// The tool: parses argv against the registry, runs the command, and maps every error to its exit
// status (one line "lowbit: <what>" on stderr).
int run(int argc, const char* const* argv);
int run(const std::vector<std::string>& args);  // args without the program name (tests)

}  // namespace lowbit::cli
