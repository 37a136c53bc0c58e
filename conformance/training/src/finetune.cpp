// The end-to-end fine-tuning experiment (lowbit/training/finetune.hpp, docs/training.md).
#include "lowbit/training/finetune.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numbers>
#include <tuple>

#include "finetune_support.hpp"
#include "lowbit/error.hpp"
#include "lowbit/gse.hpp"
#include "lowbit/reference/weak.hpp"
#include "lowbit/reference/weak_select.hpp"

namespace lowbit::training {

// ---- fp32 pieces ----------------------------------------------------------------------------------

Matrix matmul_nt_fast(const Matrix& a, const Matrix& b) {
  if (a.cols != b.cols) throw Error("matmul_nt_fast: inner dimensions differ");
  const Matrix bt = transpose(b);  // k x n
  Matrix c(a.rows, b.rows);
  const std::size_t n = b.rows;
  for (std::size_t i = 0; i < a.rows; ++i) {
    float* acc = &c.v[i * n];  // starts at +0
    for (std::size_t k = 0; k < a.cols; ++k) {
      const float x = a.v[i * a.cols + k];
      const float* y = &bt.v[k * n];
      for (std::size_t j = 0; j < n; ++j) acc[j] += x * y[j];
    }
  }
  return c;
}

LossResult softmax_cross_entropy(const Matrix& z, const std::vector<int>& labels, std::size_t begin) {
  if (labels.size() < begin + z.rows) throw Error("softmax_cross_entropy: too few labels");
  LossResult r;
  r.grad = Matrix(z.rows, z.cols);
  const float inv_t = 1.0f / static_cast<float>(z.rows);
  double total = 0;
  for (std::size_t t = 0; t < z.rows; ++t) {
    const float* row = &z.v[t * z.cols];
    const int y = labels[begin + t];
    std::size_t arg = 0;
    for (std::size_t c = 1; c < z.cols; ++c)
      if (row[c] > row[arg]) arg = c;
    const float m = row[arg];
    float s = 0.0f;
    for (std::size_t c = 0; c < z.cols; ++c) {
      const float e = std::exp(row[c] - m);
      r.grad(t, c) = e;
      s += e;
    }
    for (std::size_t c = 0; c < z.cols; ++c) {
      const float p = r.grad(t, c) / s;
      r.grad(t, c) = (p - (static_cast<int>(c) == y ? 1.0f : 0.0f)) * inv_t;
    }
    const float loss_t = (std::log(s) + m) - row[y];
    total += loss_t;
    if (static_cast<int>(arg) == y) ++r.correct;
  }
  r.loss = z.rows ? total / static_cast<double>(z.rows) : 0;
  return r;
}

// ---- memory --------------------------------------------------------------------------------------

std::vector<LayerShape> mlp_shapes(const FinetuneSettings& s) {
  return {{s.input, s.hidden}, {s.hidden, s.hidden}, {s.hidden, s.classes}};
}

namespace {

constexpr double kTrainableBits = 32 + 32 + 2 * 32;  // fp32 master, fp32 gradient, AdamW m and v

double weights(const std::vector<LayerShape>& layers) {
  double n = 0;
  for (const LayerShape& l : layers) n += static_cast<double>(l.ic) * static_cast<double>(l.oc);
  return n;
}

std::size_t qeft_layer_group(std::size_t ic, int group) {
  return group == 0 ? ic : std::min<std::size_t>(static_cast<std::size_t>(group), ic);
}

}  // namespace

double loss_activation_bits(const std::vector<LayerShape>& layers, std::size_t batch) {
  double hidden = 0;
  for (std::size_t l = 0; l + 1 < layers.size(); ++l) hidden += static_cast<double>(layers[l].oc);
  const double classes = layers.empty() ? 0 : static_cast<double>(layers.back().oc);
  return static_cast<double>(batch) * (hidden * 1 + classes * 32);
}

Memory lora_memory(const std::vector<LayerShape>& layers, std::size_t rank, const LoraConfig& cfg, std::size_t batch) {
  Memory m;
  const double r = static_cast<double>(rank), t = static_cast<double>(batch);
  m.base_bits = weights(layers) * cfg.base_bits_per_value();
  double params = 0, acts = 0;
  for (const LayerShape& l : layers) {
    params += r * static_cast<double>(l.ic + l.oc);
    acts += t * (static_cast<double>(l.ic) + r);
  }
  m.trainable_bits = params * kTrainableBits;
  m.activation_bits = acts * cfg.lora_act.bits_per_value() + loss_activation_bits(layers, batch);
  return m;
}

Memory qeft_memory(const std::vector<LayerShape>& layers, const std::vector<std::size_t>& k, int group, std::size_t batch) {
  if (k.size() != layers.size()) throw Error("qeft_memory: one k per layer");
  Memory m;
  double params = 0, acts = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const LayerShape& l = layers[i];
    const double groups = static_cast<double>(l.ic / qeft_layer_group(l.ic, group));
    m.base_bits += static_cast<double>(l.oc) * static_cast<double>(l.ic) * 4 + static_cast<double>(l.oc) * groups * 2 * 16 +
                   static_cast<double>(k[i]) * 32;
    params += static_cast<double>(k[i]) * static_cast<double>(l.oc);
    acts += static_cast<double>(batch) * static_cast<double>(k[i]);
  }
  m.trainable_bits = params * kTrainableBits;
  m.activation_bits = acts * 32 + loss_activation_bits(layers, batch);
  return m;
}

Memory full_memory(const std::vector<LayerShape>& layers, std::size_t batch) {
  Memory m;
  double acts = 0;
  for (const LayerShape& l : layers) acts += static_cast<double>(batch) * static_cast<double>(l.ic);
  m.trainable_bits = weights(layers) * kTrainableBits;
  m.activation_bits = acts * 32 + loss_activation_bits(layers, batch);
  return m;
}

std::vector<std::size_t> qeft_k_for_rank(const std::vector<LayerShape>& layers, std::size_t rank) {
  std::vector<std::size_t> k;
  for (const LayerShape& l : layers) {
    const std::size_t want = (2 * rank * (l.ic + l.oc) + l.oc) / (2 * l.oc);  // round half up
    k.push_back(std::clamp<std::size_t>(want, 1, l.ic / 2));
  }
  return k;
}

// ---- the model -----------------------------------------------------------------------------------

namespace {

// One trainable linear layer of the MLP.
class TrainLayer {
 public:
  virtual ~TrainLayer() = default;
  virtual Matrix forward(const Matrix& x) = 0;
  // dL/dx from the last forward; keeps the parameter gradients for step().
  virtual Matrix backward(const Matrix& g, std::uint64_t seed) = 0;
  virtual void step(float lr_scale) = 0;  // lr = the layer's lr x lr_scale
  virtual std::size_t trainable() const = 0;
  virtual QuantStats stats() const { return {}; }
  virtual QuantStats no_offset_stats() const { return {}; }
};

void add(QuantStats& s, const QuantStats& q) {
  s.values += q.values;
  s.groups += q.groups;
  s.exp_underflow += q.exp_underflow;
  s.exp_overflow += q.exp_overflow;
  s.saturated += q.saturated;
}

// Adds to `s` what encoding `a` in format f (GSE only) with exponent offset 0 would count: the
// clamps the per-tensor offset avoids. Rounding does not move a group's exponent, so rne stands in
// for every rounding.
void count_without_offset(const Matrix& a, const OperandFormat& f, QuantStats& s) {
  if (f.kind != OperandFormat::Kind::gse) return;
  gse::Options o;
  o.format = gse_format(f, a);
  o.format.exp_offset = 0;
  const gse::Encoded e = gse::encode_rows(a.rows, a.cols, a.v, o);
  add(s, {a.size(), e.stats.groups, e.stats.exp_underflow, e.stats.exp_overflow, e.stats.saturated});
}

class DenseLayer final : public TrainLayer {
 public:
  DenseLayer(Matrix* w, AdamW h) : w_(w), h_(h) {}
  Matrix forward(const Matrix& x) override {
    x_ = x;
    return matmul_nt_fast(x, *w_);
  }
  Matrix backward(const Matrix& g, std::uint64_t) override {
    grad_ = matmul_nt_fast(transpose(g), transpose(x_));  // OC x IC: sum over tokens ascending
    return matmul_nt_fast(g, transpose(*w_));
  }
  void step(float lr_scale) override {
    AdamW h = h_;
    h.lr = h_.lr * lr_scale;
    adamw_step(h, *w_, grad_, state_);
  }
  std::size_t trainable() const override { return w_->size(); }

 private:
  Matrix* w_;
  AdamW h_;
  AdamState state_;
  Matrix x_, grad_;
};

class LoraLayer final : public TrainLayer {
 public:
  // The layer's matmuls are lora_qmatmul's; each GSE operand is also counted with offset 0.
  LoraLayer(const Matrix& w, std::size_t rank, float alpha, const LoraConfig& cfg, AdamW h, std::uint64_t seed)
      : no_offset_(std::make_shared<QuantStats>()),
        layer_(w, gaussian(rank, w.cols, static_cast<float>(1 / std::sqrt(double(w.cols))), seed), Matrix(w.rows, rank),
               alpha, cfg,
               [counts = no_offset_](unsigned mm, const Matrix& a, const OperandFormat& fa, const Matrix& b,
                                     const OperandFormat& fb, std::uint64_t sd, QuantStats& stats) {
                 count_without_offset(a, fa, *counts);
                 count_without_offset(b, fb, *counts);
                 return lora_qmatmul(mm, a, fa, b, fb, sd, stats);
               }),
        h_(h),
        params_(rank * (w.cols + w.rows)) {}
  Matrix forward(const Matrix& x) override { return layer_.forward(x); }
  Matrix backward(const Matrix& g, std::uint64_t seed) override {
    LoraGrads gr = layer_.backward(g, seed);
    ga_ = std::move(gr.a);
    gb_ = std::move(gr.b);
    return std::move(gr.x);
  }
  void step(float lr_scale) override {
    AdamW h = h_;
    h.lr = h_.lr * lr_scale;
    adamw_step(h, layer_.a(), ga_, sa_);
    adamw_step(h, layer_.b(), gb_, sb_);
  }
  std::size_t trainable() const override { return params_; }
  QuantStats stats() const override { return layer_.stats(); }
  QuantStats no_offset_stats() const override { return *no_offset_; }

 private:
  std::shared_ptr<QuantStats> no_offset_;
  LoraLinear layer_;
  AdamW h_;
  std::size_t params_;
  AdamState sa_, sb_;
  Matrix ga_, gb_;
};

class WeakLayer final : public TrainLayer {
 public:
  WeakLayer(const qeft::Packed& p, AdamW h) : layer_(p), h_(h), params_(p.oc * p.k) {}
  Matrix forward(const Matrix& x) override { return layer_.forward(x); }
  Matrix backward(const Matrix& g, std::uint64_t) override {
    WeakGrads gr = layer_.backward(g);
    go_ = std::move(gr.oweight);
    return std::move(gr.x);
  }
  void step(float lr_scale) override {
    AdamW h = h_;
    h.lr = h_.lr * lr_scale;
    adamw_step(h, layer_.oweight(), go_, so_);
  }
  std::size_t trainable() const override { return params_; }

 private:
  WeakColumnLinear layer_;
  AdamW h_;
  std::size_t params_;
  AdamState so_;
  Matrix go_;
};

// The MLP over its layers: ReLU between them, softmax cross-entropy at the end. `input_perm`
// (if not empty) gathers the input features first: x'[:, j] = x[:, perm[j]] (QEFT's layout).
class Net {
 public:
  std::vector<std::unique_ptr<TrainLayer>> layers;
  std::vector<std::int32_t> input_perm;

  Matrix prepare(const Matrix& x) const {
    if (input_perm.empty()) return x;
    Matrix p(x.rows, x.cols);
    for (std::size_t r = 0; r < x.rows; ++r)
      for (std::size_t j = 0; j < x.cols; ++j) p(r, j) = x(r, static_cast<std::size_t>(input_perm[j]));
    return p;
  }

  Matrix forward(const Matrix& x) {
    masks_.assign(layers.size() > 0 ? layers.size() - 1 : 0, {});
    Matrix h = prepare(x);
    for (std::size_t l = 0; l < layers.size(); ++l) {
      h = layers[l]->forward(h);
      if (l + 1 < layers.size()) {
        std::vector<std::uint8_t>& m = masks_[l];
        m.resize(h.v.size());
        for (std::size_t i = 0; i < h.v.size(); ++i) {
          m[i] = h.v[i] > 0.0f;
          if (!m[i]) h.v[i] = 0.0f;
        }
      }
    }
    return h;
  }

  void backward(Matrix g, std::uint64_t seed) {
    for (std::size_t l = layers.size(); l-- > 0;) {
      if (l + 1 < layers.size()) {
        const std::vector<std::uint8_t>& m = masks_[l];
        for (std::size_t i = 0; i < g.v.size(); ++i)
          if (!m[i]) g.v[i] = 0.0f;
      }
      g = layers[l]->backward(g, detail::mix(seed, l));
    }
  }

  void step(float lr_scale) {
    for (auto& l : layers) l->step(lr_scale);
  }

  std::size_t trainable() const {
    std::size_t n = 0;
    for (const auto& l : layers) n += l->trainable();
    return n;
  }

  QuantStats stats() const {
    QuantStats s;
    for (const auto& l : layers) add(s, l->stats());
    return s;
  }

  QuantStats no_offset_stats() const {
    QuantStats s;
    for (const auto& l : layers) add(s, l->no_offset_stats());
    return s;
  }

 private:
  std::vector<std::vector<std::uint8_t>> masks_;
};

Dataset batch_of(const Dataset& d, const std::vector<std::size_t>& order, std::size_t begin, std::size_t n) {
  Dataset b;
  b.x = Matrix(n, d.x.cols);
  b.labels.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t src = order[(begin + i) % order.size()];
    std::copy_n(&d.x.v[src * d.x.cols], d.x.cols, &b.x.v[i * d.x.cols]);
    b.labels[i] = d.labels[src];
  }
  return b;
}

// Steps of AdamW over batches of `batch`, epochs in a fresh shuffled order each (keyed by
// order_seed), the learning rate on a cosine schedule from the layers' lr at step 0 towards 0:
// lr_s = lr * (1 + cos(pi s / steps)) / 2. The gradient operands' stochastic rounding of step s is
// keyed by mix(sr_seed, s). Returns the mean loss of the last tenth of the steps.
double train(Net& net, const Dataset& d, std::size_t steps, std::size_t batch, std::uint64_t order_seed,
             std::uint64_t sr_seed) {
  if (batch == 0 || d.x.rows < batch) throw Error("train: the data set is smaller than a batch");
  const std::size_t per_epoch = d.x.rows / batch;
  const std::size_t tail = std::max<std::size_t>(1, steps / 10);
  std::vector<std::size_t> order;
  double tail_loss = 0;
  for (std::size_t s = 0; s < steps; ++s) {
    const std::size_t epoch = s / per_epoch, within = s % per_epoch;
    if (within == 0) order = detail::shuffled(d.x.rows, detail::mix(order_seed, epoch));
    const Dataset b = batch_of(d, order, within * batch, batch);
    const LossResult r = softmax_cross_entropy(net.forward(b.x), b.labels);
    if (s + tail >= steps) tail_loss += r.loss;
    net.backward(r.grad, detail::mix(sr_seed, s));
    net.step(static_cast<float>((1 + std::cos(std::numbers::pi * static_cast<double>(s) / static_cast<double>(steps))) / 2));
  }
  return steps ? tail_loss / static_cast<double>(tail) : 0;
}

struct Eval {
  double loss = 0, accuracy = 0;
};

// Forward over the data set in batches of `batch` (the per-tensor scales of the quantized formats
// see the same batch shape as in training); mean loss and accuracy over all examples.
Eval evaluate(Net& net, const Dataset& d, std::size_t batch) {
  Eval e;
  double loss = 0;
  std::size_t correct = 0;
  for (std::size_t begin = 0; begin < d.x.rows; begin += batch) {
    const std::size_t n = std::min(batch, d.x.rows - begin);
    Matrix x(n, d.x.cols);
    std::copy_n(&d.x.v[begin * d.x.cols], n * d.x.cols, x.v.begin());
    const LossResult r = softmax_cross_entropy(net.forward(x), d.labels, begin);
    loss += r.loss * static_cast<double>(n);
    correct += r.correct;
  }
  if (d.x.rows) {
    e.loss = loss / static_cast<double>(d.x.rows);
    e.accuracy = static_cast<double>(correct) / static_cast<double>(d.x.rows);
  }
  return e;
}

AdamW adam(float lr) {
  AdamW h;
  h.lr = lr;
  return h;
}

Net dense_net(Mlp& m, float lr) {
  Net net;
  for (Matrix& w : m.w) net.layers.push_back(std::make_unique<DenseLayer>(&w, adam(lr)));
  return net;
}

}  // namespace

std::vector<Matrix> detail::layer_inputs(const Mlp& m, const Matrix& x) {
  std::vector<Matrix> in;
  Matrix h = x;
  for (std::size_t l = 0; l < m.w.size(); ++l) {
    in.push_back(h);
    h = matmul_nt_fast(h, m.w[l]);
    for (float& e : h.v) e = std::max(e, 0.0f);
  }
  return in;
}

Mlp init_mlp(const FinetuneSettings& s) {
  Mlp m;
  const std::vector<LayerShape> shapes = mlp_shapes(s);
  for (std::size_t l = 0; l < shapes.size(); ++l)
    m.w.push_back(gaussian(shapes[l].oc, shapes[l].ic, static_cast<float>(std::sqrt(2.0 / double(shapes[l].ic))),
                           detail::mix(derive_seed(s.seed, "init"), l)));
  return m;
}

double train_full(Mlp& m, const Dataset& d, std::size_t steps, std::size_t batch, float lr, std::uint64_t seed) {
  Net net = dense_net(m, lr);
  return train(net, d, steps, batch, seed, seed);
}

std::vector<std::vector<std::int32_t>> qeft_weak_columns(const FinetuneSettings& s, const Task& t, const Mlp& pretrained,
                                                         std::size_t rank) {
  const std::vector<LayerShape> shapes = mlp_shapes(s);
  const std::vector<std::size_t> k = qeft_k_for_rank(shapes, rank);
  const std::vector<Matrix> acts = detail::layer_inputs(pretrained, t.calibration);
  std::vector<std::vector<std::int32_t>> weak(shapes.size());
  for (std::size_t l = 0; l < shapes.size(); ++l) {
    std::vector<float> lambda = ref::weak_sensitivity(acts[l].v, acts[l].rows, acts[l].cols);
    ref::weak_apply_frob_norm(lambda, ref::weak_frob_error(pretrained.w[l].v, shapes[l].oc, shapes[l].ic, 4, weak::Tuning::mse));
    weak[l] = ref::weak_topk(lambda, k[l]);
  }
  return weak;
}

MethodResult finetune_method(const FinetuneSettings& s, const Task& t, const Mlp& pretrained, std::string_view name,
                             std::size_t rank, float lr) {
  const std::vector<LayerShape> shapes = mlp_shapes(s);
  // Every method of one rank starts from the same LoRA A and sees the same batches (common random
  // numbers: the differences between methods are the formats'); stochastic rounding has its own key.
  const std::uint64_t seed = derive_seed(s.seed, "finetune-rank-" + std::to_string(rank));
  const std::uint64_t sr_seed = derive_seed(s.seed, "finetune-sr-" + std::string(name) + "-" + std::to_string(rank));
  MethodResult r;
  r.name = std::string(name);
  r.rank = rank;
  r.lr = lr;
  Net net;
  Mlp full;  // full fine-tuning trains a copy
  if (name == "full-f32") {
    r.family = "full";
    r.rank = 0;
    full = pretrained;
    net = dense_net(full, lr);
    r.memory = full_memory(shapes, s.batch);
  } else if (name == "qeft") {
    r.family = "qeft";
    const std::vector<std::size_t> k = qeft_k_for_rank(shapes, rank);
    const std::vector<std::vector<std::int32_t>> weak = qeft_weak_columns(s, t, pretrained, rank);
    std::vector<std::vector<std::int32_t>> perm(shapes.size());
    for (std::size_t l = 0; l < shapes.size(); ++l) perm[l] = ref::weak_permutation(weak[l], shapes[l].ic);
    net.input_perm = perm[0];
    for (std::size_t l = 0; l < shapes.size(); ++l) {
      // Rows in the order the next layer reads its inputs (ReLU is elementwise); weak_quantize
      // puts the columns in this layer's layout order.
      Matrix w = pretrained.w[l];
      if (l + 1 < shapes.size())
        for (std::size_t i = 0; i < w.rows; ++i)
          std::copy_n(&pretrained.w[l].v[static_cast<std::size_t>(perm[l + 1][i]) * w.cols], w.cols, &w.v[i * w.cols]);
      weak::QuantOptions o;
      o.bits = 4;
      o.group = static_cast<int>(qeft_layer_group(shapes[l].ic, s.qeft_group));
      o.tuning = weak::Tuning::mse;
      o.grid = weak::default_grid(weak::Layout::qeft, o.group);
      const ref::WeakQuantized q = ref::weak_quantize(weak::Layout::qeft, w.v, w.rows, w.cols, weak[l], o);
      net.layers.push_back(std::make_unique<WeakLayer>(ref::qeft_pack(q), adam(lr)));
    }
    r.memory = qeft_memory(shapes, k, s.qeft_group, s.batch);
  } else {
    r.family = "lora";
    const std::string config = name == "f32-lora" ? "f32" : std::string(name);
    const LoraConfig cfg = lora_config(config, s.stochastic_gradients);
    const float alpha = s.lora_alpha;
    for (std::size_t l = 0; l < shapes.size(); ++l)
      net.layers.push_back(std::make_unique<LoraLayer>(pretrained.w[l], rank, alpha, cfg, adam(lr), detail::mix(seed, 100 + l)));
    r.memory = lora_memory(shapes, rank, cfg, s.batch);
    r.bits = cfg.lora_act.kind == OperandFormat::Kind::f32 ? 32 : cfg.lora_act.bits;
    r.base_bits = cfg.base_bits_per_value();
  }
  if (r.family == "qeft") r.base_bits = r.memory.base_bits / weights(shapes);
  r.trainable_params = net.trainable();

  const Eval before = evaluate(net, t.test, s.batch);
  r.initial_test_loss = before.loss;
  r.initial_accuracy = before.accuracy;
  r.final_loss = train(net, t.finetune, s.finetune_steps, s.batch, seed, sr_seed);
  const Eval validation = evaluate(net, t.validation, s.batch);
  r.validation_loss = validation.loss;
  r.validation_accuracy = validation.accuracy;
  const Eval after = evaluate(net, t.test, s.batch);
  r.test_loss = after.loss;
  r.accuracy = after.accuracy;
  r.stats = net.stats();
  r.no_offset = net.no_offset_stats();
  return r;
}

LrSelection select_lr(const FinetuneSettings& s, const Task& t, const Mlp& pretrained, std::string_view family,
                      std::string_view method, const std::vector<float>& grid) {
  LrSelection sel{std::string(family), std::string(method), {}, 0};
  for (const float lr : grid) sel.trials.push_back(finetune_method(s, t, pretrained, method, s.rank, lr));
  sel.chosen = choose_lr(sel.trials);
  return sel;
}

float choose_lr(const std::vector<MethodResult>& trials) {
  const MethodResult* best = nullptr;
  for (const MethodResult& m : trials) {
    const bool better = !best || m.validation_accuracy > best->validation_accuracy ||
                        (m.validation_accuracy == best->validation_accuracy &&
                         (m.validation_loss < best->validation_loss || (m.validation_loss == best->validation_loss && m.lr < best->lr)));
    if (better) best = &m;
  }
  if (!best) throw Error("choose_lr: no trials");
  return best->lr;
}

void mark_pareto(std::vector<MethodResult>& points) {
  for (MethodResult& p : points) {
    p.pareto = true;
    for (const MethodResult& q : points) {
      if (&p == &q) continue;
      const bool no_worse = q.memory.total_bits() <= p.memory.total_bits() && q.accuracy >= p.accuracy;
      const bool better = q.memory.total_bits() < p.memory.total_bits() || q.accuracy > p.accuracy;
      if (no_worse && better) {
        p.pareto = false;
        break;
      }
    }
  }
}

TaskReport run_finetune_task(const FinetuneSettings& s, TaskKind kind, const Progress& progress) {
  const std::string task_tag = "[" + std::string(task_name(kind)) + "] ";
  auto say = [&](const std::string& line) {
    if (progress) progress(task_tag + line);
  };
  TaskReport rep;
  rep.task = kind;
  const Task task = make_task(s, kind);
  say("pre-training the fp32 model");
  Mlp model = init_mlp(s);
  rep.pretrain_final_loss = train_full(model, task.pretrain, s.pretrain_steps, s.batch, s.pretrain_lr, derive_seed(s.seed, "pretrain"));
  {
    Mlp copy = model;
    Net net = dense_net(copy, 0);
    rep.pretrain_accuracy = evaluate(net, task.pretrain_test, s.batch).accuracy;
    MethodResult base;
    base.name = "pretrained";
    base.family = "none";
    const Eval v = evaluate(net, task.validation, s.batch), e = evaluate(net, task.test, s.batch);
    base.validation_loss = v.loss;
    base.validation_accuracy = v.accuracy;
    base.initial_test_loss = base.test_loss = e.loss;
    base.initial_accuracy = base.accuracy = e.accuracy;
    base.final_loss = rep.pretrain_final_loss;
    base.memory.base_bits = weights(mlp_shapes(s)) * 32;
    rep.table.push_back(base);
    const std::vector<int> original = task.pretrain_teacher.label(task.test.x);
    std::size_t changed = 0;
    for (std::size_t i = 0; i < original.size(); ++i) changed += original[i] != task.test.labels[i];
    rep.changed_labels = original.empty() ? 0 : static_cast<double>(changed) / static_cast<double>(original.size());
  }
  rep.formats = measure_gse_formats(s, task, model);
  // The learning rates first: LoRA's on fp32 LoRA at the table's rank, used by every LoRA method.
  for (const auto& [family, method, grid] : {std::tuple{"lora", "f32-lora", &s.lora_lrs}, {"qeft", "qeft", &s.qeft_lrs},
                                             {"full", "full-f32", &s.full_lrs}}) {
    say(std::string("choosing the ") + family + " learning rate");
    rep.lr.push_back(select_lr(s, task, model, family, method, *grid));
  }
  auto chosen = [&](std::string_view family) {
    for (const LrSelection& l : rep.lr)
      if (l.family == family) return &l;
    throw Error("run_finetune_task: no learning rate for " + std::string(family));
  };
  const float lora_lr = chosen("lora")->chosen;
  // The sweep: its points at the table's rank are the table's GSQ rows.
  for (const int bits : s.sweep_bits)
    for (const std::size_t rank : s.sweep_ranks) {
      const std::string name = detail::gsq_name(bits);
      say("fine-tuning " + name + " rank " + std::to_string(rank));
      rep.sweep.push_back(finetune_method(s, task, model, name, rank, lora_lr));
    }
  mark_pareto(rep.sweep);
  auto found = [&](const std::vector<MethodResult>& v, const std::string& name, float lr) -> const MethodResult* {
    for (const MethodResult& p : v)
      if (p.name == name && (p.family == "full" || p.rank == s.rank) && p.lr == lr) return &p;
    return nullptr;
  };
  for (const std::string name : {"f32-lora", "qlora", "gsq-4-8-8/8-8-8", "gsq-4-6-6/6-6-6", "gsq-4-5-5/5-5-5", "fp8", "qeft", "full-f32"}) {
    const std::string family = name == "qeft" ? "qeft" : name == "full-f32" ? "full" : "lora";
    const LrSelection& sel = *chosen(family);
    const MethodResult* p = found(rep.sweep, name, sel.chosen);
    if (!p) p = found(sel.trials, name, sel.chosen);
    if (p) {
      MethodResult copy = *p;
      copy.pareto = false;
      rep.table.push_back(copy);
      continue;
    }
    say("fine-tuning " + name);
    rep.table.push_back(finetune_method(s, task, model, name, s.rank, sel.chosen));
  }
  return rep;
}

FinetuneReport run_finetune_experiment(const FinetuneSettings& s, const Progress& progress) {
  FinetuneReport rep;
  rep.settings = s;
  for (const TaskKind kind : s.tasks) rep.tasks.push_back(run_finetune_task(s, kind, progress));
  return rep;
}

}  // namespace lowbit::training
