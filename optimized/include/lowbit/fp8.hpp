// lowbit's public FP8 API: spans in, spans out, an options struct. Runs the fastest kernel this
// CPU has; every kernel is bit-identical to the reference. Throws lowbit::Error on bad arguments.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "lowbit/error.hpp"
#include "lowbit/formats/fp8_kernel.hpp"

namespace lowbit {

struct Fp8Options {
  Fp8Format format = Fp8Format::e4m3;
  std::string_view profile = "ml_dtypes";  // a name from kFp8Profiles
  Rounding rounding = Rounding::rne;
  std::uint64_t seed = 0;    // sr: Philox key
  std::uint64_t index0 = 0;  // sr: stream index of in[0], so chunks of a stream round as the whole
  std::span<const std::uint32_t> random_bits = {};  // sr: one word per element, replaces Philox
  const Fp8Impl* impl = nullptr;                    // null: the best for this CPU
};

void encode(std::span<const float> in, std::span<std::uint8_t> out, const Fp8Options& o = {});
void encode(std::span<const double> in, std::span<std::uint8_t> out, const Fp8Options& o = {});
void encode(std::span<const f16> in, std::span<std::uint8_t> out, const Fp8Options& o = {});
void encode(std::span<const bf16> in, std::span<std::uint8_t> out, const Fp8Options& o = {});

void decode(std::span<const std::uint8_t> in, std::span<float> out, const Fp8Options& o = {});
void decode(std::span<const std::uint8_t> in, std::span<f16> out, const Fp8Options& o = {});
void decode(std::span<const std::uint8_t> in, std::span<bf16> out, const Fp8Options& o = {});

// The profile named in `o`, or Error listing the valid names.
const Fp8Profile& profile_of(const Fp8Options& o);

}  // namespace lowbit
