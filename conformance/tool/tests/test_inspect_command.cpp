// lowbit inspect: the table and the JSON of a plain tiny Llama checkpoint (sharded) and of one with a
// bitsandbytes NF4 weight with double quantization (io::bnb, as `lowbit encode nf4` writes it),
// config.json's quantization_config, and exit status 2 for a malformed checkpoint.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "inspect_command.hpp"
#include "lowbit/io/bnb_checkpoint.hpp"
#include "registry.hpp"
#include "testing/temp_dir.hpp"
#include "testing/tiny_llama.hpp"

using namespace lowbit;
using lowbit::testing::tiny_llama;
using lowbit::testing::write_checkpoint;

namespace {

std::string temp(const std::string& name) { return fresh_temp_path("lowbit_inspect_" + name); }

// The tiny Llama with layer 0's down_proj as bnb NF4 with double quantization.
std::vector<io::safetensors::Tensor> with_nf4_dq() {
  std::vector<io::safetensors::Tensor> tensors = tiny_llama("BF16");
  const std::string name = "model.layers.0.mlp.down_proj.weight";
  std::erase_if(tensors, [&](const io::safetensors::Tensor& t) { return t.name == name; });
  std::vector<float> w(16 * 24);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i % 13) / 13.0f - 0.5f;
  for (io::safetensors::Tensor& t : io::bnb::to_tensors(io::bnb::encode(w, {16, 24}, {}, nf4::DoubleQuantOptions{}), name))
    tensors.push_back(std::move(t));
  return tensors;
}

}  // namespace

TEST(Inspect, PlainShardedModelText) {
  const std::string dir = write_checkpoint(temp("plain"), tiny_llama("F16"), 3);
  const std::string text = cli::inspect(dir, false);
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "name                                              dtype    shape            bytes  format");
  EXPECT_NE(text.find("\nmodel.layers.1.mlp.gate_proj.weight               F16      [24, 16]           768  plain\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("\n21 tensors, 10912 bytes in 3 shards; plain 21\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("quantization_config"), std::string::npos);
}

TEST(Inspect, Nf4DoubleQuantText) {
  const std::string dir = write_checkpoint(temp("nf4"), with_nf4_dq());
  lowbit::testing::write_text(dir + "/config.json", R"({"model_type": "llama", "quantization_config": {"load_in_4bit": true, "bnb_4bit_quant_type": "nf4"}})");
  const std::string text = cli::inspect(dir, false);
  EXPECT_NE(text.find("\nmodel.layers.0.mlp.down_proj.weight                                  U8       [192, 1]           192  nf4-dq (blocksize 64, float32 [16, 24])\n"
                      "  model.layers.0.mlp.down_proj.weight.absmax                         U8       [6]                  6\n"
                      "  model.layers.0.mlp.down_proj.weight.nested_absmax                  F32      [1]                  4\n"
                      "  model.layers.0.mlp.down_proj.weight.nested_quant_map               F32      [256]             1024\n"
                      "  model.layers.0.mlp.down_proj.weight.quant_map                      F32      [16]                64\n"
                      "  model.layers.0.mlp.down_proj.weight.quant_state.bitsandbytes__nf4  U8       [151]              151\n"
                      "model.layers.0.mlp.gate_proj.weight                                  BF16     [24, 16]           768  plain\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("\n26 tensors, 11585 bytes in 1 shard; "), std::string::npos) << text;
  EXPECT_NE(text.find("; nf4-dq 1, plain 20\nquantization_config: {\"load_in_4bit\":true,\"bnb_4bit_quant_type\":\"nf4\"}\n"), std::string::npos) << text;
}

TEST(Inspect, Nf4DoubleQuantJson) {
  const std::string dir = write_checkpoint(temp("nf4_json"), with_nf4_dq(), 2);
  const nlohmann::json j = nlohmann::json::parse(cli::inspect(dir, true));
  EXPECT_EQ(j["shards"].size(), 2u);
  EXPECT_EQ(j["summary"]["tensors"], 26);
  EXPECT_EQ(j["summary"]["formats"], (nlohmann::json{{"nf4-dq", 1}, {"plain", 20}}));
  EXPECT_EQ(j["tensors"].size(), 21u);
  EXPECT_TRUE(j["quantization_config"].is_null());
  bool found = false;
  for (const nlohmann::json& t : j["tensors"]) {
    if (t["name"] != "model.layers.0.mlp.down_proj.weight") {
      EXPECT_EQ(t["format"], "plain");
      EXPECT_TRUE(t["companions"].empty());
      continue;
    }
    found = true;
    EXPECT_EQ(t["format"], "nf4-dq");
    EXPECT_EQ(t["dtype"], "U8");
    EXPECT_EQ(t["shape"], (nlohmann::json{192, 1}));
    ASSERT_EQ(t["companions"].size(), 5u);
    EXPECT_EQ(t["companions"][4]["name"], "model.layers.0.mlp.down_proj.weight.quant_state.bitsandbytes__nf4");
    EXPECT_TRUE(t["companions"][4]["shard"].get<std::string>().ends_with(".safetensors"));
  }
  EXPECT_TRUE(found);
}

TEST(Inspect, MalformedCheckpointExitsTwo) {
  const std::string dir = write_checkpoint(temp("bad"), tiny_llama("F32"), 2);
  lowbit::testing::write_text(dir + "/model.safetensors.index.json", "{\"weight_map\": 3}");
  EXPECT_EQ(cli::run({"inspect", dir}), cli::kUsage);
  EXPECT_EQ(cli::run({"inspect", dir + "/model-00001-of-00002.safetensors"}), cli::kSuccess);
  EXPECT_EQ(cli::run({"inspect"}), cli::kUsage);
}
