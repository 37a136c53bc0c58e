// What the gradient validations share (internal to conformance/training/src): the result record,
// the seeded LoRA inputs, the layers under test with their negative controls, column gathers, ulp
// distances, the rounding-error comparison and the exact matmul oracle.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "lowbit/training/layers.hpp"
#include "lowbit/training/validation.hpp"

namespace lowbit::training::detail {

// passed = error <= bound, so a NaN error or bound fails.
ValidationResult result(std::string name, std::string config, double error, double bound, std::size_t cases,
                        std::string detail);

// The larger of two metrics, NaN if either is (std::max(a, NaN) is a: a NaN would vanish).
double worse(double a, double b);
// +Inf if any entry of m is NaN or Inf: no check may pass a non-finite gradient or output.
double non_finite(const Matrix& m);

// x ~ N(0, 1); W, A ~ N(0, 1/IC) (Kaiming-like); B ~ N(0, 0.05^2) (a trained B: at initialisation it
// is 0, which would zero dA and half of dx); g ~ N(0, 1e-12) (gradients sit far below 1, where the
// GSE exponent offset matters); alpha = 1.5 r, so s = 1.5 is not a power of two.
struct LoraCase {
  Matrix x, w, a, b, g;
  float alpha;
};
LoraCase lora_case(std::size_t t, std::size_t ic, std::size_t oc, std::size_t r, std::uint64_t seed);

Matrix scaled(Matrix m, float s);  // fl(s * m) elementwise, as LoraLinear::backward forms g_s
Matrix absolute(Matrix m);
// out(:, j) = m(:, idx[j]).
Matrix gather_columns(const Matrix& m, std::span<const std::int32_t> idx);
std::vector<std::int32_t> inverse(std::span<const std::int32_t> perm);

// A layer under test, or the deliberately broken variant a negative control asks for (the broken
// variants of a LoraLinear go through its LoraMatmul seam):
//   transposed_gradient  dA computed as x^T g_h (IC x r) and read back as r x IC
//   nan_gradient         one NaN in dB
//   dropped_lora_scale   the layer built with alpha = r, so s = 1
// Every other mutant leaves the layer as it is.
LoraLinear lora_layer(const LoraCase& c, const LoraConfig& cfg, Mutant m = Mutant::none);
// The transpose of m's values, read back in m's shape (m.rows x m.cols).
Matrix transposed_reading(const Matrix& m);

// WeakColumnLinear's weights read from the packed buffers, independently of the layer: W4 (the
// nowc dequantization, OC x IC) and O (oweight, OC x k).
struct WeakModel {
  Matrix w4, o;
};
WeakModel weak_model(const qeft::Packed& p);
// A QEFT layer (4-bit, groups of 64, minmax) of the OC x IC weight w with the given weak columns.
qeft::Packed qeft_layer(const Matrix& w, std::span<const std::int32_t> weak);
// A WeakColumnLinear run: qeft_test_layer(oc, ic, weak, seed), x ~ N(0, 1) (T x IC, seed + 1), g ~
// N(0, 1e-12) (T x OC, seed + 2), the model read from the packed buffers, and backward(g) after
// forward(x), or a broken backward a negative control asks for:
//   wrong_weak_columns   dO = g^T x[:, :k], the first k inputs instead of the last
//   transposed_gradient  dO computed as x_w^T g (k x OC) and read back as OC x k
//   nan_gradient         one NaN in dx (in the first weak column, where g O is added)
struct WeakRun {
  Matrix x, g;
  WeakModel model;
  WeakGrads d;
};
WeakRun weak_run(std::size_t t, std::size_t oc, std::size_t ic, std::span<const std::int32_t> weak, std::uint64_t seed,
                 Mutant m);

// An fp32 value reached through n roundings differs from the exact one by at most gamma_n = n u /
// (1 - n u), u = 2^-24, times the same formula evaluated on |.| (Higham, Accuracy and Stability,
// Thm 3.5 and Sec. 3.1). One result: the largest error[i] / magnitude[i] (0 where the error is 0),
// bound gamma_n. A NaN error, or a NaN or Inf magnitude, fails it.
ValidationResult within_gamma(std::string name, std::string config, std::span<const double> error, const Matrix& magnitude,
                              std::size_t n, std::string detail);

// Distance in units in the last place; any two different bit patterns (+0 and -0 included) are at
// least 1 apart, so 0 means bit for bit; +Inf if a value of either is not finite.
double max_ulps(const Matrix& a, const Matrix& b);
// One result: the largest max_ulps over the pairs, bound 0.
ValidationResult bitwise(std::string name, std::string config,
                         std::initializer_list<std::pair<const Matrix*, const Matrix*>> pairs, std::string detail);

// C = A B^T for finite A and B, each entry the exact sum of the exact products rounded once to f32
// (nearest even, +0 for an exact 0, Inf beyond the largest finite value).
Matrix exact_matmul_nt(const Matrix& a, const Matrix& b);

}  // namespace lowbit::training::detail
