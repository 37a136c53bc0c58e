// lowbit::fp8, the public API of the minifloat family (fp8::Format: FP8, FP6, FP4, E8M0, P3109): spans in,
// spans out, an Options struct with
// defaults. Runs the fastest kernel this CPU has (every kernel is bit-identical to the reference);
// throws lowbit::Error on bad arguments. The verbs (docs/api.md, "The verbs"):
//   encode    values -> codes (one byte per element)
//   decode    codes -> values
//   quantize  encode then decode: each value -> the nearest representable one (fake quantization)
//   pack      codes (one byte each) -> packed storage (FP4 two per byte, FP6 four per three bytes)
//   unpack    packed storage -> codes
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "lowbit/error.hpp"
#include "lowbit/formats/fp8.hpp"
#include "lowbit/formats/packing.hpp"

namespace lowbit::fp8 {

// The profile called `name` (kProfiles: "ml_dtypes", "ml_dtypes-sat", "llvm", "cuda-nosat",
// "cuda-satfinite"), or Error listing the valid names. Every call throws Error for a profile that does
// not apply to the format (Profile::formats).
const Profile& profile(std::string_view name);
// The profile a call on `format` uses when `p` is asked for (resolve_profile: the default stands for the
// format's own), or Error naming the profiles that apply to the format.
const Profile& profile_for(const Profile& p, Format format);

struct Options {
  Format format = Format::e4m3;
  // Peer semantics, resolved once: o.profile = fp8::profile("cuda-satfinite"). A profile must apply to
  // the format (Profile::formats), else Error; the default, ml_dtypes, means the format's default
  // profile for formats ml_dtypes lacks (P3109: p3109).
  Profile profile = default_profile();
  Rounding rounding = Rounding::rne;    // encode: rne, rna, rtz or sr
  std::uint64_t seed = 0;               // sr: the Philox-4x32-10 key
  std::uint64_t index0 = 0;             // sr: stream index of in[0], so that chunks round as the whole
  std::span<const std::uint32_t> random_bits = {};  // sr: one word per element, instead of Philox
  const Impl* impl = nullptr;                       // a row of kernels::list<fp8::Impl>(); null: the fastest
};

// out.size() == in.size().
void encode(std::span<const float> in, std::span<std::uint8_t> out, const Options& o = {});
void encode(std::span<const double> in, std::span<std::uint8_t> out, const Options& o = {});
void encode(std::span<const f16> in, std::span<std::uint8_t> out, const Options& o = {});
void encode(std::span<const bf16> in, std::span<std::uint8_t> out, const Options& o = {});
std::vector<std::uint8_t> encode(std::span<const float> in, const Options& o = {});
std::vector<std::uint8_t> encode(std::span<const double> in, const Options& o = {});
std::vector<std::uint8_t> encode(std::span<const f16> in, const Options& o = {});
std::vector<std::uint8_t> encode(std::span<const bf16> in, const Options& o = {});

// Every value is exact in f32, f16 and bf16; NaN codes decode as the profile says. A sub-byte format's
// code is the low bits of its byte (FP6: 6, FP4: 4): a byte with a higher bit set is an Error.
void decode(std::span<const std::uint8_t> in, std::span<float> out, const Options& o = {});
void decode(std::span<const std::uint8_t> in, std::span<f16> out, const Options& o = {});
void decode(std::span<const std::uint8_t> in, std::span<bf16> out, const Options& o = {});
// Out: float, f16 or bf16.
template <class Out = float> std::vector<Out> decode(std::span<const std::uint8_t> in, const Options& o = {});

// out.size() == in.size(); in and out may be the same buffer.
void quantize(std::span<const float> in, std::span<float> out, const Options& o = {});
void quantize(std::span<const f16> in, std::span<f16> out, const Options& o = {});
void quantize(std::span<const bf16> in, std::span<bf16> out, const Options& o = {});
std::vector<float> quantize(std::span<const float> in, const Options& o = {});
std::vector<f16> quantize(std::span<const f16> in, const Options& o = {});
std::vector<bf16> quantize(std::span<const bf16> in, const Options& o = {});

// Packed storage (lowbit/formats/packing.hpp; an 8-bit format packs to itself). pack: every code
// below 2^width (else Error, Errc::data), out.size() == packed_size(format, codes.size()). unpack:
// in.size() == packed_size(format, codes.size()) (else Error), padding bits zero (else Errc::data).
void pack(std::span<const std::uint8_t> codes, std::span<std::uint8_t> out, Format format);
std::vector<std::uint8_t> pack(std::span<const std::uint8_t> codes, Format format);
void unpack(std::span<const std::uint8_t> in, std::span<std::uint8_t> codes, Format format);
std::vector<std::uint8_t> unpack(std::span<const std::uint8_t> in, std::size_t n, Format format);

}  // namespace lowbit::fp8
