// 3. Quantization error: every quantized configuration against the f32 layer, within a bound derived from
// the formats (lora_spec.cpp), and at least a stated fraction of the error the grid steps predict.
#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include <fmt/format.h>

#include "lora_spec.hpp"

namespace lowbit::training {

namespace {

using namespace detail;

// The bounds are sums of non-negative doubles whose own rounding stays below 2^-40 relative.
constexpr double kBoundSlack = 1 + 0x1p-40;
// The converse: the measured RMS difference must reach half the predicted one.
constexpr double kPredictedOverMeasured = 2;

// |q - f| <= B_q + B_f elementwise, where q is the quantized layer, f the f32 layer and B_q, B_f bound
// their distances to the ideal (exact, unquantized) gradient. Metric: the largest |q - f| / (B_q + B_f).
ValidationResult within_bound(const std::string& config, const Matrix& q, const Matrix& f, const Tracked& spec_q,
                              const Tracked& spec_f) {
  double worst = 0, ratio_sum = 0;
  for (std::size_t i = 0; i < q.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(q.v[i]) - f.v[i]);
    const double ratio = diff == 0 ? 0 : diff / ((spec_q.bound[i] + spec_f.bound[i]) * kBoundSlack);
    worst = worse(worst, ratio);
    ratio_sum += ratio;
  }
  return result("quantization-error", config, worst, 1, q.size(),
                fmt::format("max |quantized - f32| / elementwise format bound; mean ratio {:.4f}",
                            ratio_sum / static_cast<double>(q.size())));
}

// The converse: sqrt(mean V_q) (the RMS error the grid steps predict) over the measured RMS of q - f
// must stay below kPredictedOverMeasured, so a configuration that skips its quantization fails.
ValidationResult converse(const std::string& config, const Matrix& q, const Matrix& f, const Tracked& spec_q) {
  double predicted = 0, measured = 0;
  for (std::size_t i = 0; i < q.size(); ++i) {
    const double diff = static_cast<double>(q.v[i]) - f.v[i];
    predicted += spec_q.var[i];
    measured += diff * diff;
  }
  predicted = std::sqrt(predicted / static_cast<double>(q.size()));
  measured = std::sqrt(measured / static_cast<double>(q.size()));
  return result("quantization-error", config + " converse", predicted / measured, kPredictedOverMeasured, q.size(),
                fmt::format("predicted rms / measured rms of quantized - f32 ({:.3e} / {:.3e})", predicted, measured));
}

bool quantizes(const Tracked& t) {
  return std::any_of(t.var.begin(), t.var.end(), [](double v) { return v > 0; });
}

}  // namespace

std::vector<ValidationResult> validate_quantization_error(Mutant m) {
  const LoraCase c = lora_case(48, 96, 64, 8, 41);
  constexpr std::uint64_t kSeed = 9;
  const float s = c.alpha / static_cast<float>(c.a.rows);
  const LoraConfig f32 = lora_config("f32");
  LoraLinear plain(c.w, c.a, c.b, c.alpha, f32);
  plain.forward(c.x);
  const LoraGrads ref = plain.backward(c.g);
  const SpecRun ref_spec = lora_spec(c, f32, s, 0);  // the f32 layer's own rounding
  std::vector<ValidationResult> out;
  for (const std::string& name : lora_config_names())
    for (bool sr : {false, true}) {
      const LoraConfig cfg = lora_config(name, sr);
      if (name == "f32" || (sr && cfg.lora_grad.kind == OperandFormat::Kind::f32)) continue;  // the reference; nothing to round
      // Negative controls: a configuration that quantizes nothing, a layer whose s is 1 (alpha = r).
      const float alpha = m == Mutant::dropped_lora_scale ? static_cast<float>(c.a.rows) : c.alpha;
      LoraLinear layer(c.w, c.a, c.b, alpha, m == Mutant::unquantized ? f32 : cfg);
      layer.forward(c.x);
      LoraGrads d = layer.backward(c.g, kSeed);
      if (m == Mutant::nan_gradient) d.b.v[0] = std::numeric_limits<float>::quiet_NaN();
      const SpecRun spec = lora_spec(c, cfg, s, kSeed);
      const std::string label = name + (sr ? " sr" : "");
      for (const auto& [grad, q, f, sq, sf] : {std::tuple{" dx", &d.x, &ref.x, &spec.dx, &ref_spec.dx},
                                               std::tuple{" dA", &d.a, &ref.a, &spec.da, &ref_spec.da},
                                               std::tuple{" dB", &d.b, &ref.b, &spec.db, &ref_spec.db}}) {
        out.push_back(within_bound(label + grad, *q, *f, *sq, *sf));
        if (quantizes(*sq)) out.push_back(converse(label + grad, *q, *f, *sq));
      }
    }
  return out;
}

}  // namespace lowbit::training
