// The end-to-end fine-tuning experiment of lowbit's training checks (docs/training.md): a small
// MLP pre-trained in fp32 on a synthetic task, then fine-tuned on a shifted task by every method
// of the table (fp32 LoRA, QLoRA, GSQ-Tuning at GSE-INT 8/6/5, FP8, QEFT weak columns, and full
// fp32 fine-tuning as the upper reference), and the bits x rank sweep of GSQ-Tuning.
//
// Data: x ~ N(0, 1)^input; the label is the argmax of a teacher's logits, teacher(x) =
// tanh(x U^T) V^T (U: teacher_hidden x input ~ N(0, 1/input), V: classes x teacher_hidden ~
// N(0, 1/teacher_hidden)). The pre-training task uses teacher (U, V); the shifted task rotates
// U towards an independent Gaussian G: U' = cos(shift) U + sin(shift) G, V unchanged.
//
// Model: input -> L1 -> ReLU -> L2 -> ReLU -> L3 -> softmax cross-entropy, Lk without bias,
// widths input, hidden, hidden, classes. ReLU and the loss are fp32, written out here.
//
// Determinism: every random number comes from SplitMix64 streams keyed by the seed (matrix.hpp's
// gaussian for Gaussians, a Fisher-Yates shuffle with a 128-bit multiply for the batch order);
// every sum has a fixed order; nothing runs on threads. The same settings and seed give the same
// report, bit for bit, on one machine (libm's exp/log/tanh are the only functions whose last bit
// may differ between C libraries).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lowbit/training/layers.hpp"
#include "lowbit/training/matrix.hpp"

namespace lowbit::training {

struct FinetuneSettings {
  std::uint64_t seed = 1;
  // Task and model.
  std::size_t input = 64, hidden = 256, classes = 8, teacher_hidden = 8;
  double shift = 0.9;  // radians of the teacher rotation
  // Data: fixed sets, labelled by the teacher of their task (pre-training sees each example once).
  std::size_t pretrain_examples = 192000, finetune_examples = 8192, test_examples = 4096, calibration_examples = 512;
  // Training: batch of `batch` examples, AdamW without weight decay.
  std::size_t batch = 64, pretrain_steps = 3000, finetune_steps = 400;
  float pretrain_lr = 5e-3f, lora_lr = 1e-2f, qeft_lr = 1e-2f, full_lr = 5e-3f;  // peak, cosine schedule
  float lora_alpha = 32;  // fixed over the ranks (LoRA's convention): s = alpha / r, 2 at rank 16
  bool stochastic_gradients = false;  // lora_config(name, stochastic)
  // The table's rank and the sweep.
  std::size_t rank = 16;
  std::vector<std::size_t> sweep_ranks{8, 16, 32, 64, 128};
  std::vector<int> sweep_bits{8, 6, 5};
  int qeft_group = 128;  // columns per group, or the layer's IC where that is smaller

  static FinetuneSettings full(std::uint64_t seed = 1);
  // The --quick run: the same task, hidden width 128, fewer steps and smaller data sets.
  static FinetuneSettings quick(std::uint64_t seed = 1);
};

// ---- data ---------------------------------------------------------------------------------------

struct Dataset {
  Matrix x;                  // examples x input
  std::vector<int> labels;   // examples
};

struct Teacher {
  Matrix u, v;  // teacher_hidden x input, classes x teacher_hidden
  std::vector<int> label(const Matrix& x) const;  // argmax of tanh(x U^T) V^T, lowest index on ties
};

struct Task {
  Teacher pretrain_teacher, shifted_teacher;
  Dataset pretrain, finetune, test, pretrain_test;  // test, finetune: shifted task; pretrain*: original
  Matrix calibration;  // shifted-task inputs for the weak-column selection (labels unused)
};

Task make_task(const FinetuneSettings& s);

// A seed for one named stream: SplitMix64 of seed ^ a hash of the tag.
std::uint64_t derive_seed(std::uint64_t seed, std::string_view tag);

// ---- fp32 pieces written here ---------------------------------------------------------------------

// matmul_nt's result bit for bit (every c[i][j] the same ordered sum over k from +0), but with the
// loop over j innermost so that it vectorizes.
Matrix matmul_nt_fast(const Matrix& a, const Matrix& b);

// Mean softmax cross-entropy over the rows of `logits` and its gradient dL/dlogits = (p - onehot) / T.
// Per row: m = max z; e_c = exp(z_c - m); s = sum e_c ascending; p_c = e_c / s;
// loss_t = (log s + m) - z_y; loss = (sum_t loss_t ascending, in double) / T. Row t has label labels[begin + t].
struct LossResult {
  double loss = 0;
  std::size_t correct = 0;  // argmax(z) == label (lowest index on ties)
  Matrix grad;
};
LossResult softmax_cross_entropy(const Matrix& logits, const std::vector<int>& labels, std::size_t begin = 0);

// ---- memory ---------------------------------------------------------------------------------------

// Training memory computed from the formats, in bits, for one step at batch T:
//   base         the frozen weights as stored: sum_l OC IC * bits_per_value (LoRA methods:
//                LoraConfig::base_bits_per_value; QEFT: 4-bit codes of every column + fp16 scale
//                and zero per group and row + one int32 index per weak column; full fine-tuning 0)
//   trainable    P trainable parameters x (32 fp32 master + 32 fp32 gradient + 2 x 32 AdamW moments)
//   activations  what backward needs, as stored: LoRA x (T x IC) and h = x A^T (T x r) of every
//                layer in lora_act's format (the frozen base needs nothing: dx = g W); QEFT the weak
//                slice x[:, IC-k:] in fp32; full fine-tuning x in fp32; plus, for every method, the
//                ReLU masks (1 bit per hidden unit and example) and the softmax probabilities
//                (T x classes fp32) of the loss's backward.
// Not counted: the transient dequantized or requantized operands of each matmul, the data set,
// the upstream gradients in flight (the same for every method).
struct Memory {
  double base_bits = 0, trainable_bits = 0, activation_bits = 0;
  double total_bits() const { return base_bits + trainable_bits + activation_bits; }
  double total_bytes() const { return total_bits() / 8; }
};

struct LayerShape {
  std::size_t ic = 0, oc = 0;
};

// The shapes of the MLP's three layers.
std::vector<LayerShape> mlp_shapes(const FinetuneSettings& s);

// The common part (ReLU masks and softmax probabilities) of the activations term.
double loss_activation_bits(const std::vector<LayerShape>& layers, std::size_t batch);
Memory lora_memory(const std::vector<LayerShape>& layers, std::size_t rank, const LoraConfig& cfg, std::size_t batch);
// k[l] weak columns per layer; group as for qeft_group (0 = per channel).
Memory qeft_memory(const std::vector<LayerShape>& layers, const std::vector<std::size_t>& k, int group, std::size_t batch);
Memory full_memory(const std::vector<LayerShape>& layers, std::size_t batch);

// QEFT's k per layer, matching the LoRA parameter count of that layer: k = round(r (IC + OC) / OC),
// at least 1 and at most IC / 2 (a layer with few outputs, such as the classifier, reaches the cap).
std::vector<std::size_t> qeft_k_for_rank(const std::vector<LayerShape>& layers, std::size_t rank);

// ---- the experiment ---------------------------------------------------------------------------------

struct MethodResult {
  std::string name;      // table row: "f32-lora", "qlora", "gsq-4-8-8/8-8-8", ..., "qeft", "full-f32", "pretrained"
  std::string family;    // "none", "full", "lora", "qeft"
  double bits = 32;      // bits per value of the training matmuls' activation and gradient operands
  double base_bits = 32; // bits per value of the frozen base weight as stored
  std::size_t rank = 0;  // LoRA rank; QEFT: the rank its k was matched to
  std::size_t trainable_params = 0;
  double final_loss = 0;     // mean training loss over the last tenth of the steps
  double test_loss = 0;      // held-out shifted task
  double accuracy = 0;       // held-out shifted task, fraction correct
  double initial_test_loss = 0, initial_accuracy = 0;  // the model before fine-tuning, in the method's formats
  Memory memory;
  bool pareto = false;       // sweep only: no other sweep point has less or equal memory and higher accuracy
  QuantStats stats;          // summed over the layers' quantizations (LoRA methods)
};

struct FinetuneReport {
  FinetuneSettings settings;
  double pretrain_final_loss = 0, pretrain_accuracy = 0;  // on the original task's held-out set
  std::vector<MethodResult> table;
  std::vector<MethodResult> sweep;  // sweep_bits x sweep_ranks, bits major
};

using Progress = std::function<void(std::string_view)>;

// The whole experiment; `progress` (if set) receives one line per phase.
FinetuneReport run_finetune_experiment(const FinetuneSettings& s, const Progress& progress = {});

// Pieces of it, for tests.
struct Mlp {
  std::vector<Matrix> w;  // L1, L2, L3 weights (OC x IC)
};
// Full-parameter fp32 training of `m` on `d` (every parameter trainable); returns the mean loss
// of the last tenth of the steps. Also the pre-training.
double train_full(Mlp& m, const Dataset& d, std::size_t steps, std::size_t batch, float lr, std::uint64_t seed);
Mlp init_mlp(const FinetuneSettings& s);
// One fine-tuning method from the pre-trained model: name is a lora_config name (with rank),
// "qeft" (with rank to match) or "full-f32".
MethodResult finetune_method(const FinetuneSettings& s, const Task& t, const Mlp& pretrained, std::string_view name,
                             std::size_t rank);
// Marks the Pareto-optimal points (memory down, accuracy up) of `points`.
void mark_pareto(std::vector<MethodResult>& points);

// ---- outputs --------------------------------------------------------------------------------------

std::string table_csv(const FinetuneReport& r);
std::string sweep_csv(const FinetuneReport& r);
// Accuracy against training memory (log2 axis): one polyline with markers per GSE bit width over
// the ranks, the Pareto frontier dashed, fp32 LoRA and QLoRA at the table's rank as single markers.
std::string pareto_svg(const FinetuneReport& r);
// Writes table.csv, sweep.csv and pareto.svg into dir whole (lowbit/conformance/output.hpp): dir may be
// missing, an empty folder or an older run's folder of these three files.
void write_finetune_outputs(const FinetuneReport& r, const std::string& dir);

}  // namespace lowbit::training
