// Exhaustive sweeps of the f32 input space, in parallel, delivered in input order.
#pragma once
#include <cstdint>
#include <functional>
#include <span>

#include "lowbit/formats/fp8.hpp"

namespace lowbit::conformance {

using SweepSink = std::function<void(std::uint64_t first_input, std::span<const std::uint8_t> out)>;

// Encodes the f32 bit patterns [begin, end) with `fn` on `threads` threads; `sink` receives the
// outputs chunk by chunk in increasing input order. Element index = input bit pattern, so
// stochastic rounding gives the same stream however it is sharded. An exception `fn` throws on any
// thread is rethrown on the calling thread.
void sweep_f32(fp8::EncodeFn<float> fn, const fp8::EncodeParams& p, std::uint64_t begin,
               std::uint64_t end, unsigned threads, const SweepSink& sink);

unsigned default_threads();

}  // namespace lowbit::conformance
