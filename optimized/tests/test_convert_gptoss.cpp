// gpt-oss's MXFP4 checkpoints (openai/gpt-oss gpt_oss/torch/weights.py): <w>.blocks / <w>.scales and the
// Hugging Face <w>_blocks / <w>_scales are recognised as mxfp4-gptoss, and dequantize gives
// FP4_VALUES[nibble] * 2^(scale - 127), the even element from the low nibble, as [..., G * 32].
#include <gtest/gtest.h>

#include <cmath>

#include "convert_tester.hpp"
#include "lowbit/io/model_layouts.hpp"

namespace {

using namespace lowbit::testing;

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

}  // namespace
