// lowbit's public QEFT API: the mixed-precision matvec / GEMM on packed QEFT buffers (4-bit
// group-wise part + fp16 weak columns), with the fastest kernel this CPU has, bit-identical to the
// reference. Quantizing and packing are in lowbit/reference/weak.hpp (offline, scalar).
#pragma once
#include <span>

#include "lowbit/error.hpp"
#include "lowbit/formats/weak.hpp"

namespace lowbit::qeft {

// Throws Error unless w describes buffers of a valid QEFT shape (OC % 8, IC % 64, group a
// multiple of 32 dividing IC, k < IC, non-null buffers).
void validate(const qeft::Matrix& w);

// y = W x (y: OC, x: IC in the layout's column order); the order of the fp32 sum is that of
// formats/weak.hpp. impl: null = the best for this CPU.
void matvec(const qeft::Matrix& w, std::span<const float> x, std::span<float> y, const qeft::Impl* impl = nullptr);

// Y = X W^T for `tokens` rows: X tokens x IC, Y tokens x OC, each row one matvec.
void matmul(const qeft::Matrix& w, std::span<const float> x, std::span<float> y, std::size_t tokens,
            const qeft::Impl* impl = nullptr);

}  // namespace lowbit::qeft
