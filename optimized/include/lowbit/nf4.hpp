// lowbit::nf4, the public API of NF4 and bitsandbytes' FP4 (4-bit blockwise formats), with the
// double quantization of QLoRA: spans in, spans out, an Options struct with defaults; the fastest
// kernel this CPU has, bit-identical to the reference; throws lowbit::Error. Storage is
// bitsandbytes': two codes per byte (element 2j in the high nibble of byte j), one fp32 absmax per
// block (docs/formats/nf4.md). The verbs are those of every family (docs/api.md, "The verbs"):
//   encode    values -> packed codes + absmax
//   decode    packed codes + absmax -> values
//   quantize  encode then decode (fake quantization)
// and, for the absmax array of an encode, double quantization (double_quantize) and its inverse.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "lowbit/error.hpp"
#include "lowbit/formats/nf4.hpp"

namespace lowbit::nf4 {

// The profile called `name` ("lowbit", "bnb-cuda", "bnb-cpu", "bnb-torch"), or Error listing them.
const Profile& profile(std::string_view name);

struct Options {
  Table table = Table::nf4;
  Profile profile = default_profile();  // peer semantics, resolved once: o.profile = nf4::profile("bnb-cpu")
  int block = kDefaultBlock;            // elements per absmax: a power of two in 32..4096
  const Impl* impl = nullptr;           // a row of kernels::list<nf4::Impl>(); null: the fastest
};

// packed.size() == packed_bytes(n), absmax.size() == blocks(n, o.block) for n = in.size().
void encode(std::span<const float> in, std::span<std::uint8_t> packed, std::span<float> absmax, const Options& o = {});
struct Encoded {
  std::vector<std::uint8_t> packed;  // packed_bytes(n)
  std::vector<float> absmax;         // blocks(n, block)
};
Encoded encode(std::span<const float> in, const Options& o = {});

// out.size() == n, the element count (packed has packed_bytes(n) bytes).
void decode(std::span<const std::uint8_t> packed, std::span<const float> absmax, std::span<float> out,
            const Options& o = {});
std::vector<float> decode(std::span<const std::uint8_t> packed, std::span<const float> absmax, std::size_t n,
                          const Options& o = {});

// out.size() == in.size(); in and out may be the same buffer.
void quantize(std::span<const float> in, std::span<float> out, const Options& o = {});
std::vector<float> quantize(std::span<const float> in, const Options& o = {});

Params params(const Options& o);  // the kernel parameters, validated (or Error)

// ---- double quantization (QLoRA; bitsandbytes' compress_statistics=True) ---------------------------

// bitsandbytes' create_dynamic_map(signed=True) as torch's CPU kernels compute it: `lanes`-wide
// vectors (8: AVX2 and the default build, 16: AVX-512, 1: element by element), the per-index
// formula fused or not. The default is the map of the golden checkpoints (docs/formats/nf4.md
// section 6). A reader uses the map a checkpoint stores instead of building one.
DynamicMap dynamic_map(int lanes = 8, bool fused = true);

struct DoubleQuantOptions {
  std::optional<float> offset = {};    // subtracted from every absmax first; default: torch's fp32 mean of absmax
  std::optional<DynamicMap> map = {};  // the 8-bit code map: finite, within [-1, 1], non-decreasing; default: dynamic_map()
};

// The absmax of an encode, double quantized with the nested quantizer of o.profile (the profile's
// `nested`: the default profile's is an exact nearest search, about 2 ns per value with AVX2, by
// o.impl's row: the reference row's is the reference's, about 4 us): 8-bit codes
// of fl(absmax - offset) in blocks of kNestedBlock, one fp32 nested absmax per block.
DoubleQuantized double_quantize(std::span<const float> absmax, const Options& o = {}, const DoubleQuantOptions& dq = {});

// absmax[i] = fl(fl(map[codes[i]] * nested_absmax[i / nested_block]) + offset), the same for every
// profile. absmax.size() == q.codes.size(); nested_block must be kNestedBlock (Errc::unsupported).
void double_dequantize(const DoubleQuantized& q, std::span<float> absmax);
std::vector<float> double_dequantize(const DoubleQuantized& q);

}  // namespace lowbit::nf4
