// The kernel table: every FP8 implementation compiled into this build, in one list that drives
// dispatch, the conformance suite, the tests and the benchmarks.
#pragma once
#include <span>
#include <string_view>

#include "lowbit/formats/fp8_kernel.hpp"

namespace lowbit {

// Reference first, then the SIMD implementations of this build's ISA (issue: FP8 optimized).
std::span<const Fp8Impl> fp8_impls();

// The fastest implementation this CPU runs; chosen once.
const Fp8Impl& fp8_best();

const Fp8Impl* find_fp8_impl(std::string_view name);

// An operation of `impl`, or the reference's where `impl` leaves it out.
template <class In> Fp8EncodeFn<In> encode_kernel(const Fp8Impl& impl);
template <class Out> Fp8DecodeFn<Out> decode_kernel(const Fp8Impl& impl);

}  // namespace lowbit
