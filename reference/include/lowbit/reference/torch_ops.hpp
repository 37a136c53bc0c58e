// torch's fp32 CPU reductions, reproduced exactly: the formats whose peers are torch code (NF4's
// double quantization offset, the OWQ/QEFT mse loss) share them.
#pragma once
#include <span>

namespace lowbit::ref {

// torch's fp32 `x.sum()` / `x.mean()` on the CPU for a contiguous 1-D tensor (or one row of a
// reduction over a contiguous last dimension): the cascade sum of ATen/native/cpu/SumKernel.cpp
// with `lanes`-wide vectors (8 for AVX2), then, for the mean, one division by n.
float torch_sum_f32(std::span<const float> x, int lanes = 8);
float torch_mean_f32(std::span<const float> x, int lanes = 8);

}  // namespace lowbit::ref
