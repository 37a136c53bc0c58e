// lowbit weak-columns (conformance/tool/weak_columns_command.hpp), called directly on files in a
// temporary folder: the indices equal the reference's, and every bad input is one UsageError
// that leaves no output file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "lowbit/io/safetensors.hpp"
#include "lowbit/reference/weak_select.hpp"
#include "stream.hpp"
#include "weak_columns_command.hpp"

namespace st = lowbit::io::safetensors;
namespace ref = lowbit::ref;
namespace qeft = lowbit::qeft;
using lowbit::cli::UsageError;
using lowbit::cli::WeakColumnsArgs;

namespace {

class WeakColumnsCommand : public ::testing::Test {
 protected:
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("lowbit_weak_columns_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }

  std::string write(const std::string& name, const std::vector<st::Tensor>& t) {
    const std::string path = (dir / name).string();
    const std::vector<std::uint8_t> bytes = st::write(t);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path;
  }
  WeakColumnsArgs args(const std::string& input, std::size_t k) {
    WeakColumnsArgs a;
    a.k = k;
    a.input = input;
    a.output = (dir / "idx.safetensors").string();
    return a;
  }
  st::File output() {
    std::ifstream f(dir / "idx.safetensors", std::ios::binary);
    const std::vector<std::uint8_t> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    return st::read(b);
  }
  // run_weak_columns' UsageError message; no output file may be left.
  std::string error_of(const WeakColumnsArgs& a) {
    try {
      lowbit::cli::run_weak_columns(a);
    } catch (const UsageError& e) {
      EXPECT_FALSE(std::filesystem::exists(dir / "idx.safetensors"));
      return e.what();
    }
    return "(no error)";
  }
};

std::vector<float> random_floats(std::mt19937& g, std::size_t n) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(g);
  return v;
}

// Two Llama blocks: q, k, v, up, gate read d = 16 columns, o 8, down 24; `tokens` rows each.
std::vector<st::Tensor> llama_activations(std::mt19937& g, std::size_t tokens,
                                          std::vector<std::vector<float>>* residual = nullptr) {
  std::vector<st::Tensor> t;
  for (int b = 0; b < 2; ++b)
    for (const auto& [name, ic] : std::vector<std::pair<std::string, std::size_t>>{
             {"self_attn.q_proj", 16}, {"self_attn.k_proj", 16}, {"self_attn.v_proj", 16}, {"self_attn.o_proj", 8},
             {"mlp.gate_proj", 16}, {"mlp.up_proj", 16}, {"mlp.down_proj", 24}}) {
      const std::vector<float> x = random_floats(g, tokens * ic);
      t.push_back(st::make_tensor("model.layers." + std::to_string(b) + "." + name, "F32", {tokens, ic}, x));
    }
  // The residual readers in extract_outidx.py's order: per block q, k, v, up, gate.
  if (residual)
    for (int b = 0; b < 2; ++b)
      for (const char* n : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "mlp.up_proj", "mlp.gate_proj"})
        for (const st::Tensor& x : t)
          if (x.name == "model.layers." + std::to_string(b) + "." + n)
            residual->push_back(ref::weak_sensitivity(st::values<float>(x, "F32"), tokens, x.shape[1]));
  return t;
}

TEST_F(WeakColumnsCommand, PerLayerAndGlobalIndicesAreTheReferences) {
  std::mt19937 g(1);
  std::vector<std::vector<float>> residual;
  const std::vector<st::Tensor> acts = llama_activations(g, 5, &residual);
  WeakColumnsArgs a = args(write("acts.safetensors", acts), 3);
  for (const char* variant : {"qeft", "per-layer-topk"}) {
    a.global = variant;
    ASSERT_EQ(lowbit::cli::run_weak_columns(a), 0);
    const st::File f = output();
    EXPECT_EQ(f.tensors.size(), acts.size() + 1);
    for (const st::Tensor& x : acts)
      EXPECT_EQ(st::values<std::int32_t>(f.at(x.name), "I32", 1),
                ref::weak_topk(ref::weak_sensitivity(st::values<float>(x, "F32"), 5, x.shape[1]), 3)) << x.name;
    const auto v = a.global == "qeft" ? qeft::OgrVariant::qeft : qeft::OgrVariant::per_layer_topk;
    EXPECT_EQ(st::values<std::int32_t>(f.at("global"), "I32", 1), ref::ogr_global(residual, 3, v));
    EXPECT_EQ(f.metadata, (st::Metadata{{"k", "3"}, {"global", variant}, {"frob_norm", "none"}}));
  }
}

TEST_F(WeakColumnsCommand, WeightsMultiplyTheFrobNormFactor) {
  std::mt19937 g(2);
  const std::vector<float> x = random_floats(g, 4 * 32), w = random_floats(g, 8 * 32);
  WeakColumnsArgs a = args(write("acts.safetensors", {st::make_tensor("l.up_proj", "F32", {4, 32}, x)}), 5);
  a.weights = write("w.safetensors", {st::make_tensor("l.up_proj", "F32", {8, 32}, w),
                                      st::make_tensor("unused", "F32", {1}, std::vector<float>{0})});
  a.bits = 3;
  a.tuning = "minmax";
  ASSERT_EQ(lowbit::cli::run_weak_columns(a), 0);
  std::vector<float> lambda = ref::weak_sensitivity(x, 4, 32);
  ref::weak_apply_frob_norm(lambda, ref::weak_frob_error(w, 8, 32, 3, lowbit::weak::Tuning::minmax));
  const st::File f = output();
  EXPECT_EQ(st::values<std::int32_t>(f.at("l.up_proj"), "I32", 1), ref::weak_topk(lambda, 5));
  EXPECT_EQ(st::values<std::int32_t>(f.at("global"), "I32", 1), ref::weak_topk(lambda, 5));  // one layer: its own mean
  EXPECT_EQ(f.metadata.at("frob_norm"), "3-bit minmax");
}

TEST_F(WeakColumnsCommand, LayersNameTheGlobalIndexInTheirOrder) {
  std::mt19937 g(3);
  const std::vector<float> x1 = random_floats(g, 3 * 8), x2 = random_floats(g, 3 * 8), x3 = random_floats(g, 3 * 4);
  WeakColumnsArgs a = args(write("acts.safetensors", {st::make_tensor("a", "F32", {3, 8}, x1), st::make_tensor("b", "F32", {3, 8}, x2),
                                                      st::make_tensor("c", "F32", {3, 4}, x3)}), 2);
  EXPECT_NE(error_of(a).find("--no-global"), std::string::npos);  // no default residual reader
  a.no_global = true;
  ASSERT_EQ(lowbit::cli::run_weak_columns(a), 0);
  EXPECT_EQ(output().find("global"), nullptr);
  a.no_global = false;
  a.layers = {"b", "a"};
  ASSERT_EQ(lowbit::cli::run_weak_columns(a), 0);
  const std::vector<std::vector<float>> ba = {ref::weak_sensitivity(x2, 3, 8), ref::weak_sensitivity(x1, 3, 8)};
  EXPECT_EQ(st::values<std::int32_t>(output().at("global"), "I32", 1), ref::ogr_global(ba, 2, qeft::OgrVariant::qeft));
}

TEST_F(WeakColumnsCommand, EveryBadInputIsOneUsageError) {
  std::mt19937 g(4);
  const std::vector<float> x = random_floats(g, 2 * 8);
  const std::string good = write("good.safetensors", {st::make_tensor("m.q_proj", "F32", {2, 8}, x),
                                                      st::make_tensor("m.k_proj", "F32", {2, 8}, x),
                                                      st::make_tensor("m.o_proj", "F32", {2, 4}, std::vector<float>(8, 1.0f))});
  const auto expect = [&](WeakColumnsArgs a, const std::string& want) {
    const std::string e = error_of(a);
    EXPECT_NE(e.find(want), std::string::npos) << "got: " << e;
  };
  expect(args(good, 0), "--k must be at least 1");
  expect(args(good, 4), "not below the 4 input channels of 'm.o_proj'");
  WeakColumnsArgs a = args(good, 2);
  a.global = "paper";
  expect(a, "unknown --global 'paper'");
  a = args(good, 2);
  a.bits = 4;
  expect(a, "apply to --weights only");
  a = args(good, 2);
  a.no_global = true;
  a.layers = {"m.q_proj"};
  expect(a, "not with --no-global");
  a = args(good, 2);
  a.layers = {"m.q_proj", "m.v_proj"};
  expect(a, "'m.v_proj', which the input does not hold");
  a.layers = {"m.q_proj", "m.q_proj"};
  expect(a, "'m.q_proj' twice");
  a.layers = {"m.q_proj", "m.o_proj"};
  expect(a, "must share IC");
  a = args(good, 2);
  a.weights = write("w.safetensors", {st::make_tensor("m.q_proj", "F32", {3, 8}, std::vector<float>(24, 1.0f))});
  expect(a, "--weights holds no tensor 'm.k_proj'");
  a.weights = write("w.safetensors", {st::make_tensor("m.q_proj", "F32", {3, 8}, std::vector<float>(24, 1.0f)),
                                      st::make_tensor("m.k_proj", "F32", {2, 7}, std::vector<float>(14, 1.0f)),
                                      st::make_tensor("m.o_proj", "F32", {2, 4}, std::vector<float>(8, 1.0f))});
  expect(a, "weight 'm.k_proj' has 7 input channels, its activations 8");
  a.bits = 5;
  expect(a, "--bits 5 is not 2, 3 or 4");
  a.bits = 4;
  a.tuning = "gptq";
  expect(a, "unknown --tuning 'gptq'");
  expect(args(write("i32.safetensors", {st::make_tensor("m.q_proj", "I32", {2, 8}, std::vector<std::int32_t>(16))}), 2),
         "activations 'm.q_proj' must be F32 [tokens, IC], not I32 with 2 dimensions");
  expect(args(write("rank3.safetensors", {st::make_tensor("m.q_proj", "F32", {1, 2, 8}, x)}), 2), "not F32 with 3 dimensions");
  expect(args(write("empty.safetensors", {st::make_tensor("m.q_proj", "F32", {0, 8}, std::vector<float>{})}), 2), "hold no tokens");
  expect(args(write("none.safetensors", {}), 2), "holds no tensors");
  expect(args(write("nan.safetensors", {st::make_tensor("m.q_proj", "F32", {1, 4}, std::vector<float>{1, NAN, 2, 3})}), 1),
         "layer 'm.q_proj': weak_sensitivity: an activation is not finite");
  expect(args(write("zero.safetensors", {st::make_tensor("m.q_proj", "F32", {1, 4}, std::vector<float>(4, 0.0f))}), 1),
         "zero sensitivity in every column");
  expect(args(write("named.safetensors", {st::make_tensor("global", "F32", {1, 4}, std::vector<float>(4, 1.0f))}), 1),
         "may not be called 'global'");
  const std::string junk = (dir / "junk").string();
  std::ofstream(junk) << "not a safetensors file";
  expect(args(junk, 1), "is a raw stream, not a .safetensors file (the activations)");
  expect(args((dir / "missing").string(), 1), "cannot read");
}

}  // namespace
