// The GSE-INT implementations of each ISA, listed once in kernels.cpp.
#pragma once
#include "lowbit/formats/gse_kernel.hpp"

namespace lowbit {
namespace avx2 {
extern const GseImpl kGseAvx2;
extern const GseGemmImpl kGseGemmAvx2;
}  // namespace avx2
namespace neon {
extern const GseImpl kGseNeon;
extern const GseGemmImpl kGseGemmNeon;
}  // namespace neon
}  // namespace lowbit
