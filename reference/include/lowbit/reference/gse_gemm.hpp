// The GSE-INT GEMM reference: C = A B^T with integer products inside each group, read beside
// docs/formats/gse.md "GEMM".
#pragma once
#include "lowbit/formats/gse.hpp"

namespace lowbit::ref {

// False if a code of A or B lies outside +-(2^(b-1) - 1) (gse::GemmFn).
bool gse_gemm_ref(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, const std::uint8_t* a_exps,
                  const std::int8_t* b, const std::uint8_t* b_exps, float* c, const gse::GemmParams* p);


}  // namespace lowbit::ref

// The reference row of the kernel list (lowbit/kernels.inc).
namespace lowbit::kernels {
extern const gse::GemmImpl gse_gemm_reference;
}  // namespace lowbit::kernels
