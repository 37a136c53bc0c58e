// What the fine-tuning experiment's files share: the seeded permutations and stream keys, and the
// layer inputs of a model.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lowbit/training/finetune.hpp"

namespace lowbit::training::detail {

// Fisher-Yates with j = floor(u * (i + 1) / 2^64) (a 128-bit product; no std distribution).
std::vector<std::size_t> shuffled(std::size_t n, std::uint64_t seed);

// The n-th key of a stream: SplitMix64 of seed ^ (n times an odd constant).
std::uint64_t mix(std::uint64_t seed, std::uint64_t n);

// The GSQ-Tuning configuration of the table at `bits`: "gsq-4-b-b/b-b-b" (layers.hpp's lora_config).
std::string gsq_name(int bits);

// The inputs of every layer of the fp32 model on x (ReLU between the layers).
std::vector<Matrix> layer_inputs(const Mlp& m, const Matrix& x);

}  // namespace lowbit::training::detail
