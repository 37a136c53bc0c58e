#include "lowbit/training/layers.hpp"

#include <cmath>

#include <fmt/format.h>

#include "lowbit/error.hpp"
#include "lowbit/nf4.hpp"
#include "lowbit/reference/nf4.hpp"

namespace lowbit::training {

// ---- configurations -------------------------------------------------------------------------------

double LoraConfig::base_bits_per_value() const {
  switch (base) {
    case BaseStorage::nf4_dq: return 4 + 8.0 / nf4::kDefaultBlock + 32.0 / (nf4::kDefaultBlock * nf4::kNestedBlock);
    case BaseStorage::gse: return OperandFormat::gse(base_bits).bits_per_value();
    case BaseStorage::f32: break;
  }
  return 32;
}

namespace {

constexpr int kGsqWidths[] = {8, 6, 5};

std::string gsq_name(int b) { return fmt::format("gsq-4-{0}-{0}/{0}-{0}-{0}", b); }

}  // namespace

std::vector<std::string> lora_config_names() {
  std::vector<std::string> names{"f32", "qlora"};
  for (int b : kGsqWidths) names.push_back(gsq_name(b));
  names.push_back("fp8");
  return names;
}

LoraConfig lora_config(std::string_view name, bool stochastic) {
  const Rounding grad_rounding = stochastic ? Rounding::sr : Rounding::rne;
  LoraConfig c;
  c.name = name;
  if (name == "f32") return c;
  c.base = BaseStorage::nf4_dq;
  if (name == "qlora") return c;
  if (name == "fp8") {
    c.base_act = c.lora_weight = c.lora_act = OperandFormat::e4m3();
    c.base_grad = c.lora_grad = OperandFormat::e5m2();
    c.base_grad.rounding = c.lora_grad.rounding = grad_rounding;
    return c;
  }
  for (int b : kGsqWidths)
    if (name == gsq_name(b)) {
      c.base_act = c.lora_weight = c.lora_act = OperandFormat::gse(b);
      c.base_grad = c.lora_grad = OperandFormat::gse(b, grad_rounding);
      return c;
    }
  std::string known;
  for (const std::string& n : lora_config_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error(fmt::format("unknown LoRA config '{}' (known: {})", name, known));
}

// ---- LoraLinear -----------------------------------------------------------------------------------

namespace {

// NF4 in blocks of 64 over the row-major weight (as bitsandbytes flattens it), the absmax values
// double-quantized with bitsandbytes' dynamic map, all with the "lowbit" profile.
Matrix nf4_dq_round_trip(const Matrix& w) {
  nf4::Options o;
  std::vector<std::uint8_t> packed(nf4::packed_bytes(w.size()));
  std::vector<float> absmax(nf4::blocks(w.size(), o.block));
  nf4::encode(w.v, packed, absmax, o);
  static const nf4::DynamicMap map = ref::bnb_dynamic_map();
  const nf4::DoubleQuantized dq = ref::nf4_double_quantize(absmax, o.profile.nested, map);
  ref::nf4_double_dequantize(dq.codes, dq.nested_absmax, dq.offset, map, absmax);
  Matrix out(w.rows, w.cols);
  nf4::decode(packed, absmax, out.v, o);
  return out;
}

}  // namespace

Matrix stored_base(const Matrix& w, const LoraConfig& cfg) {
  switch (cfg.base) {
    case BaseStorage::nf4_dq: return nf4_dq_round_trip(w);
    case BaseStorage::gse: return quantize_rows(w, OperandFormat::gse(cfg.base_bits));
    case BaseStorage::f32: break;
  }
  return w;
}

LoraLinear::LoraLinear(const Matrix& w, Matrix a, Matrix b, float alpha, LoraConfig cfg, LoraMatmul mm)
    : a_(std::move(a)), b_(std::move(b)), cfg_(std::move(cfg)), mm_(std::move(mm)) {
  if (a_.rows == 0 || a_.cols != w.cols || b_.rows != w.rows || b_.cols != a_.rows)
    throw Error("LoraLinear: need W OC x IC, A r x IC, B OC x r with r > 0");
  // Each matmul's two operands share a kind (qmatmul); checked here so a bad config fails at once.
  using K = OperandFormat::Kind;
  const K lora = cfg_.lora_weight.kind;
  if (cfg_.base_grad.kind != cfg_.base_act.kind || cfg_.lora_act.kind != lora || cfg_.lora_grad.kind != lora)
    throw Error("LoraLinear: config '" + cfg_.name + "' mixes operand kinds within a matmul");
  w_ = stored_base(w, cfg_);
  scale_ = alpha / static_cast<float>(a_.rows);
}

Matrix lora_qmatmul(unsigned matmul, const Matrix& a, const OperandFormat& fa, const Matrix& b, const OperandFormat& fb,
                    std::uint64_t seed, QuantStats& stats) {
  return qmatmul(a, fa, b, fb, operand_seed(seed, matmul, 0), operand_seed(seed, matmul, 1), &stats);
}

Matrix LoraLinear::forward(const Matrix& x) {
  const LoraConfig& c = cfg_;
  const Matrix h = mm_(0, x, c.lora_act, a_, c.lora_weight, 0, stats_);
  const Matrix low = mm_(1, h, c.lora_act, b_, c.lora_weight, 0, stats_);
  const Matrix y = add_scaled(mm_(2, x, c.base_act, w_, c.base_act, 0, stats_), scale_, low);
  x_ = quantize_rows(x, c.lora_act, operand_seed(0, 0, 0));
  h_ = quantize_rows(h, c.lora_act, operand_seed(0, 1, 0));
  return y;
}

LoraGrads LoraLinear::backward(const Matrix& g, std::uint64_t seed) {
  if (x_.rows == 0 || g.rows != x_.rows || g.cols != w_.rows)
    throw Error("LoraLinear::backward: needs a forward first and g of shape T x OC");
  const LoraConfig& c = cfg_;
  Matrix gs = g;
  for (float& v : gs.v) v *= scale_;
  const Matrix gh = mm_(4, gs, c.lora_grad, transpose(b_), c.lora_weight, seed, stats_);
  LoraGrads d;
  d.b = mm_(5, transpose(gs), c.lora_grad, transpose(h_), c.lora_act, seed, stats_);
  d.a = mm_(6, transpose(gh), c.lora_grad, transpose(x_), c.lora_act, seed, stats_);
  d.x = add_scaled(mm_(3, g, c.base_grad, transpose(w_), c.base_act, seed, stats_), 1.0f,
                   mm_(7, gh, c.lora_grad, transpose(a_), c.lora_weight, seed, stats_));
  return d;
}

// ---- WeakColumnLinear -----------------------------------------------------------------------------

WeakColumnLinear::WeakColumnLinear(const qeft::Packed& p) : w4_(p.oc, p.ic), o_(p.oc, p.k) {
  w4_.v = ref::qeft_dequantize(p, qeft::Path::nowc);
  for (std::size_t i = 0; i < o_.size(); ++i) o_.v[i] = ref::f16_to_f32(p.oweight[i]);
}

Matrix WeakColumnLinear::forward(const Matrix& x) {
  if (x.cols != w4_.cols) throw Error("WeakColumnLinear::forward: x must be T x IC");
  x_ = x;
  return add_scaled(matmul_nt(x, w4_), 1.0f, matmul_nt(columns(x, x.cols - k(), x.cols), o_));
}

WeakGrads WeakColumnLinear::backward(const Matrix& g) {
  if (x_.rows == 0 || g.rows != x_.rows || g.cols != w4_.rows)
    throw Error("WeakColumnLinear::backward: needs a forward first and g of shape T x OC");
  const std::size_t first = w4_.cols - k();
  WeakGrads d{matmul_nt(g, transpose(w4_)), matmul_nt(transpose(g), transpose(columns(x_, first, w4_.cols)))};
  const Matrix g_weak = matmul_nt(g, transpose(o_));  // T x k: the weak columns' second product
  for (std::size_t t = 0; t < g.rows; ++t)
    for (std::size_t j = 0; j < k(); ++j) d.x(t, first + j) += g_weak(t, j);
  return d;
}

// ---- AdamW ----------------------------------------------------------------------------------------

void adamw_step(const AdamW& h, Matrix& p, const Matrix& grad, AdamState& s) {
  if (grad.rows != p.rows || grad.cols != p.cols) throw Error("adamw_step: gradient shape differs");
  if (s.m.empty()) s.m.assign(p.size(), 0.0f), s.v.assign(p.size(), 0.0f);
  if (s.m.size() != p.size() || s.v.size() != p.size()) throw Error("adamw_step: state size differs");
  ++s.t;
  // The bias corrections in double, rounded to fp32: a libm's last-bit error in pow disappears there.
  const auto t = static_cast<double>(s.t);
  const float c1 = static_cast<float>(1 - std::pow(static_cast<double>(h.beta1), t));
  const float c2 = static_cast<float>(1 - std::pow(static_cast<double>(h.beta2), t));
  for (std::size_t i = 0; i < p.size(); ++i) {
    const float g = grad.v[i];
    s.m[i] = h.beta1 * s.m[i] + (1 - h.beta1) * g;
    s.v[i] = h.beta2 * s.v[i] + (1 - h.beta2) * g * g;
    const float m_hat = s.m[i] / c1, v_hat = s.v[i] / c2;
    p.v[i] -= h.lr * (m_hat / (std::sqrt(v_hat) + h.eps) + h.weight_decay * p.v[i]);
  }
}

}  // namespace lowbit::training
