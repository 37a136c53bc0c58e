// The lowbit subcommands of the block formats: GSE-INT and MX.
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "commands.hpp"
#include "lowbit/formats/gse.hpp"

namespace lowbit::cli {

struct GseArgs {
  int bits = 8, group = 32, exp_bits = 5, exp_offset = 0;
  std::optional<int> exp_bias;  // default: 15 for 5 exponent bits, 127 for 8
  std::string mantissa_overflow = "saturate", exponent_overflow = "saturate";
};

// Adds --bits --group --exp-bits --exp-bias --exp-offset --mantissa-overflow --exponent-overflow;
// returns them so that a non-GSE format can reject them.
std::vector<CLI::Option*> add_gse_options(CLI::App* app, GseArgs& g);
gse::Format gse_format(const GseArgs& g);  // validated, or UsageError

struct GemmArgs {
  std::size_t m = 0, n = 0, k = 0;
  std::string a, b, output, accumulate = "exact", rounding = "rne";
};

int run_encode_gse(const CodecArgs& a, const GseArgs& g);
int run_decode_gse(const CodecArgs& a);
int run_quantize(const CodecArgs& a, const GseArgs& g);  // a.format: gse or an MX name
int run_gemm(const GemmArgs& a, const GseArgs& g);

}  // namespace lowbit::cli
