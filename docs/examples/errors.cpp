// docs/examples/errors.cpp: every failure is a lowbit::Error with a code.
#include <cstdio>
#include <vector>

#include "lowbit/lowbit.hpp"

int main() {
  const std::vector<float> x(10, 1.0f);
  std::vector<std::uint8_t> codes(9);  // one short
  try {
    lowbit::fp8::encode(std::span<const float>(x), std::span(codes));
  } catch (const lowbit::Error& e) {
    std::printf("%s: %s\n", lowbit::name(e.code()).data(), e.what());  // invalid argument: input has 10 ...
    return e.code() == lowbit::Errc::invalid ? 0 : 1;
  }
  return 1;
}
