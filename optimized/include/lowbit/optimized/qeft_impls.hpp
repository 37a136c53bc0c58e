// The QEFT matvec implementations of each ISA, listed once in kernels.cpp.
#pragma once
#include "lowbit/formats/weak_kernel.hpp"

namespace lowbit {
namespace avx2 { extern const QeftImpl kQeftAvx2; }
namespace neon { extern const QeftImpl kQeftNeon; }
}  // namespace lowbit
