// A generated tiny Llama-shaped checkpoint for the tests of io::model and `lowbit inspect`:
// embed_tokens, 2 layers of q/k/v/o/gate/up/down and the two norms, the final norm and lm_head,
// in one dtype (F32, F16 or BF16; the bytes are a pattern, not values), written as one
// model.safetensors or as shards with model.safetensors.index.json.
#pragma once
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lowbit/io/files.hpp"
#include "lowbit/io/safetensors.hpp"

namespace lowbit::testing {

inline std::vector<io::safetensors::Tensor> tiny_llama(const std::string& dtype) {
  const std::uint64_t hidden = 16, inter = 24, vocab = 32;
  std::vector<io::safetensors::Tensor> out;
  const auto add = [&](const std::string& name, std::vector<std::uint64_t> shape) {
    io::safetensors::Tensor t{name, dtype, shape, std::vector<std::uint8_t>(io::safetensors::byte_size(dtype, shape))};
    for (std::size_t i = 0; i < t.bytes.size(); ++i) t.bytes[i] = static_cast<std::uint8_t>(i * 31 + out.size() * 7);
    out.push_back(std::move(t));
  };
  add("model.embed_tokens.weight", {vocab, hidden});
  for (int l = 0; l < 2; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const char* proj : {"q_proj", "k_proj", "v_proj", "o_proj"}) add(p + "self_attn." + proj + ".weight", {hidden, hidden});
    add(p + "mlp.gate_proj.weight", {inter, hidden});
    add(p + "mlp.up_proj.weight", {inter, hidden});
    add(p + "mlp.down_proj.weight", {hidden, inter});
    add(p + "input_layernorm.weight", {hidden});
    add(p + "post_attention_layernorm.weight", {hidden});
  }
  add("model.norm.weight", {hidden});
  add("lm_head.weight", {vocab, hidden});
  return out;
}

inline void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// `tensors` into folder/model.safetensors (shards == 1) or into `shards` files
// model-0000i-of-0000n.safetensors, round robin, with their index. Returns the folder.
inline std::string write_checkpoint(const std::string& folder, const std::vector<io::safetensors::Tensor>& tensors, int shards = 1) {
  std::filesystem::create_directories(folder);
  if (shards == 1) {
    io::write_file(folder + "/model.safetensors", io::safetensors::write(tensors, {{"format", "pt"}}));
    return folder;
  }
  std::vector<std::vector<io::safetensors::Tensor>> parts(static_cast<std::size_t>(shards));
  nlohmann::ordered_json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::ordered_json::object()}};
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const std::size_t s = i % parts.size();
    parts[s].push_back(tensors[i]);
    index["weight_map"][tensors[i].name] = "model-0000" + std::to_string(s + 1) + "-of-0000" + std::to_string(shards) + ".safetensors";
    total += tensors[i].bytes.size();
  }
  index["metadata"]["total_size"] = total;
  for (std::size_t s = 0; s < parts.size(); ++s)
    io::write_file(folder + "/model-0000" + std::to_string(s + 1) + "-of-0000" + std::to_string(shards) + ".safetensors",
                   io::safetensors::write(parts[s], {{"format", "pt"}}));
  write_text(folder + "/model.safetensors.index.json", index.dump(2));
  return folder;
}

}  // namespace lowbit::testing
