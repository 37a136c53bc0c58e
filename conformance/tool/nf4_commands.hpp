// The lowbit subcommands of NF4/FP4: bitsandbytes Linear4bit tensors in .safetensors.
#pragma once
#include <optional>
#include <string>

#include "commands.hpp"

namespace lowbit::cli {

struct Nf4Args {
  int block = 64;
  bool double_quant = false;
  std::optional<float> dq_offset;  // default: torch's fp32 mean of the absmax values
  std::string dq_map;              // 256 raw f32; default: bitsandbytes' dynamic map as torch computes it
};

int run_encode_nf4(const CodecArgs& a, const Nf4Args& n);  // a.format: nf4 or fp4
int run_decode_nf4(const CodecArgs& a);

}  // namespace lowbit::cli
