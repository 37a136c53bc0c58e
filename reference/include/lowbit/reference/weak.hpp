// The OWQ / QEFT reference: the group-wise quantizer, the weak-column split, the packed buffers of
// both layouts, their dequantization paths and the QEFT matvec. Plain scalar code to be read
// beside docs/formats/qeft-owq.md; bit for bit with xvyaward/qeft and xvyaward/owq (golden data in
// conformance/golden/{qeft,owq}), except where that page says lowbit deliberately differs.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "lowbit/formats/weak.hpp"
#include "lowbit/formats/weak.hpp"

namespace lowbit::ref {

// ---- fp16 arithmetic of the kernels -----------------------------------------------------------------

float f16_to_f32(std::uint16_t bits);
std::uint16_t f32_to_f16(float x);  // round to nearest even, subnormals kept, Inf on overflow
// a * b + c rounded once to binary16 (CUDA __hfma2) for binary16 b, c and an integer code a.
std::uint16_t fma_f16(int a, std::uint16_t b, std::uint16_t c);

// ---- the quantizer (Quantizer.find_params / quantize, per channel, weight=True) ---------------------

struct WeakGroupParams {
  float scale, zero;  // fp32, as the quantizer holds them (the sign of a zero zero point included)
};

// Parameters of one group of one output row, by o.tuning with o.grid clip ranges.
WeakGroupParams weak_find_params(std::span<const float> x, const weak::QuantOptions& o);
// scale * (clamp(round_half_even(x / scale) + zero, minq, maxq) - zero), all fp32.
float weak_fake_quant(float x, WeakGroupParams p, const weak::QuantOptions& o);

// A layer after quantization, before packing (the reference's intermediate state).
struct WeakQuantized {
  weak::Layout layout{};
  weak::QuantOptions options{};
  std::size_t oc = 0, ic = 0, k = 0;
  std::vector<std::int32_t> weak;   // the weak columns, ascending original indices
  std::vector<std::int32_t> perm;   // layout column j = original column perm[j] (OWQ: identity)
  std::size_t groups = 0;           // stored groups per row (weak::groups)
  std::vector<float> scale, zero;   // oc x groups, fp32
  std::vector<float> fakeq;         // oc x ic, layout order: quantized columns s*(q - z), weak columns w
};

// w: oc x ic row-major, original column order; weak: ascending, distinct, < ic. Throws
// std::invalid_argument for a shape the layout cannot store (weak::shape_error), bad indices, or
// a weight that is not finite or overflows binary16.
WeakQuantized weak_quantize(weak::Layout layout, std::span<const float> w, std::size_t oc, std::size_t ic,
                            std::span<const std::int32_t> weak, const weak::QuantOptions& o);

// [non-weak ascending] ++ [weak ascending]: QEFT's sparse_to_dense_ids.
std::vector<std::int32_t> weak_permutation(std::span<const std::int32_t> weak, std::size_t n);

// An element whose code the reference packer writes out of range (it does not clamp, so the
// value spills into its neighbours' bits); lowbit stores the clamped code.
struct WeakClamp {
  std::size_t row, col;  // layout order
  double code;           // round_half_even((fp16(Q) + z*s) / s) before the clamp
};

// The code of every element as the packers compute it (oc x ic, layout order): quantized
// columns clamp(round_half_even((fp16(fakeq) + z*s) / s), 0, 2^bits - 1) in fp32, weak columns
// the zero point of their group. `clamped`, if given, receives every element that was clamped.
std::vector<std::uint8_t> weak_codes(const WeakQuantized& q, std::vector<WeakClamp>* clamped = nullptr);

// ---- QEFT buffers -----------------------------------------------------------------------------------

struct QeftPacked {
  std::size_t oc = 0, ic = 0, k = 0, group = 0;  // group: columns per group (ic for per channel)
  std::vector<std::int16_t> qweight;              // oc/4 x ic
  std::vector<std::uint16_t> scales, scaled_zeros;  // ic/group x oc (binary16)
  std::vector<std::uint16_t> oweight;             // oc x k (binary16)
  std::vector<std::uint16_t> oweight_interleaved; // oc/2 x 2k (binary16)
  std::vector<std::int32_t> outlieridx;           // k

  qeft::Matrix view() const;
};

QeftPacked qeft_pack(const WeakQuantized& q, std::vector<WeakClamp>* clamped = nullptr);
// The codes (oc x ic) held in qweight; the inverse of the packing for every bit pattern.
std::vector<std::int16_t> qeft_pack_codes(std::span<const std::uint8_t> codes, std::size_t oc, std::size_t ic);
std::vector<std::uint8_t> qeft_unpack_codes(std::span<const std::int16_t> qweight, std::size_t oc, std::size_t ic);
std::vector<std::uint16_t> qeft_interleave_oweight(std::span<const std::uint16_t> oweight, std::size_t oc, std::size_t k);

enum class QeftPath : std::uint8_t {
  gemv,    // gemv_4bit_qeft (< 8 tokens): weak columns are oweight
  nowc,    // the 4-bit part alone on every column (gemm_4bit's B operand; weak columns = the zero code)
};
// The effective weight (oc x ic, fp32 holding binary16 values) in the layout's column order.
std::vector<float> qeft_dequantize(const QeftPacked& p, QeftPath path);

// Checks the sizes of every buffer against (oc, ic, k, group); throws std::invalid_argument.
void qeft_validate(const QeftPacked& p);

// ---- OWQ buffers ------------------------------------------------------------------------------------

struct OwqPacked {
  std::size_t oc = 0, ic = 0, k = 0;
  int bits = 4;
  std::vector<std::int32_t> qweight;   // ic/32*bits x oc, packed along ic
  std::vector<std::uint16_t> scales;   // oc x 1 (binary16)
  std::vector<std::uint8_t> zeros;     // oc/2 x 1: z[2p] | z[2p+1] << 4
  std::vector<std::uint16_t> oweight;  // k x oc (binary16)
  std::vector<std::int32_t> outlieridx;  // k, ascending original indices
};

OwqPacked owq_pack(const WeakQuantized& q, std::vector<WeakClamp>* clamped = nullptr);
std::vector<std::int32_t> owq_pack_codes(std::span<const std::uint8_t> codes, std::size_t oc, std::size_t ic, int bits);
std::vector<std::uint8_t> owq_unpack_codes(std::span<const std::int32_t> qweight, std::size_t oc, std::size_t ic, int bits);

enum class OwqPath : std::uint8_t {
  fp16,  // matquant{3,4}dequant_faster (fp16), weak columns overwritten by oweight (golden deq)
  fp32,  // matquant{3,4}dequant (fp32 kernel, main.py's default), weak columns float(oweight) (deq_fp32k)
  nowc,  // the fp16 kernel before the overwrite (weak columns = the zero code)
};
// The effective weight (oc x ic, fp32) in the original column order.
std::vector<float> owq_dequantize(const OwqPacked& p, OwqPath path);

void owq_validate(const OwqPacked& p);

// ---- the QEFT matvec (formats/weak.hpp) -------------------------------------------------------

void qeft_matvec_ref(const qeft::Matrix* w, const float* x, float* y);

}  // namespace lowbit::ref

// The reference row of the kernel list (lowbit/kernels.inc).
namespace lowbit::kernels {
extern const qeft::Impl qeft_reference;
}  // namespace lowbit::kernels
