// The lowbit subcommands, a thin layer over the library and the conformance suite.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lowbit::cli {

struct CodecArgs {
  std::string format;           // e4m3 | e4m3fn | e5m2
  std::string type;             // --from / --to
  std::string profile = "ml_dtypes";
  std::string rounding = "rne";
  std::uint64_t seed = 0;
  std::string input, output;    // -i / -o; empty = stdin / stdout
  std::string shard = "0/1";    // sweep only: I/N
};

struct ConformArgs {
  std::string level = "quick";
  std::vector<std::string> impls, formats, profiles;
  std::string golden;
  std::size_t errors = 8;
  unsigned threads = 0;
  std::uint64_t seed = 1;
  bool verbose = false;
  bool json = false;
};

int run_list();
int run_encode(const CodecArgs& a);
int run_decode(const CodecArgs& a);
int run_sweep(const CodecArgs& a);
int run_conform(const ConformArgs& a);

}  // namespace lowbit::cli
