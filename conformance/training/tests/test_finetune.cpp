// The end-to-end fine-tuning experiment (lowbit/training/finetune.hpp) at a tiny size: the memory
// formula on hand-computed cases, the fp32 pieces written there (the fast matmul equals matmul_nt
// bit for bit, the loss), the task, the Pareto marks, well-formed CSV and SVG, a whole run that
// repeats bit for bit given the seed, and LoRA lowering the shifted task's loss.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
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
  lt::FinetuneSettings s;
  s.seed = seed;
  s.input = 64;
  s.hidden = 64;
  s.classes = 8;
  s.teacher_hidden = 8;
  s.batch = 32;
  s.pretrain_steps = 120;
  s.pretrain_examples = 120 * 32;
  s.finetune_examples = 512;
  s.finetune_steps = 40;
  s.test_examples = 256;
  s.calibration_examples = 64;
  s.rank = 8;
  s.sweep_ranks = {4, 8};
  s.sweep_bits = {8, 5};
  return s;
}

const lt::FinetuneReport& tiny_report() {
  static const lt::FinetuneReport r = lt::run_finetune_experiment(tiny());
  return r;
}

const lt::MethodResult& row(const lt::FinetuneReport& r, const std::string& name) {
  for (const lt::MethodResult& m : r.table)
    if (m.name == name) return m;
  throw std::runtime_error("no row " + name);
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

// A report made by hand, for the writers.
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
    m.memory.trainable_bits = mem_bits;
    return m;
  };
  r.table = {method("pretrained", "none", 32, 0, 0.4, 8e5), method("f32-lora", "lora", 32, 8, 0.8, 4e6),
             method("qlora", "lora", 32, 8, 0.79, 3e6), method("fp8", "lora", 8, 8, 0.78, 2.5e6),
             method("qeft", "qeft", 32, 8, 0.6, 2e6), method("full-f32", "full", 32, 0, 0.81, 9e6)};
  for (const int bits : {8, 5})
    for (const std::size_t rank : {4, 8})
      r.sweep.push_back(method("gsq-4-" + std::to_string(bits) + "-" + std::to_string(bits) + "/x", "lora", bits, rank,
                               0.7 + 0.01 * bits + 0.001 * rank, 1e6 * rank + 1e4 * bits));
  lt::mark_pareto(r.sweep);
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
  const lt::Task a = lt::make_task(s), b = lt::make_task(s);
  EXPECT_EQ(a.finetune.x.v, b.finetune.x.v);
  EXPECT_EQ(a.finetune.labels, b.finetune.labels);
  EXPECT_EQ(a.pretrain.labels, b.pretrain.labels);
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
  EXPECT_NE(lt::make_task(tiny(8)).finetune.labels, a.finetune.labels);
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
  for (const auto& [csv, rows, extra] : {std::tuple{lt::table_csv(r), r.table.size(), 0}, {lt::sweep_csv(r), r.sweep.size(), 1}}) {
    const std::vector<std::string> lines = split(csv, '\n');
    ASSERT_EQ(lines.size(), rows + 2);  // header, rows, the empty string after the last newline
    EXPECT_EQ(lines.back(), "");
    const std::size_t fields = split(lines[0], ',').size();
    EXPECT_EQ(fields, 15u + extra);
    for (std::size_t i = 1; i <= rows; ++i) {
      const std::vector<std::string> f = split(lines[i], ',');
      ASSERT_EQ(f.size(), fields) << lines[i];
      for (std::size_t j = 2; j < f.size(); ++j) {
        char* end = nullptr;
        std::strtod(f[j].c_str(), &end);
        EXPECT_TRUE(!f[j].empty() && *end == '\0') << "field " << j << " of " << lines[i];
      }
    }
  }
  const std::string svg = lt::pareto_svg(r);
  EXPECT_TRUE(well_formed_xml(svg));
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  // One polyline per bit width and one for the frontier; a circle per sweep point and legend entry.
  std::size_t polylines = 0, circles = 0;
  for (std::size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) ++polylines;
  for (std::size_t at = svg.find("<circle"); at != std::string::npos; at = svg.find("<circle", at + 1)) ++circles;
  EXPECT_EQ(polylines, 3u);
  EXPECT_EQ(circles, r.sweep.size() + 2);
  EXPECT_NE(svg.find("fp32 LoRA (r 8)"), std::string::npos);
  EXPECT_NE(svg.find("GSE-INT5 (ranks 4..8)"), std::string::npos);
  EXPECT_NE(svg.find("60.0% (off scale)"), std::string::npos);  // QEFT, over 5 points below the sweep
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

TEST(Finetune, SameSeedSameBits) {
  const lt::FinetuneReport& a = tiny_report();
  const lt::FinetuneReport b = lt::run_finetune_experiment(tiny());
  EXPECT_EQ(lt::table_csv(a), lt::table_csv(b));
  EXPECT_EQ(lt::sweep_csv(a), lt::sweep_csv(b));
  EXPECT_EQ(lt::pareto_svg(a), lt::pareto_svg(b));
  ASSERT_EQ(a.table.size(), b.table.size());
  for (std::size_t i = 0; i < a.table.size(); ++i) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a.table[i].final_loss), std::bit_cast<std::uint64_t>(b.table[i].final_loss)) << a.table[i].name;
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a.table[i].test_loss), std::bit_cast<std::uint64_t>(b.table[i].test_loss)) << a.table[i].name;
  }
  ASSERT_EQ(a.sweep.size(), 4u);
  // The table: pretrained, then the seven methods and full fine-tuning.
  std::vector<std::string> names;
  for (const lt::MethodResult& m : a.table) names.push_back(m.name);
  EXPECT_EQ(names, (std::vector<std::string>{"pretrained", "f32-lora", "qlora", "gsq-4-8-8/8-8-8", "gsq-4-6-6/6-6-6",
                                             "gsq-4-5-5/5-5-5", "fp8", "qeft", "full-f32"}));
  // Every number is finite; the GSQ rows at the table's rank are the sweep's points.
  for (const lt::MethodResult& m : a.table) {
    EXPECT_TRUE(std::isfinite(m.final_loss) && std::isfinite(m.test_loss)) << m.name;
    EXPECT_GE(m.accuracy, 0);
    EXPECT_LE(m.accuracy, 1);
  }
  EXPECT_EQ(row(a, "gsq-4-8-8/8-8-8").test_loss, a.sweep[1].test_loss);
}

TEST(Finetune, ReorderedQeftModelStartsWhereTheFp32ModelIs) {
  // The weak columns are moved last by permuting the data's features and the previous layer's
  // rows; only the 4-bit quantization may change the predictions before fine-tuning.
  const lt::FinetuneReport& r = tiny_report();
  EXPECT_NEAR(row(r, "qeft").initial_accuracy, row(r, "pretrained").accuracy, 0.05);
  EXPECT_EQ(row(r, "f32-lora").initial_test_loss, row(r, "pretrained").test_loss);  // B = 0: the same function
}

TEST(Finetune, LoraLowersTheShiftedTaskLoss) {
  const lt::FinetuneReport& r = tiny_report();
  for (const char* name : {"f32-lora", "qlora", "gsq-4-8-8/8-8-8"}) {
    const lt::MethodResult& m = row(r, name);
    EXPECT_LT(m.test_loss, 0.8 * m.initial_test_loss) << name;
    EXPECT_GT(m.accuracy, m.initial_accuracy + 0.05) << name;
  }
}

}  // namespace
