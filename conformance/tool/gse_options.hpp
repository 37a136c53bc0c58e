// The options of a GSE-INT format, shared by the gse and gse-gemm families.
#pragma once
#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "lowbit/formats/gse.hpp"

namespace lowbit::cli {

struct GseFlags {
  int bits = 8, group = 32, exp_bits = 5, exp_offset = 0;
  std::optional<int> exp_bias;  // default: 15 for 5 exponent bits, 127 for 8
  std::string mantissa_overflow = "saturate", exponent_overflow = "saturate";
};

// --bits --group --exp-bits --exp-bias --exp-offset --mantissa-overflow --exponent-overflow
void add_gse_options(CLI::App& c, GseFlags& g);
gse::Format gse_format(const GseFlags& g);  // validated, or UsageError

}  // namespace lowbit::cli
