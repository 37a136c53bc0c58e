// Generated tiny Llama-shaped checkpoints for the tests of io::model, `lowbit inspect` and
// `lowbit convert`: embed_tokens, layers of q/k/v/o/gate/up/down and the two norms, the final norm and
// lm_head, in one dtype (F32, F16 or BF16), written as one model.safetensors or as shards with
// model.safetensors.index.json. tiny_llama's bytes are a pattern (NaNs included); tiny_llama_values
// holds weights (centred, spread about 0.05, a few outlier columns) and norms near 1.
#pragma once
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lowbit/io/files.hpp"
#include "lowbit/io/safetensors.hpp"
#include "lowbit/reference/binary_float.hpp"

namespace lowbit::testing {

struct LlamaDims {
  std::uint64_t hidden = 64, inter = 128, vocab = 96, layers = 2;
};

// The names and shapes of a Llama checkpoint's tensors, in the order tiny_llama lists them.
inline std::vector<std::pair<std::string, std::vector<std::uint64_t>>> llama_tensors(const LlamaDims& d) {
  std::vector<std::pair<std::string, std::vector<std::uint64_t>>> out{{"model.embed_tokens.weight", {d.vocab, d.hidden}}};
  for (std::uint64_t l = 0; l < d.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const char* proj : {"q_proj", "k_proj", "v_proj", "o_proj"}) out.push_back({p + "self_attn." + proj + ".weight", {d.hidden, d.hidden}});
    out.push_back({p + "mlp.gate_proj.weight", {d.inter, d.hidden}});
    out.push_back({p + "mlp.up_proj.weight", {d.inter, d.hidden}});
    out.push_back({p + "mlp.down_proj.weight", {d.hidden, d.inter}});
    out.push_back({p + "input_layernorm.weight", {d.hidden}});
    out.push_back({p + "post_attention_layernorm.weight", {d.hidden}});
  }
  out.push_back({"model.norm.weight", {d.hidden}});
  out.push_back({"lm_head.weight", {d.vocab, d.hidden}});
  return out;
}

// f32 values stored as `dtype` (rounded to nearest even).
inline io::safetensors::Tensor float_tensor(std::string name, const std::string& dtype, std::vector<std::uint64_t> shape,
                                            const std::vector<float>& v) {
  if (dtype == "F32") return io::safetensors::make_tensor(std::move(name), dtype, std::move(shape), v);
  std::vector<std::uint16_t> h(v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    h[i] = dtype == "F16" ? ref::convert_nearest<f16>(v[i]).bits : ref::convert_nearest<bf16>(v[i]).bits;
  return io::safetensors::make_tensor(std::move(name), dtype, std::move(shape), h);
}

inline std::vector<io::safetensors::Tensor> tiny_llama_values(const std::string& dtype, const LlamaDims& d = {}, std::uint32_t seed = 1) {
  std::vector<io::safetensors::Tensor> out;
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  const auto uniform = [&] {  // splitmix64: the same values on every platform
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return static_cast<float>((z ^ (z >> 31)) >> 40) / 16777216.0f;
  };
  for (const auto& [name, shape] : llama_tensors(d)) {
    std::vector<float> v(shape.size() == 1 ? shape[0] : shape[0] * shape[1]);
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (shape.size() == 1) {
        v[i] = 1.0f + 0.25f * (uniform() - 0.5f);
      } else {
        const float x = 0.05f * (uniform() + uniform() + uniform() + uniform() - 2.0f);
        v[i] = (i % shape[1]) % 29 == 3 ? 8.0f * x : x;  // outlier input columns
      }
    }
    out.push_back(float_tensor(name, dtype, shape, v));
  }
  return out;
}

inline std::vector<io::safetensors::Tensor> tiny_llama(const std::string& dtype) {
  std::vector<io::safetensors::Tensor> out;
  for (const auto& [name, shape] : llama_tensors({16, 24, 32, 2})) {
    io::safetensors::Tensor t{name, dtype, shape, std::vector<std::uint8_t>(io::safetensors::byte_size(dtype, shape))};
    for (std::size_t i = 0; i < t.bytes.size(); ++i) t.bytes[i] = static_cast<std::uint8_t>(i * 31 + out.size() * 7);
    out.push_back(std::move(t));
  }
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
