// The FP8 implementations of each ISA, listed once in kernels.cpp.
#pragma once
#include "lowbit/formats/fp8_kernel.hpp"

namespace lowbit {
namespace avx2 { extern const Fp8Impl kFp8Avx2; }
namespace neon { extern const Fp8Impl kFp8Neon; }
}  // namespace lowbit
