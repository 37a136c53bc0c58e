// The NF4/FP4 implementations of each ISA, listed once in kernels.cpp.
#pragma once
#include "lowbit/formats/nf4_kernel.hpp"

namespace lowbit {
namespace avx2 { extern const Nf4Impl kNf4Avx2; }
namespace neon { extern const Nf4Impl kNf4Neon; }
}  // namespace lowbit
