// Encodes and decodes a few FP8 values through lowbit built as a subproject.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "lowbit/fp8.hpp"

int main() {
  const std::vector<float> x{1.0f, -2.0f, 57344.0f, 0.0f, 0.25f};
  const std::vector<std::uint8_t> want{0x3C, 0xC0, 0x7B, 0x00, 0x34};  // E5M2
  lowbit::fp8::Options o;
  o.format = lowbit::fp8::Format::e5m2;
  std::vector<std::uint8_t> codes(x.size());
  std::vector<float> back(x.size());
  lowbit::fp8::encode(std::span<const float>(x), std::span(codes), o);
  lowbit::fp8::decode(std::span<const std::uint8_t>(codes), std::span(back), o);
  if (codes != want || back != x) {
    std::fprintf(stderr, "add_subdirectory consumer: wrong FP8 round trip\n");
    return 1;
  }
  std::printf("add_subdirectory consumer: OK\n");
  return 0;
}
