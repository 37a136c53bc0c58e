// lowbit::qeft, the public QEFT API: a linear layer W (OC x IC) whose k weak input columns stay in
// fp16, stored last, while the rest is quantized group-wise to 4 bits (docs/formats/qeft-owq.md).
// The offline verbs (encode, decode, quantize, pack, unpack, the choice of weak columns and the
// reordering of a model) are the reference's scalar code, bit for bit with xvyaward/qeft; matvec
// and matmul run the fastest kernel this CPU has, bit-identical to the reference. Throws
// lowbit::Error. The verbs (docs/api.md, "The verbs"):
//   encode    f32 weight + weak column indices -> the packed buffers (Packed)
//   decode    packed buffers -> the effective f32 weight of a kernel path
//   quantize  encode then decode (fake quantization)
//   pack / unpack   4-bit codes (OC x IC, one per byte) <-> qweight
//   matvec / matmul   y = W x on the packed buffers
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "lowbit/error.hpp"
#include "lowbit/formats/weak.hpp"
#include "lowbit/weak.hpp"

namespace lowbit::qeft {

using weak::Clamp;
using weak::Order;
using weak::Tuning;

struct Options {
  int bits = 4;                   // QEFT stores 4-bit codes only
  int group = 128;                // input columns per group: a multiple of 32 dividing IC; 0 = one group per row
  bool sym = false;               // symmetric quantizer: codes -8..7 stored with the zero point 8
  Tuning tuning = Tuning::mse;    // the repos' default: search the clip range; minmax: the group's range
  int grid = 0;                   // mse: clip ranges searched; 0 = the repo's (1 grouped, 100 per channel)
  Path path = Path::gemv;         // decode: the kernel path whose effective weight to compute
  Order order = Order::original;  // decode: the column order of the result
};

// w: oc x ic row-major in the original column order; weak_columns: ascending, distinct, < ic.
// Shapes: OC % 8 == 0, IC % 64 == 0, k < IC; the weight must be finite in binary16. `clamped`, if
// given, receives the codes the reference packer would write out of range (lowbit clamps them).
Packed encode(std::size_t oc, std::size_t ic, std::span<const float> w, std::span<const std::int32_t> weak_columns,
              const Options& o = {}, std::vector<Clamp>* clamped = nullptr);

// The effective weight (OC x IC, binary16 values in f32) that kernel path o.path computes with, in
// column order o.order. out.size() == OC x IC.
void decode(const Packed& p, std::span<float> out, const Options& o = {});
std::vector<float> decode(const Packed& p, const Options& o = {});

// decode(encode(...)): out.size() == w.size(); in and out may be the same buffer.
void quantize(std::size_t oc, std::size_t ic, std::span<const float> w, std::span<const std::int32_t> weak_columns,
              std::span<float> out, const Options& o = {});
std::vector<float> quantize(std::size_t oc, std::size_t ic, std::span<const float> w,
                            std::span<const std::int32_t> weak_columns, const Options& o = {});

// codes: OC x IC in stored order, one code 0..15 per byte (Errc::data otherwise); qweight: OC/4 x IC.
void pack(std::size_t oc, std::size_t ic, std::span<const std::uint8_t> codes, std::span<std::int16_t> qweight);
std::vector<std::int16_t> pack(std::size_t oc, std::size_t ic, std::span<const std::uint8_t> codes);
void unpack(std::size_t oc, std::size_t ic, std::span<const std::int16_t> qweight, std::span<std::uint8_t> codes);
std::vector<std::uint8_t> unpack(std::size_t oc, std::size_t ic, std::span<const std::int16_t> qweight);

// Error unless the buffers have a valid QEFT shape (OC % 8, IC % 64, group a multiple of 32
// dividing IC, k < IC, non-null; for Packed also every size, outlieridx and the interleaving).
void validate(const Matrix& w);
void validate(const Packed& p);

// y = W x (y: OC, x: IC in stored column order); the order of the fp32 sum is that of
// formats/weak.hpp. impl: a row of kernels::list<qeft::Impl>(); null = the fastest.
void matvec(const Matrix& w, std::span<const float> x, std::span<float> y, const Impl* impl = nullptr);

// Y = X W^T for `tokens` rows: X tokens x IC, Y tokens x OC, each row one matvec.
void matmul(const Matrix& w, std::span<const float> x, std::span<float> y, std::size_t tokens, const Impl* impl = nullptr);

// ---- weak-column selection (lowbit/weak.hpp) and OGR ---------------------------------------------

using weak::apply_frob_norm;
using weak::frob_error;
using weak::permutation;
using weak::sensitivity;
using weak::topk;

// QEFT's global index (OGR): scores over the sensitivities of the layers that read the residual
// stream (all of length d, per block in the order q, k, v, up, gate), each divided by its fp32
// mean and summed in fp32; ogr_global is topk(ogr_scores(...), k). Every layer's mean must be a
// positive finite number; per_layer_topk needs k < d.
std::vector<float> ogr_scores(std::span<const std::vector<float>> lambdas, std::size_t k, OgrVariant v = OgrVariant::qeft);
std::vector<std::int32_t> ogr_global(std::span<const std::vector<float>> lambdas, std::size_t k,
                                     OgrVariant v = OgrVariant::qeft);

// The model with every weak column last, computing the same function (reorder.py): the residual
// stream permuted by plan.global, each MLP's inner dimension by down_weak[b], o_proj's input by
// o_weak[b] through the run-time gather o_gather (its per-head layout cannot be permuted offline).
DecoderModel reorder_model(const DecoderModel& m, const WeakPlan& plan);

}  // namespace lowbit::qeft
