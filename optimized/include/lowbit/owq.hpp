// lowbit::owq, the public OWQ API: a linear layer W (OC x IC) whose k weak input columns stay in
// fp16 (oweight), in their original place, while the rest is quantized per output channel to 3 or
// 4 bits (docs/formats/qeft-owq.md). Offline scalar code, the reference's, bit for bit with
// xvyaward/owq; throws lowbit::Error. The verbs (docs/api.md, "The verbs"):
//   encode    f32 weight + weak column indices -> the packed buffers (Packed)
//   decode    packed buffers -> the effective f32 weight of a kernel path
//   quantize  encode then decode (fake quantization)
//   pack / unpack   3- or 4-bit codes (OC x IC, one per byte) <-> qweight
// Choosing the weak columns is the same as QEFT's (lowbit/weak.hpp, brought in here).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "lowbit/error.hpp"
#include "lowbit/formats/weak.hpp"
#include "lowbit/weak.hpp"

namespace lowbit::owq {

using weak::Clamp;
using weak::Tuning;

struct Options {
  int bits = 4;                 // 4 or 3
  int group = 0;                // OWQ quantizes per output channel: 0 only
  bool sym = false;             // symmetric quantizer: codes -2^(b-1)..2^(b-1)-1 stored with the zero point 2^(b-1)
  Tuning tuning = Tuning::mse;  // the repos' default: search the clip range; minmax: the row's range
  int grid = 0;                 // mse: clip ranges searched; 0 = the repo's 100
  Path path = Path::fp16;       // decode: the kernel path whose effective weight to compute
};

// w: oc x ic row-major; weak_columns: ascending, distinct, < ic. Shapes: OC even, IC % 32 == 0,
// k < IC; the weight must be finite in binary16. `clamped`, if given, receives the codes the
// reference packer would write out of range (lowbit clamps them).
Packed encode(std::size_t oc, std::size_t ic, std::span<const float> w, std::span<const std::int32_t> weak_columns,
              const Options& o = {}, std::vector<Clamp>* clamped = nullptr);

// The effective weight (OC x IC, f32, original column order) that kernel path o.path computes
// with. out.size() == OC x IC.
void decode(const Packed& p, std::span<float> out, const Options& o = {});
std::vector<float> decode(const Packed& p, const Options& o = {});

// decode(encode(...)): out.size() == w.size(); in and out may be the same buffer.
void quantize(std::size_t oc, std::size_t ic, std::span<const float> w, std::span<const std::int32_t> weak_columns,
              std::span<float> out, const Options& o = {});
std::vector<float> quantize(std::size_t oc, std::size_t ic, std::span<const float> w,
                            std::span<const std::int32_t> weak_columns, const Options& o = {});

// codes: OC x IC, one code below 2^o.bits per byte (Errc::data otherwise); qweight: IC/32*bits x OC.
void pack(std::size_t oc, std::size_t ic, std::span<const std::uint8_t> codes, std::span<std::int32_t> qweight,
          const Options& o = {});
std::vector<std::int32_t> pack(std::size_t oc, std::size_t ic, std::span<const std::uint8_t> codes, const Options& o = {});
void unpack(std::size_t oc, std::size_t ic, std::span<const std::int32_t> qweight, std::span<std::uint8_t> codes,
            const Options& o = {});
std::vector<std::uint8_t> unpack(std::size_t oc, std::size_t ic, std::span<const std::int32_t> qweight,
                                 const Options& o = {});

// Error unless every buffer has the size (OC, IC, k, bits) need and outlieridx is ascending,
// distinct and below IC.
void validate(const Packed& p);

// ---- weak-column selection (lowbit/weak.hpp) -----------------------------------------------------

using weak::apply_frob_norm;
using weak::frob_error;
using weak::sensitivity;
using weak::topk;

}  // namespace lowbit::owq
