// Building a generator's case list: f32 bit patterns with a class each (K, an enum of u1 values).
#pragma once
#include <cstdint>

#include "lowbit/conformance/cases.hpp"
#include "lowbit/conformance/golden_gen.hpp"

namespace lowbit::conformance {

template <class K> struct CaseList {
  Fp8Cases c;
  void add(std::uint32_t b, K k) {
    c.inputs.push_back(b);
    c.classes.push_back(static_cast<std::uint8_t>(k));
  }
  void both(std::uint32_t b, K k) {  // +x and -x
    add(b & ~kF32Sign, k);
    add(b | kF32Sign, k);
  }
  void both(float x, K k) { both(f32_bits(x), k); }
  void near(float x, K k) {  // one f32 ulp either side of x > 0
    both(f32_bits(x) - 1, k);
    both(f32_bits(x) + 1, k);
  }
};

}  // namespace lowbit::conformance
