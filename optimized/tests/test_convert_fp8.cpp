// convert e4m3|e5m2 on a tiny Llama in BF16, F16 and F32, one file and shards: every weight's codes
// and scales are what fp8::encode gives for x / scale with the scale computed here, dequantize gives
// fp8::decode x scale bit for bit, 1 thread equals 2, recognise() names the layout, config.json has
// the loaders' quantization_config; and the bad inputs are one lowbit::Error naming the tensor.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cfloat>
#include <map>

#include "convert_tester.hpp"
#include "lowbit/error.hpp"
#include "lowbit/fp8.hpp"

namespace {

using namespace lowbit::testing;
namespace fp8 = lowbit::fp8;
using md::Fp8Scale;

// 160 and 200: the 128x128 blocks have partial edges in both directions.
const LlamaDims kDims{160, 200, 32, 2};

// The single-tensor API on one [oc, ic] weight: a scale per block of rows x cols, the codes of x / scale, their values.
struct Want {
  std::vector<float> scale;
  std::vector<std::uint8_t> codes;
  std::vector<float> values;
};

Want want(const std::vector<float>& x, std::uint64_t oc, std::uint64_t ic, fp8::Format f, Fp8Scale kind) {
  const std::uint64_t rows = kind == Fp8Scale::tensor ? oc : kind == Fp8Scale::channel ? 1 : 128;
  const std::uint64_t cols = kind == Fp8Scale::block ? 128 : ic, c = (ic + cols - 1) / cols;
  const auto at = [&](std::uint64_t i) { return i / ic / rows * c + i % ic / cols; };
  Want w{std::vector<float>((oc + rows - 1) / rows * c, 0.0f), {}, {}};
  for (std::uint64_t i = 0; i < x.size(); ++i) w.scale[at(i)] = std::max(w.scale[at(i)], std::abs(x[i]));
  for (float& s : w.scale) s = std::max(s / (f == fp8::Format::e4m3 ? 448.0f : 57344.0f), FLT_EPSILON);
  std::vector<float> q(x.size());
  for (std::uint64_t i = 0; i < x.size(); ++i) q[i] = x[i] / w.scale[at(i)];
  fp8::Options o;
  o.format = f;
  o.profile = fp8::profile("cuda-satfinite");
  w.codes = fp8::encode(q, o);
  w.values = fp8::decode(w.codes, o);
  for (std::uint64_t i = 0; i < x.size(); ++i) w.values[i] *= w.scale[at(i)];
  return w;
}

// llama_with_values with an all-zero row (layer 0's q_proj row 0) and an all-zero 128x128 block (k_proj's first).
std::vector<st::Tensor> model(const std::string& dtype) {
  std::vector<st::Tensor> tensors = llama_with_values(dtype, kDims);
  const std::size_t width = dtype == "F32" ? 4 : 2;
  for (st::Tensor& t : tensors) {
    const std::size_t row = t.shape.back() * width;
    if (t.name == "model.layers.0.self_attn.q_proj.weight") std::fill_n(t.bytes.begin(), row, 0);
    if (t.name == "model.layers.0.self_attn.k_proj.weight")
      for (std::size_t r = 0; r < 128; ++r) std::fill_n(t.bytes.begin() + static_cast<std::ptrdiff_t>(r * row), 128 * width, 0);
  }
  return tensors;
}

void check(const std::string& dtype, int shards, fp8::Format f, Fp8Scale kind) {
  const std::string name = fmt::format("fp8_{}_{}_{}_{}", dtype, shards, static_cast<int>(f), static_cast<int>(kind));
  SCOPED_TRACE(name);
  const std::vector<st::Tensor> tensors = model(dtype);
  const std::string out = convert_checked(name, tensors, shards, [&] { return md::fp8_target(f, kind); });
  const md::Model q = md::Model::open(out), d = dequantized(name, q);
  const std::string format = f == fp8::Format::e4m3 ? "fp8-e4m3" : "fp8-e5m2";
  each_weight(tensors, q, d, [&](const st::Tensor& t, const md::Weight& w, const st::Tensor& deq) {
    const std::uint64_t oc = t.shape[0], ic = t.shape[1];
    const Want e = want(values_of(t), oc, ic, f, kind);
    EXPECT_EQ(w.format, format);
    EXPECT_EQ(w.layout, kind == Fp8Scale::tensor    ? "per-tensor scale"
                        : kind == Fp8Scale::channel ? "per-channel scale"
                                                    : fmt::format("block scale_inv [{}, {}]", (oc + 127) / 128, (ic + 127) / 128));
    const st::Tensor codes = q.load(q.at(t.name));
    EXPECT_EQ(codes.dtype, f == fp8::Format::e4m3 ? "F8_E4M3" : "F8_E5M2");
    EXPECT_EQ(codes.shape, t.shape);
    EXPECT_EQ(codes.bytes, e.codes);
    ASSERT_EQ(w.companions.size(), 1u);
    const st::Tensor scale = q.load(*w.companions[0]);
    EXPECT_EQ(scale.name, t.name + (kind == Fp8Scale::block ? "_scale_inv" : "_scale"));
    EXPECT_EQ(scale.dtype, "F32");
    const std::vector<std::uint64_t> scale_shape = kind == Fp8Scale::tensor    ? std::vector<std::uint64_t>{1}
                                                   : kind == Fp8Scale::channel ? std::vector<std::uint64_t>{oc, 1}
                                                                               : std::vector<std::uint64_t>{(oc + 127) / 128, (ic + 127) / 128};
    EXPECT_EQ(scale.shape, scale_shape);
    EXPECT_EQ(bits(values_of(scale)), bits(e.scale));
    EXPECT_EQ(deq.dtype, "F32");
    EXPECT_EQ(deq.shape, t.shape);
    EXPECT_EQ(bits(values_of(deq)), bits(e.values));
  });
  EXPECT_EQ(q.shards().front().metadata.at("lowbit.format"), format);
  EXPECT_EQ(q.shards().front().metadata.at("lowbit.scale"), kind == Fp8Scale::tensor ? "tensor" : kind == Fp8Scale::channel ? "channel" : "block");
  const nlohmann::ordered_json qc = quantization_config(out);
  if (f == fp8::Format::e5m2) {
    EXPECT_EQ(qc.at("quant_method"), "lowbit");
    EXPECT_EQ(qc.at("format"), "fp8-e5m2");
  } else if (kind == Fp8Scale::block) {
    EXPECT_EQ(qc.dump(), R"({"activation_scheme":"dynamic","fmt":"e4m3","quant_method":"fp8","weight_block_size":[128,128],)"
                         R"("modules_to_not_convert":["lm_head"]})");
  } else {
    EXPECT_EQ(qc.at("quant_method"), "compressed-tensors");
    EXPECT_EQ(qc.at("format"), "float-quantized");
    const nlohmann::ordered_json& g = qc.at("config_groups").at("group_0");
    EXPECT_EQ(g.at("targets"), nlohmann::json::array({"Linear"}));
    EXPECT_EQ(g.at("weights").at("num_bits"), 8);
    EXPECT_EQ(g.at("weights").at("type"), "float");
    EXPECT_EQ(g.at("weights").at("symmetric"), true);
    EXPECT_EQ(g.at("weights").at("strategy"), kind == Fp8Scale::tensor ? "tensor" : "channel");
    EXPECT_TRUE(g.at("input_activations").is_null());
    EXPECT_EQ(qc.at("ignore"), nlohmann::json::array({"lm_head"}));
  }
}

TEST(ConvertFp8, EveryScaleKindDtypeAndSharding) {
  for (Fp8Scale kind : {Fp8Scale::tensor, Fp8Scale::channel, Fp8Scale::block})
    for (const char* dtype : {"BF16", "F16", "F32"})
      for (int shards : {1, 3}) check(dtype, shards, fp8::Format::e4m3, kind);
}

TEST(ConvertFp8, E5m2) {
  for (Fp8Scale kind : {Fp8Scale::tensor, Fp8Scale::channel, Fp8Scale::block}) check("BF16", 1, fp8::Format::e5m2, kind);
}

TEST(ConvertFp8, BadInput) {
  std::vector<st::Tensor> tensors = llama_with_values("F32", kDims);
  const std::string in = write_checkpoint(fresh_temp_path("fp8_bad_in"), tensors);
  const md::Model m = md::Model::open(in);
  const auto convert = [&](const md::ConvertOptions& o) {
    const std::string out = fresh_temp_path("fp8_bad_out");
    std::filesystem::create_directories(out);
    md::convert(m, *md::fp8_target(fp8::Format::e4m3, Fp8Scale::block), out, o);
  };
  md::ConvertOptions norms = convert_options();
  norms.include = {"*norm*"};
  expect_error([&] { convert(norms); }, lowbit::Errc::data, {"model.layers.0.input_layernorm.weight", "not 2-D"});

  for (st::Tensor& t : tensors)
    if (t.name == "model.layers.1.self_attn.v_proj.weight") {
      const float inf = INFINITY;
      std::memcpy(t.bytes.data() + (2 * t.shape[1] + 5) * 4, &inf, 4);
    }
  const md::Model with_inf = md::Model::open(write_checkpoint(fresh_temp_path("fp8_inf_in"), tensors));
  const std::string out = fresh_temp_path("fp8_inf_out");
  std::filesystem::create_directories(out);
  expect_error([&] { md::convert(with_inf, *md::fp8_target(fp8::Format::e4m3, Fp8Scale::channel), out, convert_options()); }, lowbit::Errc::data,
               {"model.layers.1.self_attn.v_proj.weight", "[2, 5]", "inf"});

  // A scale of no layout's shape, and codes of another dtype, when decoding.
  const st::Tensor w{"w", "F8_E4M3", {3, 4}, std::vector<std::uint8_t>(12)};
  const st::Tensor two{"w_scale", "F32", {2, 1}, std::vector<std::uint8_t>(8)};
  const md::Parallel par(1);
  expect_error([&] { md::decode("fp8-e4m3", std::vector{w, two}, par); }, lowbit::Errc::data, {"w_scale", "[2, 1]", "[3, 4]"});
  const st::Tensor u8{"w", "U8", {3, 4}, std::vector<std::uint8_t>(12)};
  expect_error([&] { md::decode("fp8-e4m3", std::vector{u8}, par); }, lowbit::Errc::data, {"'w'", "U8"});
}

}  // namespace
