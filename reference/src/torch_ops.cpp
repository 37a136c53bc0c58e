#include "lowbit/reference/torch_ops.hpp"

#include <algorithm>
#include <vector>

namespace lowbit::ref {
namespace {

// ATen's multi_row_sum: `size` rows of 4 units (a unit = `lanes` floats), summed per column into 4
// units through 4 cascade levels of 2^level_power rows each.
void multi_row_sum(const float* in, std::size_t size, int lanes, std::vector<float> out[4]) {
  constexpr int kLevels = 4;
  int ceil_log2 = 1;
  while ((std::size_t{1} << ceil_log2) < size) ++ceil_log2;
  const int level_power = std::max(4, ceil_log2 / kLevels);
  const std::size_t level_step = std::size_t{1} << level_power, level_mask = level_step - 1;
  const std::size_t w = static_cast<std::size_t>(lanes);
  std::vector<float> acc[kLevels][4];
  for (auto& level : acc)
    for (auto& a : level) a.assign(w, 0.0f);
  const auto add_row = [&](std::size_t i) {
    for (int k = 0; k < 4; ++k)
      for (std::size_t l = 0; l < w; ++l) acc[0][k][l] += in[(i * 4 + k) * w + l];
  };
  std::size_t i = 0;
  while (i + level_step <= size) {
    for (std::size_t j = 0; j < level_step; ++j, ++i) add_row(i);
    for (int j = 1; j < kLevels; ++j) {
      for (int k = 0; k < 4; ++k)
        for (std::size_t l = 0; l < w; ++l) {
          acc[j][k][l] += acc[j - 1][k][l];
          acc[j - 1][k][l] = 0;
        }
      if ((i & (level_mask << (j * level_power))) != 0) break;
    }
  }
  for (; i < size; ++i) add_row(i);
  for (int j = 1; j < kLevels; ++j)
    for (int k = 0; k < 4; ++k)
      for (std::size_t l = 0; l < w; ++l) acc[0][k][l] += acc[j][k][l];
  for (int k = 0; k < 4; ++k) out[k] = acc[0][k];
}

// ATen's row_sum: units in groups of 4 through multi_row_sum, leftover units into column 0, then
// columns 1..3 into column 0.
std::vector<float> row_sum(const float* in, std::size_t units, int lanes) {
  std::vector<float> part[4];
  multi_row_sum(in, units / 4, lanes, part);
  const std::size_t w = static_cast<std::size_t>(lanes);
  for (std::size_t i = units / 4 * 4; i < units; ++i)
    for (std::size_t l = 0; l < w; ++l) part[0][l] += in[i * w + l];
  for (int k = 1; k < 4; ++k)
    for (std::size_t l = 0; l < w; ++l) part[0][l] += part[k][l];
  return part[0];
}

}  // namespace

float torch_sum_f32(std::span<const float> x, int lanes) {
  const std::size_t n = x.size(), w = static_cast<std::size_t>(lanes);
  if (lanes <= 1 || n < w) return 0.0f + row_sum(x.data(), n, 1)[0];
  // vectorized_inner_sum: whole vectors through row_sum, then the tail elements in order, then
  // the lanes of the vector sum in order.
  const std::vector<float> v = row_sum(x.data(), n / w, lanes);
  float acc = 0;
  for (std::size_t k = n / w * w; k < n; ++k) acc += x[k];
  for (std::size_t l = 0; l < w; ++l) acc += v[l];
  return 0.0f + acc;  // the output tensor is zero-filled and accumulated into
}

float torch_mean_f32(std::span<const float> x, int lanes) {
  return torch_sum_f32(x, lanes) / static_cast<float>(x.size());
}

}  // namespace lowbit::ref
