// The OWQ / QEFT reference: the group-wise quantizer, the weak-column split, the packed buffers of
// both layouts, their dequantization paths and the QEFT matvec. Plain scalar code to be read
// beside docs/formats/qeft-owq.md; bit for bit with xvyaward/qeft and xvyaward/owq (golden data in
// conformance/golden/{qeft,owq}), except where that page says lowbit deliberately differs.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "lowbit/error.hpp"
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
// lowbit::Error for a shape the layout cannot store (weak::shape_error), bad indices, or
// a weight that is not finite or overflows binary16.
WeakQuantized weak_quantize(weak::Layout layout, std::span<const float> w, std::size_t oc, std::size_t ic,
                            std::span<const std::int32_t> weak, const weak::QuantOptions& o);

// [non-weak ascending] ++ [weak ascending]: QEFT's sparse_to_dense_ids. weak: ascending,
// distinct, < n.
std::vector<std::int32_t> weak_permutation(std::span<const std::int32_t> weak, std::size_t n);

// The code of every element as the packers compute it (oc x ic, layout order): quantized
// columns clamp(round_half_even((fp16(fakeq) + z*s) / s), 0, 2^bits - 1) in fp32, weak columns
// the zero point of their group. `clamped`, if given, receives every element that was clamped.
std::vector<std::uint8_t> weak_codes(const WeakQuantized& q, std::vector<weak::Clamp>* clamped = nullptr);

// ---- QEFT buffers -----------------------------------------------------------------------------------

qeft::Packed qeft_pack(const WeakQuantized& q, std::vector<weak::Clamp>* clamped = nullptr);
// The codes (oc x ic) held in qweight; the inverse of the packing for every bit pattern.
std::vector<std::int16_t> qeft_pack_codes(std::span<const std::uint8_t> codes, std::size_t oc, std::size_t ic);
std::vector<std::uint8_t> qeft_unpack_codes(std::span<const std::int16_t> qweight, std::size_t oc, std::size_t ic);
std::vector<std::uint16_t> qeft_interleave_oweight(std::span<const std::uint16_t> oweight, std::size_t oc, std::size_t k);

// The effective weight (oc x ic, fp32 holding binary16 values) in the layout's column order.
std::vector<float> qeft_dequantize(const qeft::Packed& p, qeft::Path path);

// Checks the sizes of every buffer against (oc, ic, k, group), and outlieridx; throws lowbit::Error.
void qeft_validate(const qeft::Packed& p);

// ---- OWQ buffers ------------------------------------------------------------------------------------

owq::Packed owq_pack(const WeakQuantized& q, std::vector<weak::Clamp>* clamped = nullptr);
std::vector<std::int32_t> owq_pack_codes(std::span<const std::uint8_t> codes, std::size_t oc, std::size_t ic, int bits);
std::vector<std::uint8_t> owq_unpack_codes(std::span<const std::int32_t> qweight, std::size_t oc, std::size_t ic, int bits);

// The effective weight (oc x ic, fp32) in the original column order.
std::vector<float> owq_dequantize(const owq::Packed& p, owq::Path path);

void owq_validate(const owq::Packed& p);

// ---- the QEFT matvec (formats/weak.hpp) -------------------------------------------------------

void qeft_matvec_ref(const qeft::Matrix* w, const float* x, float* y);

}  // namespace lowbit::ref

// The reference row of the kernel list (lowbit/kernels.inc).
namespace lowbit::kernels {
extern const qeft::Impl qeft_reference;
}  // namespace lowbit::kernels
