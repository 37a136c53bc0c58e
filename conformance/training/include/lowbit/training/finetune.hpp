// The end-to-end fine-tuning experiment of lowbit's training checks (docs/training.md): a small
// MLP pre-trained in fp32 on a synthetic task, then fine-tuned on a shifted task by every method
// of the table (fp32 LoRA, QLoRA, GSQ-Tuning at GSE-INT 8/6/5, FP8, QEFT weak columns, and full
// fp32 fine-tuning as the upper reference), and the bits x rank sweep of GSQ-Tuning; on two tasks.
//
// Data: the label is the argmax of a teacher's logits, teacher(x) = tanh(x U^T) V^T (U:
// teacher_hidden x input, V: classes x teacher_hidden ~ N(0, 1/teacher_hidden)).
//   dense    x ~ N(0, 1)^input, U ~ N(0, 1/input); the shifted task rotates all of U towards an
//            independent Gaussian G: U' = cos(shift) U + sin(shift) G, V unchanged.
//   outlier  as LLM activations: `outliers` input features (chosen by the seed) scaled by factors
//            log-spaced over [outlier_min, outlier_max], the rest N(0, 1). The teacher reads a
//            share `outlier_share` of its pre-activation variance from them (U's outlier columns ~
//            N(0, share / outliers) / scale, the others N(0, (1 - share) / (input - outliers))), and
//            the shift rotates only those columns by `outlier_shift`: the fine-tuning change is
//            carried by the outlier features, which QEFT's weak columns can hold.
// The learning rate of each family is chosen on a validation set (fresh examples of the shifted
// task) and the table reports a separate held-out test set.
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

enum class TaskKind : std::uint8_t { dense, outlier };
std::string_view task_name(TaskKind k);  // "dense", "outlier"

struct FinetuneSettings {
  std::uint64_t seed = 1;
  std::vector<TaskKind> tasks{TaskKind::dense, TaskKind::outlier};
  // Task and model.
  std::size_t input = 64, hidden = 256, classes = 8, teacher_hidden = 8;
  double shift = 0.9;  // dense: radians of the teacher rotation
  std::size_t outliers = 4;                          // outlier: features scaled up
  float outlier_min = 16, outlier_max = 64;          // their scales, log-spaced
  double outlier_share = 0.5;                        // of the teacher's pre-activation variance
  double outlier_shift = 1.5707963267948966;         // radians of the outlier columns' rotation
  // Data: fixed sets, labelled by the teacher of their task (pre-training sees each example once).
  std::size_t pretrain_examples = 192000, finetune_examples = 8192, validation_examples = 4096, test_examples = 4096,
              calibration_examples = 512;
  // Training: batch of `batch` examples, AdamW without weight decay, peak lr on a cosine schedule.
  std::size_t batch = 64, pretrain_steps = 3000, finetune_steps = 400;
  float pretrain_lr = 5e-3f;
  // The learning-rate grids, one per family; each chosen by validation accuracy (LoRA on f32-lora
  // at the table's rank, then used by every LoRA method and rank).
  std::vector<float> lora_lrs{5e-3f, 1e-2f, 2e-2f}, qeft_lrs{5e-3f, 1e-2f, 2e-2f}, full_lrs{5e-3f, 1e-2f, 2e-2f};
  float lora_alpha = 32;  // fixed over the ranks (LoRA's convention): s = alpha / r, 2 at rank 16
  bool stochastic_gradients = false;  // lora_config(name, stochastic)
  // The table's rank and the sweep.
  std::size_t rank = 16;
  std::vector<std::size_t> sweep_ranks{8, 16, 32, 64, 128};
  std::vector<int> sweep_bits{8, 6, 5};
  int qeft_group = 128;  // columns per group, or the layer's IC where that is smaller

  static FinetuneSettings full(std::uint64_t seed = 1);
  // The --quick run: the same tasks, hidden width 128, fewer steps and smaller data sets.
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
  TaskKind kind = TaskKind::dense;
  std::vector<std::size_t> outlier_channels;  // ascending; empty for the dense task
  std::vector<float> outlier_scales;          // one per outlier channel
  Teacher pretrain_teacher, shifted_teacher;
  // validation, test, finetune: the shifted task, disjoint draws; pretrain*: the original task.
  Dataset pretrain, finetune, validation, test, pretrain_test;
  Matrix calibration;  // shifted-task inputs for the weak-column selection (labels unused)
};

Task make_task(const FinetuneSettings& s, TaskKind kind = TaskKind::dense);

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
  float lr = 0;              // peak learning rate
  double final_loss = 0;     // mean training loss over the last tenth of the steps
  double validation_loss = 0, validation_accuracy = 0;  // the validation set (chooses the lr)
  double test_loss = 0;      // held-out test set of the shifted task
  double accuracy = 0;       // held-out test set, fraction correct
  double initial_test_loss = 0, initial_accuracy = 0;  // the model before fine-tuning, in the method's formats
  Memory memory;
  bool pareto = false;       // sweep only: no other sweep point has less or equal memory and higher accuracy
  // GSE methods, over every quantized operand of the fine-tuning and the evaluations: the counts
  // as trained (the per-tensor exponent offset of qmatmul.hpp), and those of the same operands
  // encoded with offset 0 (counted only: training uses the offset).
  QuantStats stats, no_offset;
};

// One family's learning-rate choice: `method` trained at every lr of the grid, chosen by choose_lr.
struct LrSelection {
  std::string family, method;
  std::vector<MethodResult> trials;  // in the grid's order
  float chosen = 0;
};

struct Mlp {
  std::vector<Matrix> w;  // L1, L2, L3 weights (OC x IC)
};

// GSE's defaults measured on a task's operands (docs/formats/gse.md's reasons for rne and groups
// of 32): layer l's calibration inputs x (of the pre-trained fp32 model) and its weight W, both
// quantized along IC (GSE-INT `bits`, groups of `group`, the per-tensor offset of gse_format),
// then multiplied in fp32: the relative error |Q(x) Q(W)^T - x W^T| / |x W^T| (Frobenius) and the
// gain <Q(x) Q(W)^T, x W^T> / |x W^T|^2 (1 = no bias in scale), for rne and rtz.
struct FormatError {
  std::size_t layer = 0;
  int bits = 8, group = 32;
  double bits_per_value = 0;
  double rne_error = 0, rne_gain = 0, rtz_error = 0, rtz_gain = 0;
};
// Over layers 0 and 1, bits in s.sweep_bits, groups 16, 32, 64, 128 where they divide the layer's IC.
std::vector<FormatError> measure_gse_formats(const FinetuneSettings& s, const Task& t, const Mlp& pretrained);

struct TaskReport {
  TaskKind task = TaskKind::dense;
  double pretrain_final_loss = 0, pretrain_accuracy = 0;  // on the original task's held-out set
  double changed_labels = 0;          // fraction of the test set whose label the shift changed
  std::vector<LrSelection> lr;        // lora, qeft, full
  std::vector<MethodResult> table;
  std::vector<MethodResult> sweep;    // sweep_bits x sweep_ranks, bits major
  std::vector<FormatError> formats;   // measure_gse_formats on this task
};

struct FinetuneReport {
  FinetuneSettings settings;
  std::vector<TaskReport> tasks;      // in settings.tasks' order
};

using Progress = std::function<void(std::string_view)>;

// The whole experiment; `progress` (if set) receives one line per phase.
FinetuneReport run_finetune_experiment(const FinetuneSettings& s, const Progress& progress = {});
TaskReport run_finetune_task(const FinetuneSettings& s, TaskKind kind, const Progress& progress = {});

// Pieces of it, for tests.
// Full-parameter fp32 training of `m` on `d` (every parameter trainable); returns the mean loss
// of the last tenth of the steps. Also the pre-training.
double train_full(Mlp& m, const Dataset& d, std::size_t steps, std::size_t batch, float lr, std::uint64_t seed);
Mlp init_mlp(const FinetuneSettings& s);
// One fine-tuning method from the pre-trained model at peak learning rate `lr`: name is a
// lora_config name (with rank), "f32-lora", "qeft" (with rank to match) or "full-f32". The seeds
// do not depend on lr, so a grid's trial at the chosen lr is the method's result.
MethodResult finetune_method(const FinetuneSettings& s, const Task& t, const Mlp& pretrained, std::string_view name,
                             std::size_t rank, float lr);
// Trains `method` at every lr of `grid` and chooses one (choose_lr).
LrSelection select_lr(const FinetuneSettings& s, const Task& t, const Mlp& pretrained, std::string_view family,
                      std::string_view method, const std::vector<float>& grid);
// The lr of the trial with the highest validation accuracy; ties: the lower validation loss, then
// the smaller lr. Error for no trials.
float choose_lr(const std::vector<MethodResult>& trials);
// QEFT's weak columns of each layer (ascending; original column order): the top k by sensitivity
// (ref::weak_sensitivity on the layer's inputs over t.calibration, times ref::weak_frob_error of
// the 4-bit weight), k = qeft_k_for_rank(rank).
std::vector<std::vector<std::int32_t>> qeft_weak_columns(const FinetuneSettings& s, const Task& t, const Mlp& pretrained,
                                                         std::size_t rank);
// Marks the Pareto-optimal points (memory down, accuracy up) of `points`.
void mark_pareto(std::vector<MethodResult>& points);

// ---- outputs --------------------------------------------------------------------------------------

// One row per (task, method); the sweep's also its Pareto mark; lr.csv one row per learning-rate trial.
std::string table_csv(const FinetuneReport& r);
std::string sweep_csv(const FinetuneReport& r);
std::string lr_csv(const FinetuneReport& r);
// Accuracy against training memory (log2 axis), one panel per task: one polyline with markers per
// GSE bit width over the ranks, the Pareto frontier dashed, the other methods as single markers.
std::string pareto_svg(const FinetuneReport& r);
// Writes table.csv, sweep.csv, lr.csv and pareto.svg into dir whole (lowbit/conformance/output.hpp):
// dir may be missing, an empty folder or an older run's folder of these files.
void write_finetune_outputs(const FinetuneReport& r, const std::string& dir);

// The tables of docs/training.md section 5 as Markdown: per task the method table, the learning-rate
// choice, the sweep, the GSE exponent clamps and the format measurement (report_markdown); and, for
// runs of several seeds, the accuracy of every method per seed with the mean (seeds_markdown).
std::string report_markdown(const FinetuneReport& r);
std::string seeds_markdown(const std::vector<FinetuneReport>& runs);

}  // namespace lowbit::training
