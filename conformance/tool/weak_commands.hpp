// The lowbit subcommands of the OWQ / QEFT weak-column layouts: pack an f32 weight into the
// repos' buffers (.safetensors), unpack it into the effective dequantized weight of a kernel path.
#pragma once
#include <optional>
#include <string>

namespace lowbit::cli {

struct PackArgs {
  std::string layout;                 // qeft | owq
  int bits = 4;
  std::optional<int> group;           // default: qeft 128, owq 0
  std::string tuning = "mse";         // the repos' default
  std::optional<int> grid;            // default: weak::default_grid()
  bool sym = false;
  std::string weak_idx;               // raw little-endian int32, ascending; "" = no weak columns
  std::string prefix;                 // buffer name prefix ("" = the bare names)
  bool report_clamped = false;        // list every clamped code on stderr
  std::string input, output;
};

struct UnpackArgs {
  std::string layout;
  std::string path;                   // qeft: gemv (default) | nowc; owq: fp16 (default) | fp32 | nowc
  std::string order = "stored";       // stored | original (QEFT's stored order is the reordered one)
  std::optional<int> bits;            // OWQ files without lowbit metadata
  std::string prefix;
  std::string input, output;
};

int run_pack(const PackArgs& a);
int run_unpack(const UnpackArgs& a);

}  // namespace lowbit::cli
