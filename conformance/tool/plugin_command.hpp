// lowbit verify --plugin PATH [FORMAT...]: the conformance suite over a vendor plugin (lowbit/vendor.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lowbit::cli {

struct PluginArgs {
  std::string path;                   // --plugin: the shared library
  std::vector<std::string> formats;   // e4m3 (e4m3fn), e5m2, gse, mx (any MX name), nf4 (fp4), qeft; empty = all
  std::vector<std::string> profiles;  // FP8 profiles; empty = all
  std::string level = "quick";        // quick: an f32 sample; full: FP8 adds all 2^32 f32 inputs
  std::string golden;                 // golden-data folder (default: the copy in the source tree)
  std::size_t errors = 8;
  unsigned threads = 0;               // 0 = all cores
  std::uint64_t seed = 1;
  bool verbose = false;
  bool json = false;
  bool isolate = true;                // false: --in-process
};

// Prints the standard report (or report_json); 0 when every check passed, 1 otherwise. A plugin
// that cannot be loaded or has another ABI version throws (main: "lowbit: <why>", exit 1).
int run_verify_plugin(const PluginArgs& a);

}  // namespace lowbit::cli
