// The end-to-end fine-tuning experiment (lowbit/training/finetune.hpp) at a tiny size: the memory
// formula on hand-computed cases, the fp32 pieces written there (the fast matmul equals matmul_nt
// bit for bit, the loss), both tasks (the outlier task's magnitudes and shift), the validation
// split, the learning-rate choice, the Pareto marks, well-formed CSV, SVG and Markdown, a whole run
// of both tasks that repeats bit for bit given the seed, LoRA lowering the shifted task's loss, the
// exponent clamps counted with and without the offset, and the rounding/group-size measurement.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "lowbit/error.hpp"
#include "lowbit/training/finetune.hpp"

namespace lt = lowbit::training;

namespace {

// Small enough for qemu and the sanitizers: a 64-64-64-8 MLP, a few dozen steps.
lt::FinetuneSettings tiny(std::uint64_t seed = 7) {
  return {.seed = seed,
          .hidden = 64,
          .pretrain_examples = 120 * 32,
          .finetune_examples = 512,
          .validation_examples = 256,
          .test_examples = 256,
          .calibration_examples = 64,
          .batch = 32,
          .pretrain_steps = 120,
          .finetune_steps = 40,
          .lora_lrs = {1e-2f, 2e-2f},
          .qeft_lrs = {1e-2f},
          .full_lrs = {5e-3f, 1e-2f},
          .rank = 8,
          .sweep_ranks = {4, 8},
          .sweep_bits = {8, 5}};
}

const lt::FinetuneReport& tiny_report() {
  static const lt::FinetuneReport r = lt::run_finetune_experiment(tiny());
  return r;
}

const lt::MethodResult& row(const lt::TaskReport& t, const std::string& name) {
  for (const lt::MethodResult& m : t.table)
    if (m.name == name) return m;
  throw std::runtime_error("no row " + name);
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

// A small XML well-formedness check: every tag closes in order, attributes are quoted, the text
// holds no bare '<' or '&' outside an entity, one root element.
::testing::AssertionResult well_formed_xml(const std::string& x) {
  std::vector<std::string> stack;
  std::size_t i = 0, roots = 0;
  while (i < x.size()) {
    if (x[i] == '<') {
      const std::size_t end = x.find('>', i);
      if (end == std::string::npos) return ::testing::AssertionFailure() << "unterminated tag at " << i;
      std::string tag = x.substr(i + 1, end - i - 1);
      if (tag.find('<') != std::string::npos) return ::testing::AssertionFailure() << "'<' inside a tag at " << i;
      if (!tag.empty() && tag[0] == '/') {
        const std::string name = tag.substr(1);
        if (stack.empty() || stack.back() != name)
          return ::testing::AssertionFailure() << "</" << name << "> closes " << (stack.empty() ? "nothing" : stack.back());
        stack.pop_back();
      } else {
        const bool self = !tag.empty() && tag.back() == '/';
        if (self) tag.pop_back();
        const std::string name = tag.substr(0, tag.find_first_of(" \n\t"));
        if (name.empty()) return ::testing::AssertionFailure() << "empty tag name at " << i;
        // attributes: name="value" pairs
        std::size_t quotes = 0;
        for (const char c : tag) quotes += c == '"';
        const std::size_t eq = static_cast<std::size_t>(std::count(tag.begin(), tag.end(), '='));
        if (quotes != 2 * eq) return ::testing::AssertionFailure() << "unquoted attribute in <" << name << ">";
        if (stack.empty()) ++roots;
        if (!self) stack.push_back(name);
      }
      i = end + 1;
    } else {
      if (x[i] == '&') {
        const std::size_t semi = x.find(';', i);
        const std::string ent = semi == std::string::npos ? "" : x.substr(i, semi - i + 1);
        if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;")
          return ::testing::AssertionFailure() << "bad entity at " << i;
      } else if (stack.empty() && !std::isspace(static_cast<unsigned char>(x[i]))) {
        return ::testing::AssertionFailure() << "text outside the root at " << i;
      }
      ++i;
    }
  }
  if (!stack.empty()) return ::testing::AssertionFailure() << "<" << stack.back() << "> never closes";
  if (roots != 1) return ::testing::AssertionFailure() << roots << " root elements";
  return ::testing::AssertionSuccess();
}

// A report made by hand, for the writers: two tasks.
lt::FinetuneReport synthetic_report() {
  lt::FinetuneReport r;
  r.settings = tiny();
  auto method = [](std::string name, std::string family, double bits, std::size_t rank, double acc, double mem_bits) {
    lt::MethodResult m;
    m.name = std::move(name);
    m.family = std::move(family);
    m.bits = bits;
    m.rank = rank;
    m.accuracy = acc;
    m.lr = 0.01f;
    m.memory.trainable_bits = mem_bits;
    return m;
  };
  for (const lt::TaskKind kind : {lt::TaskKind::dense, lt::TaskKind::outlier}) {
    lt::TaskReport t;
    t.task = kind;
    t.table = {method("pretrained", "none", 32, 0, 0.4, 8e5), method("f32-lora", "lora", 32, 8, 0.8, 4e6),
               method("qlora", "lora", 32, 8, 0.79, 3e6), method("fp8", "lora", 8, 8, 0.78, 2.5e6),
               method("qeft", "qeft", 32, 8, 0.6, 2e6), method("full-f32", "full", 32, 0, 0.81, 9e6)};
    t.table[3].stats = {1000, 100, 3, 1, 0};
    t.table[3].no_offset = {1000, 100, 40, 0, 0};
    for (const int bits : {8, 5})
      for (const std::size_t rank : {4, 8})
        t.sweep.push_back(method("gsq-4-" + std::to_string(bits) + "-" + std::to_string(bits) + "/x", "lora", bits, rank,
                                 0.7 + 0.01 * bits + 0.001 * rank, 1e6 * rank + 1e4 * bits));
    lt::mark_pareto(t.sweep);
    lt::LrSelection sel{"lora", "f32-lora", {method("f32-lora", "lora", 32, 8, 0.8, 4e6), method("f32-lora", "lora", 32, 8, 0.7, 4e6)}, 0.01f};
    sel.trials[1].lr = 0.02f;
    t.lr.push_back(sel);
    t.formats.push_back({0, 8, 32, 8.15625, 0.01, 1.0, 0.02, 0.98});
    r.tasks.push_back(t);
  }
  return r;
}

// ---- memory ---------------------------------------------------------------------------------------

TEST(Finetune, MemoryFormulaOnHandComputedCases) {
  // Two layers 64 -> 32 -> 8, rank 2, batch 4.
  const std::vector<lt::LayerShape> layers{{64, 32}, {32, 8}};
  // ReLU masks 4 x 32 x 1 bit, probabilities 4 x 8 x 32 bits.
  EXPECT_EQ(lt::loss_activation_bits(layers, 4), 128 + 1024);

  // fp32 LoRA: base (2048 + 256) x 32; P = 2 (64 + 32) + 2 (32 + 8) = 272 parameters x 128 bits;
  // x and h: 4 (64 + 2) + 4 (32 + 2) = 400 values x 32 bits.
  const lt::Memory f = lt::lora_memory(layers, 2, lt::lora_config("f32"), 4);
  EXPECT_EQ(f.base_bits, 73728);
  EXPECT_EQ(f.trainable_bits, 34816);
  EXPECT_EQ(f.activation_bits, 12800 + 1152);
  EXPECT_EQ(f.total_bytes(), 122496.0 / 8);

  // GSQ INT8: NF4 + DQ base 2304 x (4 + 8/64 + 32/16384) = 9508.5; activations at 8 + 5/32 bits.
  const lt::Memory g = lt::lora_memory(layers, 2, lt::lora_config("gsq-4-8-8/8-8-8"), 4);
  EXPECT_EQ(g.base_bits, 2304 * 4.126953125);
  EXPECT_EQ(g.trainable_bits, 34816);
  EXPECT_EQ(g.activation_bits, 400 * 8.15625 + 1152);
  // FP8: E4M3 activations, 8 bits.
  EXPECT_EQ(lt::lora_memory(layers, 2, lt::lora_config("fp8"), 4).activation_bits, 400 * 8 + 1152);
  // QLoRA: NF4 base, fp32 activations.
  const lt::Memory q = lt::lora_memory(layers, 2, lt::lora_config("qlora"), 4);
  EXPECT_EQ(q.base_bits, g.base_bits);
  EXPECT_EQ(q.activation_bits, f.activation_bits);

  // QEFT, k = {4, 8}, one group per row (IC <= 128): codes 4 bits, fp16 scale + zero per row,
  // an int32 index per weak column; k OC trainable; the weak slices of x in fp32.
  const lt::Memory w = lt::qeft_memory(layers, {4, 8}, 128, 4);
  EXPECT_EQ(w.base_bits, (32 * 64 * 4 + 32 * 32 + 4 * 32) + (8 * 32 * 4 + 8 * 32 + 8 * 32));
  EXPECT_EQ(w.trainable_bits, (4 * 32 + 8 * 8) * 128);
  EXPECT_EQ(w.activation_bits, 4 * (4 + 8) * 32 + 1152);
  // Groups of 32 on the second layer: 32 / 32 = 1 group; on the first 64 / 32 = 2.
  EXPECT_EQ(lt::qeft_memory(layers, {4, 8}, 32, 4).base_bits, (32 * 64 * 4 + 32 * 2 * 32 + 4 * 32) + (8 * 32 * 4 + 8 * 32 + 8 * 32));

  // Full fine-tuning: no frozen base; every weight trainable; x of each layer in fp32.
  const lt::Memory full = lt::full_memory(layers, 4);
  EXPECT_EQ(full.base_bits, 0);
  EXPECT_EQ(full.trainable_bits, 2304 * 128);
  EXPECT_EQ(full.activation_bits, 4 * (64 + 32) * 32 + 1152);
}

TEST(Finetune, QeftKMatchesTheLoraParameterCount) {
  // r (IC + OC) / OC, rounded; the 16-output classifier reaches the IC / 2 cap.
  const std::vector<lt::LayerShape> layers{{64, 256}, {256, 256}, {256, 16}};
  EXPECT_EQ(lt::qeft_k_for_rank(layers, 16), (std::vector<std::size_t>{20, 32, 128}));
  EXPECT_EQ(lt::qeft_k_for_rank(layers, 8), (std::vector<std::size_t>{10, 16, 128}));
  EXPECT_EQ(lt::qeft_k_for_rank({{64, 64}}, 1), (std::vector<std::size_t>{2}));
}

// ---- fp32 pieces ----------------------------------------------------------------------------------

TEST(Finetune, FastMatmulEqualsMatmulNtBitForBit) {
  for (const auto& [m, n, k] : {std::tuple{1, 1, 1}, {3, 5, 7}, {17, 9, 64}, {32, 8, 65}}) {
    lt::Matrix a = lt::gaussian(m, k, 1.0f, 11 + m), b = lt::gaussian(n, k, 3.0f, 13 + n);
    a.v[0] = -0.0f;
    b.v[0] = 0.0f;
    const lt::Matrix want = lt::matmul_nt(a, b), got = lt::matmul_nt_fast(a, b);
    ASSERT_EQ(got.rows, want.rows);
    ASSERT_EQ(got.cols, want.cols);
    for (std::size_t i = 0; i < want.v.size(); ++i)
      ASSERT_EQ(std::bit_cast<std::uint32_t>(got.v[i]), std::bit_cast<std::uint32_t>(want.v[i])) << m << "x" << n << "x" << k;
  }
  EXPECT_THROW(lt::matmul_nt_fast(lt::Matrix(2, 3), lt::Matrix(2, 4)), lowbit::Error);
}

TEST(Finetune, SoftmaxCrossEntropy) {
  lt::Matrix z(2, 2);
  z(0, 1) = std::log(3.0f);  // p = (1/4, 3/4)
  z(1, 0) = 5.0f;            // argmax 0
  const lt::LossResult r = lt::softmax_cross_entropy(z, {1, 1});
  const double loss1 = -std::log(0.75), loss2 = std::log(1 + std::exp(-5.0)) + 5;
  EXPECT_NEAR(r.loss, (loss1 + loss2) / 2, 1e-6);
  EXPECT_EQ(r.correct, 1u);
  EXPECT_NEAR(r.grad(0, 0), 0.25 / 2, 1e-7);
  EXPECT_NEAR(r.grad(0, 1), -0.25 / 2, 1e-7);
  EXPECT_NEAR(r.grad(1, 0) + r.grad(1, 1), 0, 1e-7);  // each row of p - onehot sums to 0
}

TEST(Finetune, TaskIsDeterministicAndShifted) {
  const lt::FinetuneSettings s = tiny();
  for (const lt::TaskKind kind : {lt::TaskKind::dense, lt::TaskKind::outlier}) {
    SCOPED_TRACE(std::string(lt::task_name(kind)));
    const lt::Task a = lt::make_task(s, kind), b = lt::make_task(s, kind);
    EXPECT_EQ(a.finetune.x.v, b.finetune.x.v);
    EXPECT_EQ(a.finetune.labels, b.finetune.labels);
    EXPECT_EQ(a.pretrain.labels, b.pretrain.labels);
    EXPECT_EQ(a.validation.x.v, b.validation.x.v);
    ASSERT_EQ(a.test.labels.size(), s.test_examples);
    std::vector<int> seen(s.classes);
    std::size_t same = 0;
    const std::vector<int> original = a.pretrain_teacher.label(a.test.x);
    for (std::size_t i = 0; i < a.test.labels.size(); ++i) {
      ASSERT_GE(a.test.labels[i], 0);
      ASSERT_LT(a.test.labels[i], static_cast<int>(s.classes));
      ++seen[a.test.labels[i]];
      same += original[i] == a.test.labels[i];
    }
    for (const int c : seen) EXPECT_GT(c, 0);
    // The shift changes a good part of the labels, not all of them.
    EXPECT_GT(same, a.test.labels.size() / 5);
    EXPECT_LT(same, a.test.labels.size() * 4 / 5);
    EXPECT_NE(lt::make_task(tiny(8), kind).finetune.labels, a.finetune.labels);
  }
  EXPECT_NE(lt::make_task(s, lt::TaskKind::dense).finetune.x.v, lt::make_task(s, lt::TaskKind::outlier).finetune.x.v);
  lt::FinetuneSettings bad = s;
  bad.outliers = bad.input;
  EXPECT_THROW(lt::make_task(bad, lt::TaskKind::outlier), lowbit::Error);
}

// The outlier task is built as LLM activations are: a few features 10-100x the rest, and the
// shift carried by exactly those features.
TEST(Finetune, OutlierTaskHasOutlierFeaturesThatCarryTheShift) {
  const lt::FinetuneSettings s = tiny();
  const lt::Task t = lt::make_task(s, lt::TaskKind::outlier);
  ASSERT_EQ(t.outlier_channels.size(), s.outliers);
  ASSERT_EQ(t.outlier_scales.size(), s.outliers);
  EXPECT_TRUE(std::is_sorted(t.outlier_channels.begin(), t.outlier_channels.end()));
  EXPECT_EQ(std::adjacent_find(t.outlier_channels.begin(), t.outlier_channels.end()), t.outlier_channels.end());
  EXPECT_NE(t.outlier_channels, (std::vector<std::size_t>{0, 1, 2, 3}));  // chosen by the seed
  EXPECT_TRUE(lt::make_task(s, lt::TaskKind::dense).outlier_channels.empty());
  auto is_outlier = [&](std::size_t j) {
    return std::find(t.outlier_channels.begin(), t.outlier_channels.end(), j) != t.outlier_channels.end();
  };
  // Magnitudes measured on every data set the model sees: each outlier feature's RMS is 10-100x
  // the RMS of the ordinary features (and those are N(0, 1)).
  for (const lt::Matrix* x : {&t.pretrain.x, &t.finetune.x, &t.validation.x, &t.test.x, &t.calibration}) {
    std::vector<double> ms(s.input);
    for (std::size_t r = 0; r < x->rows; ++r)
      for (std::size_t j = 0; j < x->cols; ++j) ms[j] += double((*x)(r, j)) * (*x)(r, j) / static_cast<double>(x->rows);
    double ordinary = 0;
    for (std::size_t j = 0; j < s.input; ++j)
      if (!is_outlier(j)) ordinary += ms[j] / static_cast<double>(s.input - s.outliers);
    EXPECT_NEAR(std::sqrt(ordinary), 1, 0.1);
    for (const std::size_t j : t.outlier_channels) {
      const double ratio = std::sqrt(ms[j] / ordinary);
      EXPECT_GE(ratio, 10) << "feature " << j;
      EXPECT_LE(ratio, 100) << "feature " << j;
    }
  }
  // The shift: the teachers differ exactly in the outlier features' columns of U, V is the same.
  EXPECT_EQ(t.shifted_teacher.v.v, t.pretrain_teacher.v.v);
  for (std::size_t i = 0; i < s.teacher_hidden; ++i)
    for (std::size_t j = 0; j < s.input; ++j) {
      const float a = t.pretrain_teacher.u(i, j), b = t.shifted_teacher.u(i, j);
      if (is_outlier(j))
        EXPECT_NE(a, b) << i << "," << j;
      else
        EXPECT_EQ(std::bit_cast<std::uint32_t>(a), std::bit_cast<std::uint32_t>(b)) << i << "," << j;
    }
  // The outlier features carry about outlier_share of the teacher's pre-activation variance.
  double from_outliers = 0, total = 0;
  for (std::size_t r = 0; r < t.test.x.rows; ++r)
    for (std::size_t i = 0; i < s.teacher_hidden; ++i) {
      double a = 0, b = 0;
      for (std::size_t j = 0; j < s.input; ++j) (is_outlier(j) ? a : b) += double(t.pretrain_teacher.u(i, j)) * t.test.x(r, j);
      from_outliers += a * a;
      total += a * a + b * b;
    }
  EXPECT_NEAR(from_outliers / total, s.outlier_share, 0.2);
}

// The learning rates are chosen on a validation set of fresh shifted-task examples that shares no
// example with the test set or the fine-tuning data.
TEST(Finetune, ValidationSplitIsDisjointFromTestAndTraining) {
  const lt::FinetuneSettings s = tiny();
  for (const lt::TaskKind kind : {lt::TaskKind::dense, lt::TaskKind::outlier}) {
    SCOPED_TRACE(std::string(lt::task_name(kind)));
    const lt::Task t = lt::make_task(s, kind);
    ASSERT_EQ(t.validation.x.rows, s.validation_examples);
    EXPECT_EQ(t.validation.labels, t.shifted_teacher.label(t.validation.x));
    auto rows = [](const lt::Matrix& x) {
      std::set<std::vector<float>> out;
      for (std::size_t r = 0; r < x.rows; ++r) out.emplace(x.v.begin() + r * x.cols, x.v.begin() + (r + 1) * x.cols);
      return out;
    };
    const std::set<std::vector<float>> validation = rows(t.validation.x);
    EXPECT_EQ(validation.size(), s.validation_examples);
    for (const lt::Matrix* other : {&t.test.x, &t.finetune.x, &t.pretrain.x})
      for (const std::vector<float>& r : rows(*other)) ASSERT_EQ(validation.count(r), 0u);
  }
}

TEST(Finetune, LearningRateChoice) {
  auto trial = [](float lr, double acc, double loss) {
    lt::MethodResult m;
    m.lr = lr;
    m.validation_accuracy = acc;
    m.validation_loss = loss;
    return m;
  };
  EXPECT_EQ(lt::choose_lr({trial(5e-3f, 0.8, 0.5), trial(1e-2f, 0.85, 0.6), trial(2e-2f, 0.84, 0.4)}), 1e-2f);
  // Equal accuracy: the lower validation loss; equal in both: the smaller lr.
  EXPECT_EQ(lt::choose_lr({trial(5e-3f, 0.8, 0.5), trial(1e-2f, 0.8, 0.4)}), 1e-2f);
  EXPECT_EQ(lt::choose_lr({trial(2e-2f, 0.8, 0.4), trial(1e-2f, 0.8, 0.4)}), 1e-2f);
  EXPECT_THROW(lt::choose_lr({}), lowbit::Error);
  // In the run: every family chose from its grid by the rule, and every row uses its family's lr.
  const lt::FinetuneReport& r = tiny_report();
  for (const lt::TaskReport& t : r.tasks) {
    ASSERT_EQ(t.lr.size(), 3u);
    for (const lt::LrSelection& l : t.lr) {
      EXPECT_EQ(l.chosen, lt::choose_lr(l.trials)) << l.family;
      const std::vector<float>& grid = l.family == "lora" ? r.settings.lora_lrs : l.family == "qeft" ? r.settings.qeft_lrs : r.settings.full_lrs;
      ASSERT_EQ(l.trials.size(), grid.size());
      for (std::size_t i = 0; i < grid.size(); ++i) EXPECT_EQ(l.trials[i].lr, grid[i]);
      for (const lt::MethodResult& m : t.table)
        if (m.family == l.family) {
          EXPECT_EQ(m.lr, l.chosen) << m.name;
        }
      // The table's row is the chosen trial itself (the seeds do not depend on the lr).
      for (const lt::MethodResult& m : l.trials)
        if (m.lr == l.chosen) {
          EXPECT_EQ(m.test_loss, row(t, l.method).test_loss);
        }
    }
    for (const lt::MethodResult& m : t.sweep) EXPECT_EQ(m.lr, t.lr[0].chosen);
  }
}

TEST(Finetune, ParetoMarks) {
  std::vector<lt::MethodResult> p(4);
  const double mem[] = {1, 2, 2, 3}, acc[] = {0.5, 0.7, 0.6, 0.65};
  for (int i = 0; i < 4; ++i) {
    p[i].memory.base_bits = mem[i];
    p[i].accuracy = acc[i];
  }
  lt::mark_pareto(p);
  EXPECT_TRUE(p[0].pareto);   // the least memory
  EXPECT_TRUE(p[1].pareto);   // the best accuracy
  EXPECT_FALSE(p[2].pareto);  // same memory as [1], lower accuracy
  EXPECT_FALSE(p[3].pareto);  // more memory than [1], lower accuracy
}

// ---- writers ------------------------------------------------------------------------------------

TEST(Finetune, CsvAndSvgAreWellFormed) {
  const lt::FinetuneReport r = synthetic_report();
  const std::size_t table_rows = r.tasks[0].table.size() + r.tasks[1].table.size();
  const std::size_t sweep_rows = r.tasks[0].sweep.size() + r.tasks[1].sweep.size();
  for (const auto& [csv, rows, fields_want] : {std::tuple{lt::table_csv(r), table_rows, 24u}, {lt::sweep_csv(r), sweep_rows, 25u},
                                               {lt::lr_csv(r), std::size_t{4}, 7u}}) {
    const std::vector<std::string> lines = split(csv, '\n');
    ASSERT_EQ(lines.size(), rows + 2);  // header, rows, the empty string after the last newline
    EXPECT_EQ(lines.back(), "");
    const std::size_t fields = split(lines[0], ',').size();
    EXPECT_EQ(fields, fields_want);
    for (std::size_t i = 1; i <= rows; ++i) {
      const std::vector<std::string> f = split(lines[i], ',');
      ASSERT_EQ(f.size(), fields) << lines[i];
      EXPECT_TRUE(f[0] == "dense" || f[0] == "outlier") << lines[i];
      for (std::size_t j = 3; j < f.size(); ++j) {
        char* end = nullptr;
        std::strtod(f[j].c_str(), &end);
        EXPECT_TRUE(!f[j].empty() && *end == '\0') << "field " << j << " of " << lines[i];
      }
    }
  }
  EXPECT_NE(lt::table_csv(r).find("\noutlier,fp8,lora,8,"), std::string::npos);
  EXPECT_NE(lt::table_csv(r).find(",100,3,1,40,0\n"), std::string::npos);  // groups, clamps as trained and at offset 0
  EXPECT_NE(lt::lr_csv(r).find("dense,lora,f32-lora,0.02,0.000000,0.000000,0\n"), std::string::npos);
  const std::string svg = lt::pareto_svg(r);
  EXPECT_TRUE(well_formed_xml(svg));
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  // A panel per task: one polyline per bit width and one for the frontier, a circle per sweep
  // point; the legend, drawn once, a circle per bit width.
  EXPECT_EQ(count(svg, "<polyline"), 6u);
  EXPECT_EQ(count(svg, "<circle"), sweep_rows + 2);
  EXPECT_EQ(count(svg, "dense task: a dense low-rank shift"), 1u);
  EXPECT_EQ(count(svg, "outlier task: the shift carried by 4 outlier input features"), 1u);
  EXPECT_EQ(count(svg, "fp32 LoRA (r 8)"), 1u);
  EXPECT_EQ(count(svg, "GSE-INT5 (ranks 4..8)"), 1u);
  EXPECT_EQ(count(svg, "60.0% (off scale)"), 2u);  // QEFT, over 5 points below the sweep, in each panel
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);

  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "lowbit_finetune_writers" / "sub";
  std::filesystem::remove_all(dir.parent_path());
  lt::write_finetune_outputs(r, dir.string());
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  EXPECT_EQ(slurp(dir / "table.csv"), lt::table_csv(r));
  EXPECT_EQ(slurp(dir / "sweep.csv"), lt::sweep_csv(r));
  EXPECT_EQ(slurp(dir / "lr.csv"), lt::lr_csv(r));
  EXPECT_EQ(slurp(dir / "pareto.svg"), svg);
  lt::write_finetune_outputs(r, dir.string());  // an older run's folder is replaced
  EXPECT_EQ(slurp(dir / "table.csv"), lt::table_csv(r));
  // Never written through a link in the folder, and a folder of other files is left as it is.
  const std::filesystem::path outside = dir.parent_path() / "outside.csv";
  std::ofstream(outside) << "keep";
  std::filesystem::remove(dir / "table.csv");
  std::filesystem::create_symlink(outside, dir / "table.csv");
  EXPECT_THROW(lt::write_finetune_outputs(r, dir.string()), lowbit::Error);
  EXPECT_EQ(slurp(outside), "keep");
  EXPECT_TRUE(std::filesystem::is_symlink(dir / "table.csv"));
  std::filesystem::remove_all(dir.parent_path());
}

// ---- the experiment -------------------------------------------------------------------------------

TEST(Finetune, MarkdownTables) {
  const lt::FinetuneReport r = synthetic_report();
  const std::string md = lt::report_markdown(r);
  EXPECT_EQ(count(md, "#### Dense task (seed 7)"), 1u);
  EXPECT_EQ(count(md, "#### Outlier task (seed 7)"), 1u);
  EXPECT_EQ(count(md, "| pretrained (no fine-tuning) | 32 | 32 | - | 0 | - |"), 2u);
  EXPECT_EQ(count(md, "| lora | f32-lora | 0.01: 0.00%*, 0.02: 0.00% | 0.01 |"), 2u);
  EXPECT_EQ(count(md, "| fp8 | 100 | 3.000% | 40.000% | 1.000% | 0.000% |"), 2u);
  EXPECT_EQ(count(md, "| L1 | 8 | - | 1.00% / 2.00% | - | - | 1.0000 / 0.9800 |"), 2u);
  // Every table row has as many cells as its header.
  std::size_t header = 0;
  for (const std::string& line : split(md, '\n')) {
    if (line.empty() || line[0] != '|') {
      header = 0;
      continue;
    }
    const std::size_t cells = static_cast<std::size_t>(std::count(line.begin(), line.end(), '|'));
    if (header == 0) header = cells;
    EXPECT_EQ(cells, header) << line;
  }
  // Over seeds: the mean and its difference to fp32 LoRA.
  lt::FinetuneReport other = r;
  other.settings.seed = 8;
  for (lt::TaskReport& t : other.tasks)
    for (lt::MethodResult& m : t.table) m.accuracy -= 0.1;
  const std::string seeds = lt::seeds_markdown({r, other});
  EXPECT_EQ(count(seeds, "| method | seed 7 | seed 8 | mean | mean - fp32 LoRA |"), 2u);
  EXPECT_EQ(count(seeds, "| qeft | 60.00% | 50.00% | 55.00% | -20.00 |"), 2u);
  EXPECT_EQ(count(seeds, "| pretrained (no fine-tuning) | 40.00% | 30.00% | 35.00% |  |"), 2u);
  EXPECT_EQ(count(seeds, "Pre-trained accuracy on its own task: 0.00%, 0.00%. Chosen learning rates (lora / qeft / full): "
                         "seed 7 0.01; seed 8 0.01.\n"),
            2u);
  EXPECT_THROW(lt::seeds_markdown({}), lowbit::Error);
}

TEST(Finetune, SameSeedSameBits) {
  const lt::FinetuneReport& a = tiny_report();
  const lt::FinetuneReport b = lt::run_finetune_experiment(tiny());
  EXPECT_EQ(lt::table_csv(a), lt::table_csv(b));
  EXPECT_EQ(lt::sweep_csv(a), lt::sweep_csv(b));
  EXPECT_EQ(lt::lr_csv(a), lt::lr_csv(b));
  EXPECT_EQ(lt::pareto_svg(a), lt::pareto_svg(b));
  EXPECT_EQ(lt::report_markdown(a), lt::report_markdown(b));
  ASSERT_EQ(a.tasks.size(), 2u);
  ASSERT_EQ(b.tasks.size(), 2u);
  EXPECT_EQ(a.tasks[0].task, lt::TaskKind::dense);
  EXPECT_EQ(a.tasks[1].task, lt::TaskKind::outlier);
  for (std::size_t k = 0; k < 2; ++k) {
    const lt::TaskReport &ta = a.tasks[k], &tb = b.tasks[k];
    SCOPED_TRACE(std::string(lt::task_name(ta.task)));
    ASSERT_EQ(ta.table.size(), tb.table.size());
    for (std::size_t i = 0; i < ta.table.size(); ++i) {
      const lt::MethodResult &x = ta.table[i], &y = tb.table[i];
      EXPECT_EQ(std::bit_cast<std::uint64_t>(x.final_loss), std::bit_cast<std::uint64_t>(y.final_loss)) << x.name;
      EXPECT_EQ(std::bit_cast<std::uint64_t>(x.test_loss), std::bit_cast<std::uint64_t>(y.test_loss)) << x.name;
      EXPECT_EQ(std::bit_cast<std::uint64_t>(x.validation_loss), std::bit_cast<std::uint64_t>(y.validation_loss)) << x.name;
    }
    ASSERT_EQ(ta.sweep.size(), 4u);
    // The table: pretrained, then the seven methods and full fine-tuning.
    std::vector<std::string> names;
    for (const lt::MethodResult& m : ta.table) names.push_back(m.name);
    EXPECT_EQ(names, (std::vector<std::string>{"pretrained", "f32-lora", "qlora", "gsq-4-8-8/8-8-8", "gsq-4-6-6/6-6-6",
                                               "gsq-4-5-5/5-5-5", "fp8", "qeft", "full-f32"}));
    // Every number is finite; the GSQ rows at the table's rank are the sweep's points.
    for (const lt::MethodResult& m : ta.table) {
      EXPECT_TRUE(std::isfinite(m.final_loss) && std::isfinite(m.test_loss) && std::isfinite(m.validation_loss)) << m.name;
      EXPECT_GE(m.accuracy, 0);
      EXPECT_LE(m.accuracy, 1);
    }
    EXPECT_EQ(row(ta, "gsq-4-8-8/8-8-8").test_loss, ta.sweep[1].test_loss);
  }
  // The dense task does not depend on the outlier task being run.
  lt::FinetuneSettings dense_only = tiny();
  dense_only.tasks = {lt::TaskKind::dense};
  const lt::FinetuneReport d = lt::run_finetune_experiment(dense_only);
  ASSERT_EQ(d.tasks.size(), 1u);
  EXPECT_EQ(d.tasks[0].table.back().test_loss, a.tasks[0].table.back().test_loss);
}

TEST(Finetune, ReorderedQeftModelStartsWhereTheFp32ModelIs) {
  // The weak columns are moved last by permuting the data's features and the previous layer's
  // rows; only the 4-bit quantization may change the predictions before fine-tuning.
  for (const lt::TaskReport& t : tiny_report().tasks) {
    EXPECT_NEAR(row(t, "qeft").initial_accuracy, row(t, "pretrained").accuracy, 0.05) << lt::task_name(t.task);
    EXPECT_EQ(row(t, "f32-lora").initial_test_loss, row(t, "pretrained").test_loss);  // B = 0: the same function
  }
}

TEST(Finetune, LoraLowersTheShiftedTaskLoss) {
  for (const lt::TaskReport& t : tiny_report().tasks)
    for (const char* name : {"f32-lora", "qlora", "gsq-4-8-8/8-8-8"}) {
      const lt::MethodResult& m = row(t, name);
      EXPECT_LT(m.test_loss, 0.8 * m.initial_test_loss) << lt::task_name(t.task) << " " << name;
      EXPECT_GT(m.accuracy, m.initial_accuracy + 0.05) << lt::task_name(t.task) << " " << name;
    }
}

// QEFT's weak columns, chosen by activation sensitivity, hold the outlier features: the columns
// that carry the outlier task's shift.
TEST(Finetune, QeftWeakColumnsHoldTheOutlierFeatures) {
  const lt::FinetuneSettings s = tiny();
  const lt::Task t = lt::make_task(s, lt::TaskKind::outlier);
  lt::Mlp m = lt::init_mlp(s);
  lt::train_full(m, t.pretrain, s.pretrain_steps, s.batch, s.pretrain_lr, 3);
  const std::vector<std::vector<std::int32_t>> weak = lt::qeft_weak_columns(s, t, m, s.rank);
  ASSERT_EQ(weak.size(), 3u);
  EXPECT_EQ(weak[0].size(), lt::qeft_k_for_rank(lt::mlp_shapes(s), s.rank)[0]);
  for (const std::size_t j : t.outlier_channels)
    EXPECT_TRUE(std::binary_search(weak[0].begin(), weak[0].end(), static_cast<std::int32_t>(j))) << "feature " << j;
}

// The exponent clamps of the GSE methods, counted on the operands as trained and on the same
// operands encoded with exponent offset 0: the offset is what keeps the gradients in the field.
TEST(Finetune, ClampsCountedWithAndWithoutTheOffset) {
  for (const lt::TaskReport& t : tiny_report().tasks)
    for (const lt::MethodResult& m : t.table) {
      SCOPED_TRACE(std::string(lt::task_name(t.task)) + " " + m.name);
      if (m.name.rfind("gsq-", 0) != 0) {
        EXPECT_EQ(m.no_offset.groups, 0u);  // no GSE operand
        continue;
      }
      EXPECT_GT(m.stats.groups, 0u);
      EXPECT_EQ(m.no_offset.groups, m.stats.groups);  // the same operands, the same groups
      EXPECT_EQ(m.no_offset.values, m.stats.values);
      EXPECT_GT(m.no_offset.exp_underflow, 10 * m.stats.exp_underflow + 10) << m.stats.exp_underflow;
    }
}

// The measurement behind gse.md's defaults: rtz (the paper's right shift) shrinks the product
// (gain below 1) and errs more than rne; smaller groups and more bits err less.
TEST(Finetune, GseRoundingAndGroupMeasurement) {
  for (const lt::TaskReport& t : tiny_report().tasks) {
    SCOPED_TRACE(std::string(lt::task_name(t.task)));
    ASSERT_EQ(t.formats.size(), 2u * 3u * 2u);  // L1 and L2 (IC 64), bits 8 and 5, groups 16, 32, 64
    for (const lt::FormatError& f : t.formats) {
      EXPECT_LT(f.rne_error, f.rtz_error);
      EXPECT_LT(std::fabs(f.rne_gain - 1), 0.02);
      EXPECT_LT(f.rtz_gain, 1 - std::fabs(f.rne_gain - 1));
      EXPECT_EQ(f.bits_per_value, f.bits + 5.0 / f.group);
    }
    for (std::size_t i = 0; i + 1 < t.formats.size(); ++i) {
      const lt::FormatError &a = t.formats[i], &b = t.formats[i + 1];
      if (a.layer == b.layer && a.bits == b.bits) {
        EXPECT_LE(a.rne_error, b.rne_error) << a.bits << " " << a.group;
      } else if (a.layer == b.layer) {
        EXPECT_LT(a.rne_error, b.rne_error);  // 8 bits at groups of 64, then 5 bits at groups of 16
      }
    }
  }
}

}  // namespace
