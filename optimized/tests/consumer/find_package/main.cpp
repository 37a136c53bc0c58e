// Encodes and decodes a few FP8 values through the installed lowbit (C++ API and C API).
#include <cstdint>
#include <cstdio>
#include <vector>

#include "lowbit/c_api.h"
#include "lowbit/fp8.hpp"

int main() {
  const std::vector<float> x{1.0f, -2.0f, 448.0f, 0.0f, 0.001953125f};
  const std::vector<std::uint8_t> want{0x38, 0xC0, 0x7E, 0x00, 0x01};  // E4M3, ml_dtypes
  std::vector<std::uint8_t> codes(x.size());
  std::vector<float> back(x.size());
  lowbit::fp8::encode(std::span<const float>(x), std::span(codes));
  lowbit::fp8::decode(std::span<const std::uint8_t>(codes), std::span(back));
  if (codes != want || back != x) {
    std::fprintf(stderr, "find_package consumer: wrong FP8 round trip\n");
    return 1;
  }
  try {
    lowbit::fp8::profile("no-such-profile");
    return 1;
  } catch (const lowbit::Error&) {
  }
  std::uint8_t c = 0;
  const float one = 1.0f;
  if (lowbit_version() != LOWBIT_VERSION || lowbit_fp8_encode_f32(1, &one, &c, 1, nullptr) != LOWBIT_OK || c != 0x38) {
    std::fprintf(stderr, "find_package consumer: C API failed: %s\n", lowbit_last_error());
    return 1;
  }
  std::printf("find_package consumer: lowbit %s OK\n", lowbit_version_string());
  return 0;
}
