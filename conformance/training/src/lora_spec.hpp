// The LoRA layer of docs/training.md section 2.1 written from the page, not from layers.cpp: every
// operand quantized along its rows with the reference codecs (lowbit::ref; section 1's per-tensor
// exponent offset and power-of-two scale, the Philox keys of operand_seed), quantized products by
// exact_matmul_nt, f32 ones by matmul_nt, g scaled by s and the sums in fp32. It calls no
// quantize_rows, qmatmul or LoraLinear: check 2 compares the layer with it bit for bit.
//
// Beside every value it carries what is known of its distance to the ideal value (the same data flow
// in exact arithmetic with nothing quantized and the base w as given): a rigorous elementwise bound
// (check 3) and the variance the grid steps predict (check 3's converse). lora_spec.cpp derives both.
#pragma once
#include <cstdint>
#include <vector>

#include "validation_support.hpp"

namespace lowbit::training::detail {

struct Tracked {
  Matrix v;                   // the value the spec computes
  std::vector<double> bound;  // |v - ideal| <= bound, elementwise
  std::vector<double> var;    // the variance of v - ideal predicted from the grid steps, elementwise
};

struct SpecRun {
  Tracked y, dx, da, db;
};

// The case's layer in config f (base stored_base(c.w, f)), s = alpha / r in fp32, `seed` keying the
// backward's stochastic rounding.
SpecRun lora_spec(const LoraCase& c, const LoraConfig& f, float s, std::uint64_t seed);

}  // namespace lowbit::training::detail
