// What the tests of each convert target share (test_convert_<family>.cpp): a tiny Llama-shaped
// checkpoint with values, written as one file or shards; a converter that runs convert() on it with
// 1 and 2 threads and checks that both outputs are the same bytes; dequantize() to F32; one thread
// under qemu-user; expect_error for the bad inputs.
#pragma once
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "lowbit/error.hpp"
#include "lowbit/io/convert.hpp"
#include "lowbit/io/files.hpp"
#include "lowbit/reference/weak.hpp"
#include "testing/temp_dir.hpp"
#include "testing/tiny_llama.hpp"

namespace lowbit::testing {

namespace st = io::safetensors;
namespace md = io::model;

#ifdef LOWBIT_TESTS_EMULATED
inline constexpr bool kEmulated = true;  // qemu-user hangs a dynamically linked program that starts a thread
#else
inline constexpr bool kEmulated = false;
#endif
// The options of every call: every core natively, one thread under the emulator.
inline md::ConvertOptions convert_options() {
  md::ConvertOptions o;
  o.threads = kEmulated ? 1 : 0;
  return o;
}

// llama_tensors(d) with values: seeded, each row at its own scale (2^-6 .. 2^6), so that FP8's and the
// block formats' scales see a wide range.
inline std::vector<st::Tensor> llama_with_values(const std::string& dtype, const LlamaDims& d) {
  std::uint32_t state = 12345;
  std::vector<st::Tensor> out;
  for (const auto& [name, shape] : llama_tensors(d)) {
    const std::uint64_t cols = shape.back(), count = shape.size() == 2 ? shape[0] * cols : cols;
    std::vector<float> v(count);
    for (std::uint64_t k = 0; k < count; ++k) {
      state = state * 1664525u + 1013904223u;
      v[k] = std::ldexp(static_cast<float>(static_cast<std::int32_t>(state)) / 2147483648.0f, static_cast<int>((k / cols) % 13) - 6);
    }
    out.push_back(float_tensor(name, dtype, shape, v));
  }
  return out;
}

// A F32, F16 or BF16 tensor's values (the test's own widening, independent of io::model::Source).
inline std::vector<float> values_of(const st::Tensor& t) {
  const std::size_t width = t.dtype == "F32" ? 4 : 2, n = t.bytes.size() / width;
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t b = 0;
    std::memcpy(&b, t.bytes.data() + i * width, width);
    v[i] = t.dtype == "F32" ? std::bit_cast<float>(b) : t.dtype == "F16" ? ref::f16_to_f32(static_cast<std::uint16_t>(b))
                                                                         : std::bit_cast<float>(b << 16);
  }
  return v;
}

// The bit patterns of f32 values (NaN payloads and signed zeros compared too).
inline std::vector<std::uint32_t> bits(const std::vector<float>& v) {
  std::vector<std::uint32_t> b(v.size());
  std::memcpy(b.data(), v.data(), v.size() * 4);
  return b;
}

// Whether convert() selects `t` of llama_with_values by default: the 2-D tensors but the embedding and the head.
inline bool selected(const st::Tensor& t) {
  return t.shape.size() == 2 && t.name.find("embed") == std::string::npos && !t.name.starts_with("lm_head");
}

// Walks the source `tensors` with the converted model `q` and its dequantized `d`: a tensor convert() did not
// select is plain and unchanged in both; weight(t, w, deq) checks each selected one (w: recognise()'s).
template <class Check> void each_weight(const std::vector<st::Tensor>& tensors, const md::Model& q, const md::Model& d, Check weight) {
  std::map<std::string, md::Weight> weights;
  for (const md::Weight& w : md::recognise(q)) weights.emplace(w.tensor->name, w);
  ASSERT_EQ(weights.size(), tensors.size());
  for (const st::Tensor& t : tensors) {
    SCOPED_TRACE(t.name);
    const md::Weight& w = weights.at(t.name);
    const st::Tensor deq = d.load(d.at(t.name));
    if (selected(t)) {
      weight(t, w, deq);
      continue;
    }
    EXPECT_EQ(w.format, "plain");
    EXPECT_EQ(q.load(q.at(t.name)), t);
    EXPECT_EQ(deq, t);
  }
}

inline std::string read_text(const std::string& path) {
  const std::vector<std::uint8_t> b = io::read_file(path);
  return std::string(b.begin(), b.end());
}

// Every file of folder `a` is in `b` with the same bytes, and `b` has no other.
inline void expect_same_files(const std::string& a, const std::string& b) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(a)) {
    ++n;
    EXPECT_EQ(io::read_file(e.path().string()), io::read_file(b + "/" + e.path().filename().string())) << e.path();
  }
  EXPECT_EQ(n, static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(b), {}))) << b;
}

// The checkpoint `tensors` (with a config.json) in `shards` files, converted with `target` into a fresh
// folder; converted again with 1 thread, which must give the same bytes. Returns the output folder.
inline std::string convert_checked(const std::string& name, const std::vector<st::Tensor>& tensors, int shards,
                                   const std::function<std::unique_ptr<md::Target>()>& target, md::ConvertOptions o = {}) {
  const std::string in = write_checkpoint(fresh_temp_path(name + "_in"), tensors, shards);
  write_text(in + "/config.json", R"({"model_type": "llama", "torch_dtype": "bfloat16"})");
  const md::Model m = md::Model::open(in);
  std::string outs[2];
  for (unsigned threads : {1u, 2u}) {
    if (threads > 1 && kEmulated) break;
    std::string& out = outs[threads - 1];
    out = fresh_temp_path(name + "_out" + std::to_string(threads));
    std::filesystem::create_directories(out);
    o.threads = threads;
    md::convert(m, *target(), out, o);
  }
  if (!kEmulated) expect_same_files(outs[0], outs[1]);
  return outs[0];
}

// `q` dequantized to F32.
inline md::Model dequantized(const std::string& name, const md::Model& q) {
  const std::string out = fresh_temp_path(name + "_deq");
  std::filesystem::create_directories(out);
  md::dequantize(q, "F32", out, convert_options());
  return md::Model::open(out);
}

// config.json's quantization_config.
inline nlohmann::ordered_json quantization_config(const std::string& folder) {
  return nlohmann::ordered_json::parse(read_text(folder + "/config.json")).at("quantization_config");
}

// f(): one Error of code `code` whose message holds every part.
template <class F> void expect_error(F f, Errc code, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << "\n  lacks: " << p;
  }
}

}  // namespace lowbit::testing
