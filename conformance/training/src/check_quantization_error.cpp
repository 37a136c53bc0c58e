// 3. Quantization error: every quantized configuration against the f32 one.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "validation_support.hpp"

namespace lowbit::training {

namespace {

using namespace detail;

// The relative step of a quantization, each relative to the top of the binade its scale sits in:
// GSE b bits 2^-(b-1) (step 2^(E-(b-2)) against the group's 2^(E+1)); a float with m mantissa bits
// 2^-(m+1) (E4M3 2^-4, E5M2 2^-3: an ulp against the top of the element's binade); NF4 2/15 (the
// mean gap of its 16 levels over [-1, 1], against the block's absmax); f32 0.
double rel_step(const OperandFormat& f) {
  switch (f.kind) {
    case OperandFormat::Kind::gse: return std::ldexp(1.0, -(f.bits - 1));
    case OperandFormat::Kind::fp8: return f.fp8 == fp8::Format::e4m3 ? 0x1p-4 : 0x1p-3;
    case OperandFormat::Kind::f32: break;
  }
  return 0;
}

double base_step(const LoraConfig& c) {
  switch (c.base) {
    case BaseStorage::nf4_dq: return 2.0 / 15;
    case BaseStorage::gse: return rel_step(OperandFormat::gse(c.base_bits));
    case BaseStorage::f32: break;
  }
  return 0;
}

// Rounding to a grid of step delta * scale (the scale: a group's 2^(E+1), a binade's top, a block's
// absmax) leaves an RMS error of delta * scale / sqrt(12), and for Gaussian data the scale is at most
// ~3.5x the RMS value: each quantization adds about delta to the relative (Frobenius) error, sr up
// to sqrt(2) times that. Independent errors add in quadrature, so their plain sum over a path of
// three or more covers sr too. The bound is that sum over the path (layers.hpp's dataflow):
//   dB = g_s^T h:      g_s (grad); h from x (act) and A (weight), kept (act), requantized on T (act)
//   dA = g_h^T x:      g_h from g_s (grad) and B (weight), requantized (grad); x kept (act), requantized (act)
//   dx = g W + g_h A:  g (base grad), W stored (base) and requantized (base act); g_h as above
//                      (2 grad, weight) and A (weight)
// and the cosine then is at least sqrt(1 - bound^2).
struct PathBounds {
  double dx, da, db;
};

PathBounds path_bounds(const LoraConfig& c) {
  const double g = rel_step(c.lora_grad), a = rel_step(c.lora_act), w = rel_step(c.lora_weight);
  return {rel_step(c.base_grad) + base_step(c) + rel_step(c.base_act) + 2 * g + 2 * w, 2 * g + w + 2 * a,
          g + w + 3 * a};
}

ValidationResult compare_quantized(const std::string& config, const Matrix& q, const Matrix& exact, double bound) {
  const double cos = cosine(q, exact), cos_bound = std::sqrt(std::max(0.0, 1 - bound * bound));
  return result("quantization-error", config, relative_error(q, exact), bound, q.size(),
                fmt::format("relative error; cosine {:.6f} (bound implies >= {:.4f})", cos, cos_bound));
}
}  // namespace

std::vector<ValidationResult> validate_quantization_error(Mutant /*TODO mutants*/) {
  const LoraCase c = lora_case(48, 96, 64, 8, 41);
  constexpr std::uint64_t kSeed = 9;
  LoraLinear f32(c.w, c.a, c.b, c.alpha, lora_config("f32"));
  f32.forward(c.x);
  const LoraGrads exact = f32.backward(c.g);
  std::vector<ValidationResult> out;
  for (const std::string& name : lora_config_names())
    for (bool sr : {false, true}) {
      const LoraConfig cfg = lora_config(name, sr);
      if (name == "f32" || (sr && cfg.lora_grad.kind == OperandFormat::Kind::f32)) continue;  // the reference; nothing to round
      LoraLinear layer(c.w, c.a, c.b, c.alpha, cfg);
      layer.forward(c.x);
      const LoraGrads d = layer.backward(c.g, kSeed);
      const PathBounds b = path_bounds(cfg);
      const std::string label = name + (sr ? " sr" : "");
      out.push_back(compare_quantized(label + " dx", d.x, exact.x, b.dx));
      out.push_back(compare_quantized(label + " dA", d.a, exact.a, b.da));
      out.push_back(compare_quantized(label + " dB", d.b, exact.b, b.db));
    }
  return out;
}

}  // namespace lowbit::training
