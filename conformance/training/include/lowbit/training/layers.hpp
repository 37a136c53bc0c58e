// The layers of lowbit's training checks, forward and backward written out (no autograd):
//   LoraLinear        y = x W^T + s (x A^T) B^T, base W frozen (f32, NF4 + double quantization, or
//                     GSE-INT), A (r x IC) and B (OC x r) trainable, s = alpha / r.
//   WeakColumnLinear  QEFT: a frozen 4-bit part and k trainable weak columns (the last k inputs).
//   AdamW             the optimizer step for the trainable parameters.
// Shapes: x is T x IC (tokens are rows), y and the upstream gradient g are T x OC.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lowbit/reference/weak.hpp"
#include "lowbit/training/qmatmul.hpp"

namespace lowbit::training {

// How the frozen base weight is stored.
enum class BaseStorage : std::uint8_t {
  f32,     // as given
  nf4_dq,  // NF4, blocks of 64, double quantization of the absmax (QLoRA; profile "lowbit")
  gse,     // GSE-INT at LoraConfig::base_bits, rows grouped along IC
};

// Which operand formats each matmul uses, written as the papers do: base-activation-gradient /
// low-rank-activation-gradient (a "4" base is NF4 + double quantization).
struct LoraConfig {
  std::string name;                 // e.g. "gsq-4-8-8/8-8-8"
  BaseStorage base = BaseStorage::f32;
  int base_bits = 4;                // GSE base only
  OperandFormat base_act;           // x and the dequantized base weight in x W^T and g W
  OperandFormat base_grad;          // g in g W
  OperandFormat lora_weight;        // A and B
  OperandFormat lora_act;           // x in x A^T, h = x A^T in h B^T and in the weight gradients
  OperandFormat lora_grad;          // g and g_h in every low-rank backward matmul

  // Bits per value of the stored base weight (NF4 + DQ: 4 + 8/64 + 32/(64*256)).
  double base_bits_per_value() const;
};

// The configurations of the GSQ-Tuning paper and the comparisons of the end-to-end table:
// "f32" (plain LoRA), "qlora" (NF4 + DQ base, the rest f32), "gsq-4-8-8/8-8-8", "gsq-4-6-6/6-6-6",
// "gsq-4-5-5/5-5-5" (NF4 + DQ base, GSE elsewhere), "fp8" (NF4 + DQ base, E4M3 forward operands,
// E5M2 gradients). Gradient operands round to nearest unless `stochastic` (then sr).
LoraConfig lora_config(std::string_view name, bool stochastic = false);
std::vector<std::string> lora_config_names();

// W~: the base w (OC x IC) stored as cfg.base says and decoded to fp32, what LoraLinear's matmuls see.
Matrix stored_base(const Matrix& w, const LoraConfig& cfg);

// The Philox key of each quantized operand: seed * 16 + 2 m + side (side 0 = the left operand of
// C = A B^T, 1 = the right), with LoraLinear's matmuls numbered
//   forward (seed 0):  0 h = x A^T,  1 h B^T,  2 x W^T
//   backward (seed):   3 g W,  4 g_h = (s g) B,  5 dB = (s g)^T h,  6 dA = g_h^T x,  7 g_h A
// so no two operands share random words. Only the gradient operands of an sr config draw them.
constexpr std::uint64_t operand_seed(std::uint64_t seed, unsigned matmul, unsigned side) {
  return seed * 16 + 2 * matmul + side;
}

// The quantized matmul LoraLinear calls for matmul `matmul` (numbered as above) of C = Q(A) Q(B)^T:
// lora_qmatmul (qmatmul with the operand seeds above) unless a check passes a deliberately broken
// one (validation.hpp's negative controls).
using LoraMatmul = std::function<Matrix(unsigned matmul, const Matrix& a, const OperandFormat& fa, const Matrix& b,
                                        const OperandFormat& fb, std::uint64_t seed, QuantStats& stats)>;
Matrix lora_qmatmul(unsigned matmul, const Matrix& a, const OperandFormat& fa, const Matrix& b, const OperandFormat& fb,
                    std::uint64_t seed, QuantStats& stats);

struct LoraGrads {
  Matrix x, a, b;  // dL/dx (T x IC), dL/dA (r x IC), dL/dB (OC x r)
};

class LoraLinear {
 public:
  // w: OC x IC (stored by cfg.base), a: r x IC, b: OC x r.
  LoraLinear(const Matrix& w, Matrix a, Matrix b, float alpha, LoraConfig cfg, LoraMatmul mm = lora_qmatmul);

  // Keeps what backward needs: x and h as the formats hold them (quantized along their rows, as
  // x A^T and h B^T multiplied them), requantized along the tokens for the weight gradients.
  Matrix forward(const Matrix& x);
  // From the last forward; `seed` keys stochastic rounding of the gradient operands. As autograd
  // through y = x W^T + s (h B^T): g_s = s g (fp32), g_h = g_s B, dB = g_s^T h, dA = g_h^T x,
  // dx = fl(g W + g_h A).
  LoraGrads backward(const Matrix& g, std::uint64_t seed = 0);

  const Matrix& base() const { return w_; }  // the frozen weight as the matmuls see it (dequantized)
  Matrix& a() { return a_; }
  Matrix& b() { return b_; }
  float scale() const { return scale_; }
  const LoraConfig& config() const { return cfg_; }
  const QuantStats& stats() const { return stats_; }

 private:
  Matrix w_, a_, b_;
  float scale_;
  LoraConfig cfg_;
  LoraMatmul mm_;
  Matrix x_, h_;
  QuantStats stats_;
};

// QEFT's weak-column layer (the training path: gemm_4bit on every column plus the weak product):
//   y = x W4^T + x[:, IC-k:] O^T
// W4 = the nowc dequantized 4-bit weight (weak columns carry the zero code's value), O = oweight
// (OC x k, trained in fp32). Backward (correct for every shape; QEFT's published one is not unless
// OC == IC): dx = g W4 + [0 | g O], dO = g^T x[:, IC-k:].
struct WeakGrads {
  Matrix x, oweight;
};

class WeakColumnLinear {
 public:
  explicit WeakColumnLinear(const qeft::Packed& p);
  Matrix forward(const Matrix& x);
  WeakGrads backward(const Matrix& g);
  Matrix& oweight() { return o_; }
  std::size_t k() const { return o_.cols; }

 private:
  Matrix w4_, o_, x_;
};

// AdamW with decoupled weight decay, in fp32, step t counted from 1:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  m_hat = m / (1 - b1^t);  v_hat = v / (1 - b2^t)
//   p -= lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * p)
struct AdamW {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.0f;
};
struct AdamState {
  std::vector<float> m, v;  // sized on the first step
  std::uint64_t t = 0;
};
void adamw_step(const AdamW& h, Matrix& p, const Matrix& grad, AdamState& s);

}  // namespace lowbit::training
