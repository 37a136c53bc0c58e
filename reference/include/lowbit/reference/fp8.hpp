// The FP8 reference codec: plain scalar code, one element at a time, to be read beside
// docs/formats/fp8.md. It is the oracle every other implementation is checked against.
#pragma once
#include <cstdint>

#include "lowbit/formats/fp8.hpp"

namespace lowbit::ref {

// The stochastic-rounding word of element i (0 .. n-1) of a call.
std::uint32_t sr_word(const fp8::EncodeParams& p, std::size_t i);

template <class T> std::uint8_t fp8_encode(T x, const fp8::EncodeParams& p, std::uint32_t random);
template <class T> T fp8_decode(std::uint8_t code, const fp8::DecodeParams& p);

// Kernel-table entry points (the fp8::EncodeFn / fp8::DecodeFn signatures).
template <class T>
void fp8_encode_ref(std::size_t n, const T* in, std::uint8_t* out, const fp8::EncodeParams* p);
template <class T>
void fp8_decode_ref(std::size_t n, const std::uint8_t* in, T* out, const fp8::DecodeParams* p);


}  // namespace lowbit::ref

// The reference row of the kernel list (lowbit/kernels.inc).
namespace lowbit::kernels {
extern const fp8::Impl fp8_reference;
}  // namespace lowbit::kernels
