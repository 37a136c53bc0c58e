// gpt-oss's MXFP4 checkpoints (openai/gpt-oss gpt_oss/torch/weights.py): <w>.blocks / <w>.scales and the
// Hugging Face <w>_blocks / <w>_scales are recognised as mxfp4-gptoss, and dequantize gives
// FP4_VALUES[nibble] * 2^(scale - 127), the even element from the low nibble, as [..., G * 32]. convert
// mxfp4-gptoss writes the layout: the codes and scales of convert mxfp4-e2m1, in gpt-oss's names and
// shapes, read back by the reader above.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "convert_tester.hpp"
#include "lowbit/io/model_layouts.hpp"
#include "lowbit/mx.hpp"

namespace {

using namespace lowbit::testing;

constexpr float kInf = std::numeric_limits<float>::infinity();

// Two experts, two rows, one group each: blocks [2, 2, 1, 16], scales [2, 2, 1].
std::vector<st::Tensor> gptoss_tensors(const std::string& blocks, const std::string& scales) {
  std::vector<std::uint8_t> b(2 * 2 * 16, 0), s{127, 128, 126, 0xFF};
  b[0] = 0x21;   // elements 0, 1: codes 1 (0.5) and 2 (1.0)
  b[16] = 0xF7;  // row 1: codes 7 (6.0) and 15 (-6.0), times 2
  b[32] = 0x09;  // row 2: code 9 (-0.5), times 1/2
  b[48] = 0x01;  // row 3, scale 0xFF: E8M0's NaN
  return {st::make_tensor(blocks, "U8", {2, 2, 1, 16}, b), st::make_tensor(scales, "U8", {2, 2, 1}, s)};
}

TEST(ConvertGptoss, RecognisedAndDequantizedInBothNamings) {
  for (const auto& [w, sep] : {std::pair{std::string("block.0.mlp.mlp1_weight"), '.'},
                               std::pair{std::string("model.layers.0.mlp.experts.gate_up_proj"), '_'}}) {
    const std::string in = write_checkpoint(fresh_temp_path("gptoss_in"), gptoss_tensors(w + sep + "blocks", w + sep + "scales"));
    const md::Model m = md::Model::open(in);
    const std::vector<md::Weight> ws = md::recognise(m);
    ASSERT_EQ(ws.size(), 1u);
    EXPECT_EQ(ws[0].format, "mxfp4-gptoss");
    ASSERT_EQ(ws[0].companions.size(), 1u);
    EXPECT_EQ(ws[0].companions[0]->name, w + sep + "scales");
    const md::Model d = dequantized("gptoss", m);
    const md::TensorInfo* t = d.find(w);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->shape, (std::vector<std::uint64_t>{2, 2, 32}));
    const std::vector<float> v = values_of(d.load(*t));
    EXPECT_EQ(v[0], 0.5f);
    EXPECT_EQ(v[1], 1.0f);
    EXPECT_EQ(v[2], 0.0f);
    EXPECT_EQ(v[32], 12.0f);
    EXPECT_EQ(v[33], -12.0f);
    EXPECT_EQ(v[64], -0.25f);
    EXPECT_TRUE(std::isnan(v[96]));
  }
}

TEST(ConvertGptoss, ScalesOfAnotherShape) {
  std::vector<st::Tensor> t = gptoss_tensors("w.blocks", "w.scales");
  t[1] = st::make_tensor("w.scales", "U8", {4}, std::vector<std::uint8_t>(4, 127));
  const md::Model m = md::Model::open(write_checkpoint(fresh_temp_path("gptoss_bad"), t));
  expect_error([&] { md::recognise(m); }, lowbit::Errc::data, {"w.blocks", "w.scales", "gpt-oss"});
}

// Every in-feature count a multiple of 32 (64 and 128), as gpt-oss's layout needs.
const LlamaDims kWhole{64, 128, 96, 2};

// A checkpoint converted with gptoss_target and with mx_target (fp4_e2m1) in the same rounding: the same
// codes and scales, in gpt-oss's names and shapes; both dequantize to the same values.
void check_written(const std::string& dtype, int shards, lowbit::Rounding r, std::uint64_t seed) {
  const std::string name = fmt::format("gptoss_write_{}_{}_{}", dtype, shards, lowbit::name(r));
  SCOPED_TRACE(name);
  const std::vector<st::Tensor> tensors = llama_with_values(dtype, kWhole);
  const md::Model q = md::Model::open(convert_checked(name, tensors, shards, [=] { return md::gptoss_target(r, seed); }));
  const md::Model mx = md::Model::open(convert_checked(name + "_mx", tensors, shards, [=] { return md::mx_target(lowbit::mx::Format::fp4_e2m1, r, seed); }));
  const md::Model d = dequantized(name, q), dmx = dequantized(name + "_mx", mx);
  std::map<std::string, md::Weight> weights;
  for (const md::Weight& w : md::recognise(q)) weights.emplace(w.tensor->name, w);
  std::size_t written = 0;
  for (const st::Tensor& t : tensors) {
    SCOPED_TRACE(t.name);
    if (!selected(t)) {
      EXPECT_EQ(weights.at(t.name).format, "plain");
      EXPECT_EQ(q.load(q.at(t.name)), t);
      continue;
    }
    const std::uint64_t oc = t.shape[0], g = t.shape[1] / 32;
    const md::Weight& w = weights.at(t.name + ".blocks");
    EXPECT_EQ(w.format, "mxfp4-gptoss");
    ASSERT_EQ(w.companions.size(), 1u);
    EXPECT_EQ(w.companions[0]->name, t.name + ".scales");
    const st::Tensor blocks = q.load(*w.tensor), scales = q.load(*w.companions[0]);
    EXPECT_EQ(blocks.dtype, "U8");
    EXPECT_EQ(blocks.shape, (std::vector<std::uint64_t>{oc, g, 16}));
    EXPECT_EQ(blocks.bytes, mx.load(mx.at(t.name)).bytes);
    EXPECT_EQ(scales.dtype, "U8");
    EXPECT_EQ(scales.shape, (std::vector<std::uint64_t>{oc, g}));
    EXPECT_EQ(scales.bytes, mx.load(mx.at(t.name + ".mx_scales")).bytes);
    const st::Tensor deq = d.load(d.at(t.name));
    EXPECT_EQ(deq.shape, t.shape);
    EXPECT_EQ(bits(values_of(deq)), bits(values_of(dmx.load(dmx.at(t.name)))));
    ++written;
  }
  EXPECT_EQ(written, 2u * 7);
  EXPECT_EQ(q.shards().front().metadata.at("lowbit.format"), "mxfp4-gptoss");
}

TEST(ConvertGptoss, WrittenAsMxfp4AndReadBack) {
  check_written("BF16", 2, lowbit::Rounding::rna, 0);
  check_written("F32", 1, lowbit::Rounding::sr, 5);  // sr: the same stream as convert mxfp4-e2m1's
  const std::string out = convert_checked("gptoss_qc", llama_with_values("F16", kWhole), 1, [] { return md::gptoss_target(lowbit::Rounding::rne); });
  EXPECT_EQ(quantization_config(out).dump(), R"({"quant_method":"lowbit","format":"mxfp4-gptoss","block":32,"rounding":"rne"})");
}

// Rows that are not whole blocks, and weights that are not finite, have no gpt-oss form: one error naming the tensor.
TEST(ConvertGptoss, WriterRefusesPartialBlocksAndNonFiniteWeights) {
  const auto convert = [](const std::vector<st::Tensor>& tensors, const std::string& name) {
    const md::Model m = md::Model::open(write_checkpoint(fresh_temp_path(name + "_in"), tensors));
    const std::string out = fresh_temp_path(name + "_out");
    std::filesystem::create_directories(out);
    md::ConvertOptions o = convert_options();
    o.threads = 1;  // the weights in name order: the first one refused is named
    md::convert(m, *md::gptoss_target(lowbit::Rounding::rna), out, o);
  };
  expect_error([&] { convert(llama_with_values("F32", {72, 128, 96, 1}), "gptoss_partial"); }, lowbit::Errc::data,
               {"model.layers.0.mlp.gate_proj.weight", "[128, 72]", "not a multiple of 32"});
  std::vector<st::Tensor> t = llama_with_values("F32", kWhole);
  for (st::Tensor& x : t)
    if (x.name == "model.layers.1.self_attn.v_proj.weight") std::memcpy(x.bytes.data() + 4 * (3 * 64 + 40), &kInf, 4);
  expect_error([&] { convert(t, "gptoss_inf"); }, lowbit::Errc::data, {"model.layers.1.self_attn.v_proj.weight", "row 3, block 1", "not finite"});
}

}  // namespace
