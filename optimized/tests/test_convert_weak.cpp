// convert qeft|owq (io/convert.hpp, convert_weak.cpp) on generated tiny Llama checkpoints: every
// layer's buffers and its dequantized weight against the single-tensor API (qeft/owq::encode and
// decode) with the weak columns and permutations recomputed here from their definitions; the
// reordered model computing the original's logits bit for bit; -j 1 == -j 2; recognition; the
// quantization_config; bad input.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "lowbit/io/convert.hpp"
#include "lowbit/io/files.hpp"
#include "lowbit/io/weak_checkpoint.hpp"
#include "lowbit/reference/weak.hpp"
#include "convert_tester.hpp"
#include "testing/decoder_forward.hpp"
#include "testing/temp_dir.hpp"
#include "testing/tiny_llama.hpp"

namespace {

namespace fs = std::filesystem;
namespace io = lowbit::io;
namespace st = lowbit::io::safetensors;
namespace model = lowbit::io::model;
namespace qeft = lowbit::qeft;
namespace owq = lowbit::owq;
namespace weak = lowbit::weak;
using Idx = std::vector<std::int32_t>;
using Values = std::map<std::string, std::vector<float>>;
using lowbit::testing::permute;

constexpr std::size_t kHidden = 64, kInter = 128, kVocab = 32, kHeads = 2, kLayers = 2, kK = 4;

std::string layer(std::size_t l, const char* rest) { return "model.layers." + std::to_string(l) + "." + rest; }
const char* const kLinears[] = {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                                "self_attn.o_proj.weight", "mlp.gate_proj.weight",    "mlp.up_proj.weight",
                                "mlp.down_proj.weight"};

// The f32 values as `dtype` bytes (the values are exact in every dtype used here).
std::vector<std::uint8_t> bytes_of(const std::vector<float>& v, const std::string& dtype) {
  std::vector<std::uint8_t> out;
  for (float x : v) {
    const std::uint32_t b = std::bit_cast<std::uint32_t>(x);
    const std::uint32_t w = dtype == "F32" ? b : dtype == "BF16" ? b >> 16 : lowbit::ref::f32_to_f16(x);
    for (std::size_t i = 0; i < (dtype == "F32" ? 4u : 2u); ++i) out.push_back(static_cast<std::uint8_t>(w >> (8 * i)));
  }
  return out;
}

// A tiny Llama with values (the lead's tiny_llama_values will replace this): multiples of 2^-10
// below 2^-2, exact in BF16, F16 and F32; norms near 1. With `grid`, every linear weight lies on
// QEFT's 4-bit min-max grid of its row (codes 0..15 times 2^-8, each row holding codes 0 and 15
// more than k times) except in k columns per layer, the same for every reader of the residual
// stream, which are off the grid by 2^-11 inside its range: those are the only columns with a
// quantization error, hence the weak ones, kept in fp16, and per-channel min-max quantization
// reproduces the whole weight exactly.
Values tiny_llama_values(unsigned seed, bool grid = false) {
  std::mt19937 g(seed);
  std::uniform_int_distribution<int> small(-255, 255), code(0, 15);
  Values v;
  const auto add = [&](const std::string& name, std::size_t rows, std::size_t cols, bool norm = false) {
    std::vector<float>& x = v[name];
    for (std::size_t i = 0; i < rows * cols; ++i)
      x.push_back(norm ? 1.0f + static_cast<float>(small(g) % 32) / 128.0f : static_cast<float>(small(g)) / 1024.0f);
  };
  const auto linear = [&](const std::string& name, std::size_t rows, std::size_t cols) {
    if (!grid) return add(name, rows, cols);
    const Idx off = name.find("o_proj") != std::string::npos ? Idx{3, 20, 33, 50}
                    : name.find("down") != std::string::npos ? Idx{7, 70, 100, 127}
                                                             : Idx{5, 17, 40, 60};
    std::vector<float>& x = v[name];
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) {
        const bool weak_column = std::find(off.begin(), off.end(), static_cast<std::int32_t>(c)) != off.end();
        const int q = weak_column ? 1 + code(g) % 14 : c % 8 == r % 8 ? 0 : c % 8 == (r + 3) % 8 ? 15 : code(g);
        x.push_back(static_cast<float>(q - 8) / 256.0f + (weak_column ? 1.0f / 2048 : 0.0f));
      }
  };
  add("model.embed_tokens.weight", kVocab, kHidden);
  for (std::size_t l = 0; l < kLayers; ++l) {
    for (int p = 0; p < 4; ++p) linear(layer(l, kLinears[p]), kHidden, kHidden);
    linear(layer(l, "mlp.gate_proj.weight"), kInter, kHidden);
    linear(layer(l, "mlp.up_proj.weight"), kInter, kHidden);
    linear(layer(l, "mlp.down_proj.weight"), kHidden, kInter);
    add(layer(l, "input_layernorm.weight"), 1, kHidden, true);
    add(layer(l, "post_attention_layernorm.weight"), 1, kHidden, true);
  }
  add("model.norm.weight", 1, kHidden, true);
  add("lm_head.weight", kVocab, kHidden);
  return v;
}

std::vector<std::uint64_t> shape_of(const std::string& name) {
  if (name.find("norm") != std::string::npos) return {kHidden};
  if (name.find("embed") != std::string::npos || name.find("lm_head") != std::string::npos) return {kVocab, kHidden};
  if (name.find("gate") != std::string::npos || name.find("up_proj") != std::string::npos) return {kInter, kHidden};
  if (name.find("down") != std::string::npos) return {kHidden, kInter};
  return {kHidden, kHidden};
}

// The checkpoint folder (one file or 3 shards) with a config.json.
std::string write_model(const std::string& dir, const Values& v, const std::string& dtype, int shards) {
  std::vector<st::Tensor> ts;
  for (const auto& [name, x] : v) ts.push_back({name, dtype, shape_of(name), bytes_of(x, dtype)});
  lowbit::testing::write_checkpoint(dir, ts, shards);
  lowbit::testing::write_text(dir + "/config.json", R"({"architectures": ["LlamaForCausalLM"]})");
  return dir;
}

// <P>.input_sq_sum per linear layer: positive sums, a few columns much larger (outlier inputs).
std::string write_stats(const std::string& path, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(0.5f, 2.0f);
  std::vector<st::Tensor> ts;
  for (std::size_t l = 0; l < kLayers; ++l)
    for (const char* name : kLinears) {
      const std::string w = layer(l, name);
      std::vector<float> s(shape_of(w)[1]);
      for (std::size_t j = 0; j < s.size(); ++j) s[j] = u(g) * (j % 13 == seed % 13 ? 50.0f : 1.0f);
      ts.push_back(st::make_tensor(w.substr(0, w.size() - 7) + ".input_sq_sum", "F32", {s.size()}, s));
    }
  io::write_file(path, st::write(ts));
  return path;
}

std::vector<float> read_f32(const model::Model& m, const std::string& name) {
  return model::Source(m, m.at(name)).read_all(model::Parallel(1));
}

// ---- the expected conversion, from the definitions -----------------------------------------------

// lambda: the calibration's sums (or the column norms) times the frob-norm factor.
std::vector<float> lambda(const std::vector<float>& w, std::size_t oc, std::size_t ic, const st::File* stats,
                          const std::string& name, int bits, weak::Tuning tuning) {
  std::vector<float> l(ic, 0.0f);
  if (stats) {
    l = st::values<float>(*stats->find(name.substr(0, name.size() - 7) + ".input_sq_sum"), "F32");
  } else {
    for (std::size_t j = 0; j < ic; ++j) {
      double s = 0;
      for (std::size_t r = 0; r < oc; ++r) s += static_cast<double>(w[r * ic + j]) * w[r * ic + j];
      l[j] = static_cast<float>(s);
    }
  }
  weak::apply_frob_norm(l, weak::frob_error(oc, ic, w, bits, tuning));
  return l;
}

// Each layer's weak columns, row permutation and run-time gather; each other tensor's permutation.
struct Expected {
  std::map<std::string, Idx> weak, rows, cols;
  std::map<std::string, bool> gather;
};

Expected expected(const Values& v, const st::File* stats, bool reorder, int bits, bool qeft_layout,
                  weak::Tuning tuning = weak::Tuning::minmax) {
  Expected e;
  const auto own = [&](const std::string& n) {
    const std::vector<std::uint64_t> s = shape_of(n);
    return weak::topk(lambda(v.at(n), s[0], s[1], stats, n, bits, tuning), kK);
  };
  if (!reorder) {
    for (std::size_t l = 0; l < kLayers; ++l)
      for (const char* name : kLinears) {
        e.weak[layer(l, name)] = own(layer(l, name));
        e.gather[layer(l, name)] = qeft_layout;
      }
    return e;
  }
  std::vector<std::vector<float>> readers;  // per block: q, k, v, up, gate
  for (std::size_t l = 0; l < kLayers; ++l)
    for (const char* name : {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                             "mlp.up_proj.weight", "mlp.gate_proj.weight"}) {
      const std::string n = layer(l, name);
      readers.push_back(lambda(v.at(n), shape_of(n)[0], kHidden, stats, n, bits, tuning));
    }
  const Idx global = qeft::ogr_global(readers, kK), pg = weak::permutation(global, kHidden);
  for (const char* n : {"model.embed_tokens.weight", "lm_head.weight", "model.norm.weight"}) e.cols[n] = pg;
  for (std::size_t l = 0; l < kLayers; ++l) {
    const Idx ow = own(layer(l, "self_attn.o_proj.weight")), dw = own(layer(l, "mlp.down_proj.weight"));
    const Idx pd = weak::permutation(dw, kInter);
    e.cols[layer(l, "input_layernorm.weight")] = e.cols[layer(l, "post_attention_layernorm.weight")] = pg;
    for (const char* n : {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight"}) e.weak[layer(l, n)] = global;
    for (const char* n : {"mlp.gate_proj.weight", "mlp.up_proj.weight"}) {
      e.weak[layer(l, n)] = global;
      e.rows[layer(l, n)] = pd;
    }
    e.weak[layer(l, "self_attn.o_proj.weight")] = ow;
    e.rows[layer(l, "self_attn.o_proj.weight")] = pg;
    e.gather[layer(l, "self_attn.o_proj.weight")] = true;
    e.weak[layer(l, "mlp.down_proj.weight")] = dw;
    e.rows[layer(l, "mlp.down_proj.weight")] = pg;
  }
  return e;
}

std::vector<std::uint32_t> bits_of(const std::vector<float>& v) {
  std::vector<std::uint32_t> b;
  for (float x : v) b.push_back(std::bit_cast<std::uint32_t>(x));
  return b;
}

// The repos' default tuning, mse (a clip-range search with pow() per element), is what the frob-norm
// factor of every weak-column choice runs too; it costs seconds per model here and minutes under the
// sanitizers and qemu, so one case runs it (natively) and the others take minmax.
qeft::Options qeft_options(weak::Tuning tuning = weak::Tuning::minmax) {
  qeft::Options o;
  o.group = 64;
  o.tuning = tuning;
  return o;
}

model::WeakConvertOptions weak_options(bool reorder = true, std::string calibration = "", std::string roles = "",
                                       std::size_t k = kK) {
  model::WeakConvertOptions w;
  w.k = k;
  w.calibration = std::move(calibration);
  w.reorder = reorder;
  w.roles = std::move(roles);
  return w;
}

model::ConvertOptions convert_options(std::uint64_t shard_size, unsigned threads, std::vector<std::string> include = {}) {
  model::ConvertOptions c;
  c.shard_size = shard_size;
  c.threads = lowbit::testing::kEmulated ? 1 : threads;  // qemu-user hangs a program that starts a thread
  c.include = std::move(include);
  return c;
}

owq::Options owq_minmax() {
  owq::Options o;
  o.tuning = weak::Tuning::minmax;
  return o;
}

struct Case {
  std::string dtype;
  int shards;
  bool calibration, reorder;
  weak::Tuning tuning = weak::Tuning::minmax;
};

// Converts, dequantizes and checks every tensor of both checkpoints against the definitions.
void check_qeft(const Case& c) {
  SCOPED_TRACE(c.dtype + " shards " + std::to_string(c.shards) + (c.calibration ? " calibration" : "") + (c.reorder ? "" : " no-reorder"));
  const std::string base = fresh_temp_path("cq_" + c.dtype + std::to_string(c.shards) + std::to_string(c.calibration) +
                                                            std::to_string(c.reorder));
  const Values v = tiny_llama_values(7);
  const model::Model in = model::Model::open(write_model(base + "/in", v, c.dtype, c.shards));
  model::WeakConvertOptions w = weak_options(c.reorder);
  if (c.calibration) w.calibration = write_stats(base + "/stats.safetensors", 3);
  const std::optional<st::File> stats = c.calibration ? std::optional(st::read(io::read_file(w.calibration))) : std::nullopt;
  const auto target = model::qeft_target(qeft_options(c.tuning), w);
  fs::create_directories(base + "/out");
  model::convert(in, *target, base + "/out", convert_options(c.shards > 1 ? 40'000 : 5'000'000'000, 2));
  const model::Model out = model::Model::open(base + "/out");
  fs::create_directories(base + "/deq");
  model::dequantize(out, "F32", base + "/deq", convert_options(5'000'000'000, 2));
  const model::Model deq = model::Model::open(base + "/deq");

  const Expected e = expected(v, stats ? &*stats : nullptr, c.reorder, 4, true, c.tuning);
  std::map<std::string, const model::Weight*> recognised;
  const std::vector<model::Weight> ws = model::recognise(out);
  for (const model::Weight& x : ws) recognised[x.tensor->name] = &x;
  for (const auto& [name, x] : v) {
    SCOPED_TRACE(name);
    const std::vector<std::uint64_t> s = shape_of(name);
    if (!e.weak.count(name)) {  // a plain tensor, permuted in its own dtype
      const Idx cols = e.cols.count(name) ? e.cols.at(name) : Idx{};
      const std::vector<float> want = permute(x, s.size() == 2 ? s[0] : 1, s.back(), {}, cols);
      EXPECT_EQ(out.bytes(out.at(name)).size(), bytes_of(want, c.dtype).size());
      EXPECT_TRUE(std::ranges::equal(out.bytes(out.at(name)), bytes_of(want, c.dtype)));
      EXPECT_EQ(bits_of(read_f32(deq, name)), bits_of(want));
      EXPECT_EQ(recognised.at(name)->format, "plain");
      continue;
    }
    const std::string p = name.substr(0, name.size() - 7);
    const Idx rows = e.rows.count(name) ? e.rows.at(name) : Idx{};
    const qeft::Packed packed = qeft::encode(s[0], s[1], permute(x, s[0], s[1], rows, {}), e.weak.at(name), qeft_options(c.tuning));
    for (const st::Tensor& t : io::to_file(packed, p).tensors) {
      EXPECT_EQ(out.at(t.name).shape, t.shape) << t.name;
      EXPECT_TRUE(std::ranges::equal(out.bytes(out.at(t.name)), t.bytes)) << t.name;
    }
    const bool gather = e.gather.count(name) && e.gather.at(name);
    EXPECT_EQ(out.find(p + ".reorder_ids") != nullptr, gather);
    qeft::Options o = qeft_options(c.tuning);
    o.order = gather ? qeft::Order::original : qeft::Order::stored;
    EXPECT_EQ(bits_of(read_f32(deq, name)), bits_of(qeft::decode(packed, o)));
    const model::Weight& r = *recognised.at(p + ".qweight");
    EXPECT_EQ(r.format, "qeft");
    EXPECT_EQ(r.companions.size(), 5u + gather);
  }
  EXPECT_EQ(deq.tensors().size(), v.size());
  const auto config = nlohmann::json::parse(std::ifstream(base + "/out/config.json"));
  EXPECT_EQ(config["quantization_config"],
            nlohmann::json::parse(fmt::format(R"({{"quant_method": "qeft", "bits": 4, "group_size": 64, "k": 4, "reordered": {},
                                                  "sym": false, "tuning": "{}", "weak_columns": "{}"}})",
                                              c.reorder, c.tuning == weak::Tuning::mse ? "mse" : "minmax",
                                              c.calibration ? "calibration" : "column-norms")));
  EXPECT_EQ(out.shards().front().metadata.at("lowbit.format"), "qeft");
  fs::remove_all(base);
}

TEST(ConvertQeft, EveryLayerIsTheSingleTensorApisOnTheReorderedWeight) {
  if (!lowbit::testing::kEmulated) check_qeft({"BF16", 1, false, true, weak::Tuning::mse});  // minutes under qemu
  for (const char* dtype : {"BF16", "F16", "F32"})
    for (int shards : {1, 3}) check_qeft({dtype, shards, false, true});
}

TEST(ConvertQeft, CalibrationChoosesTheWeakColumns) {
  check_qeft({"BF16", 1, true, true});
  check_qeft({"F32", 3, true, true});
}

TEST(ConvertQeft, NoReorderGathersEveryLayersInput) {
  check_qeft({"BF16", 1, false, false});
  check_qeft({"F16", 3, true, false});
}

// The tensors of a checkpoint as the decoder the forward pass runs.
qeft::DecoderModel decoder(const model::Model& m) {
  qeft::DecoderModel d{kVocab, kHidden, kHeads, kHidden, kInter, read_f32(m, "model.embed_tokens.weight"), {}, {}, {}};
  for (std::size_t l = 0; l < kLayers; ++l) {
    qeft::DecoderBlock b;
    b.attn_norm = read_f32(m, layer(l, "input_layernorm.weight"));
    b.mlp_norm = read_f32(m, layer(l, "post_attention_layernorm.weight"));
    b.q = read_f32(m, layer(l, "self_attn.q_proj.weight"));
    b.k = read_f32(m, layer(l, "self_attn.k_proj.weight"));
    b.v = read_f32(m, layer(l, "self_attn.v_proj.weight"));
    b.o = read_f32(m, layer(l, "self_attn.o_proj.weight"));
    b.gate = read_f32(m, layer(l, "mlp.gate_proj.weight"));
    b.up = read_f32(m, layer(l, "mlp.up_proj.weight"));
    b.down = read_f32(m, layer(l, "mlp.down_proj.weight"));
    d.blocks.push_back(b);
  }
  d.final_norm = read_f32(m, "model.norm.weight");
  d.head = read_f32(m, "lm_head.weight");
  return d;
}

// The reordered fp32 model computes the original's logits bit for bit. Its weights lie on QEFT's
// per-channel min-max grid, so quantization is exact and the dequantized checkpoint is the
// reordered model itself (o_proj's run-time gather folded back into its columns).
TEST(ConvertQeft, TheReorderedModelGivesTheOriginalsLogitsBitForBit) {
  const std::string base = fresh_temp_path("cq_logits");
  const Values v = tiny_llama_values(9, /*grid=*/true);
  const model::Model in = model::Model::open(write_model(base + "/in", v, "F32", 1));
  const std::vector<int> tokens = {3, 7, 0, 31, 7, 2};
  const std::vector<float> want = lowbit::testing::forward(decoder(in), tokens);
  qeft::Options o;
  o.group = 0;
  o.tuning = weak::Tuning::minmax;
  for (bool reorder : {true, false}) {
    SCOPED_TRACE(reorder ? "reordered" : "no-reorder");
    const auto target = model::qeft_target(o, weak_options(reorder));
    const std::string out = base + (reorder ? "/r" : "/n"), deq = out + "deq";
    fs::create_directories(out);
    fs::create_directories(deq);
    std::vector<model::TensorReport> reports;  // --json's round trip: exact against the (reordered) weight
    model::ConvertOptions c = convert_options(5'000'000'000, 0);
    c.report = [&](const model::TensorReport& r) { reports.push_back(r); };
    model::convert(in, *target, out, c);
    EXPECT_EQ(reports.size(), kLayers * std::size(kLinears));
    for (const model::TensorReport& r : reports) EXPECT_EQ(r.max_abs_error, 0.0) << r.name;
    const model::Model q = model::Model::open(out);
    model::dequantize(q, "F32", deq, c);
    const model::Model d = model::Model::open(deq);
    if (reorder) {
      EXPECT_NE(read_f32(d, "model.norm.weight"), read_f32(in, "model.norm.weight"));  // it was permuted
    }
    EXPECT_EQ(bits_of(lowbit::testing::forward(decoder(d), tokens)), bits_of(want));
  }
  fs::remove_all(base);
}

std::map<std::string, std::string> files_of(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::vector<std::uint8_t> b = io::read_file(e.path().string());
    out[e.path().filename().string()] = std::string(b.begin(), b.end());
  }
  return out;
}

TEST(ConvertWeak, OneThreadEqualsTwoByteForByte) {
  if (lowbit::testing::kEmulated) GTEST_SKIP() << "threads hang under qemu-user";
  const std::string base = fresh_temp_path("cq_threads");
  const model::Model in = model::Model::open(write_model(base + "/in", tiny_llama_values(5), "BF16", 3));
  for (bool use_qeft : {true, false}) {
    std::vector<std::map<std::string, std::string>> files;
    for (unsigned threads : {1u, 2u}) {
      const auto target = use_qeft ? model::qeft_target(qeft_options(), weak_options()) : model::owq_target(owq_minmax(), weak_options());
      const std::string out = base + "/" + std::to_string(use_qeft) + std::to_string(threads);
      fs::create_directories(out);
      model::convert(in, *target, out, convert_options(40'000, threads));
      files.push_back(files_of(out));
    }
    EXPECT_GT(files[0].size(), 2u);
    EXPECT_EQ(files[0], files[1]);
  }
  fs::remove_all(base);
}

// OWQ: no reordering; the weak columns stay in place; 3 and 4 bits, with and without calibration.
TEST(ConvertOwq, EveryLayerIsTheSingleTensorApis) {
  for (int bits : {3, 4})
    for (bool calibration : {false, true}) {
      SCOPED_TRACE(std::to_string(bits) + (calibration ? " calibration" : ""));
      const std::string base = fresh_temp_path("cq_owq" + std::to_string(bits) + std::to_string(calibration));
      const Values v = tiny_llama_values(11);
      const model::Model in = model::Model::open(write_model(base + "/in", v, calibration ? "F16" : "BF16", calibration ? 3 : 1));
      model::WeakConvertOptions w = weak_options(false);
      if (calibration) w.calibration = write_stats(base + "/stats.safetensors", 4);
      const std::optional<st::File> stats = calibration ? std::optional(st::read(io::read_file(w.calibration))) : std::nullopt;
      owq::Options o;
      o.bits = bits;
      o.tuning = weak::Tuning::minmax;  // per channel, mse searches 100 clip ranges: ConvertQeft runs mse once
      const auto target = model::owq_target(o, w);
      fs::create_directories(base + "/out");
      fs::create_directories(base + "/deq");
      model::convert(in, *target, base + "/out", convert_options(5'000'000'000, 2));
      const model::Model out = model::Model::open(base + "/out");
      model::dequantize(out, "F32", base + "/deq", convert_options(5'000'000'000, 2));
      const model::Model deq = model::Model::open(base + "/deq");
      const Expected e = expected(v, stats ? &*stats : nullptr, false, bits, false, o.tuning);
      const std::string format = "owq-" + std::to_string(bits);
      for (const model::Weight& r : model::recognise(out))
        EXPECT_EQ(r.format, r.tensor->name.ends_with(".qweight") ? format : "plain") << r.tensor->name;
      for (const auto& [name, weak_columns] : e.weak) {
        const std::vector<std::uint64_t> s = shape_of(name);
        const owq::Packed packed = owq::encode(s[0], s[1], v.at(name), weak_columns, o);
        const std::string p = name.substr(0, name.size() - 7);
        for (const st::Tensor& t : io::to_file(packed, p).tensors) EXPECT_TRUE(std::ranges::equal(out.bytes(out.at(t.name)), t.bytes)) << t.name;
        EXPECT_EQ(bits_of(read_f32(deq, name)), bits_of(owq::decode(packed))) << name;
      }
      const auto config = nlohmann::json::parse(std::ifstream(base + "/out/config.json"));
      EXPECT_EQ(config["quantization_config"]["quant_method"], "owq");
      EXPECT_EQ(config["quantization_config"]["bits"], bits);
      EXPECT_EQ(config["quantization_config"]["group_size"], -1);
      fs::remove_all(base);
    }
}

// One QEFT layer: its buffers are qeft::encode's on the fully reordered weight with the weak columns
// last, but for outlieridx, which keeps the original indices (as the repo's QuantLinear stores them).
TEST(ConvertQeft, ALayersBuffersAreThoseOfTheReorderedWeightWithItsWeakColumnsLast) {
  const std::string base = fresh_temp_path("cq_one");
  const Values v = tiny_llama_values(13);
  const model::Model in = model::Model::open(write_model(base + "/in", v, "F32", 1));
  fs::create_directories(base + "/out");
  model::convert(in, *model::qeft_target(qeft_options(), weak_options()), base + "/out", convert_options(1 << 30, 0));
  const model::Model out = model::Model::open(base + "/out");
  const Expected e = expected(v, nullptr, true, 4, true);
  const std::string name = layer(1, "mlp.gate_proj.weight"), p = name.substr(0, name.size() - 7);
  const Idx pd = weak::permutation(e.weak.at(layer(1, "mlp.down_proj.weight")), kInter);
  const std::vector<float> reordered = permute(v.at(name), kInter, kHidden, pd, weak::permutation(e.weak.at(name), kHidden));
  Idx last(kK);
  std::iota(last.begin(), last.end(), static_cast<std::int32_t>(kHidden - kK));
  qeft::Packed want = qeft::encode(kInter, kHidden, reordered, last, qeft_options());
  want.outlieridx = e.weak.at(name);
  for (const st::Tensor& t : io::to_file(want, p).tensors) EXPECT_TRUE(std::ranges::equal(out.bytes(out.at(t.name)), t.bytes)) << t.name;
  fs::remove_all(base);
}

// Each bad input is one lowbit::Error naming the tensor, and nothing is written.
TEST(ConvertWeak, BadInputNamesTheTensor) {
  const std::string base = fresh_temp_path("cq_bad");
  const model::Model in = model::Model::open(write_model(base + "/in", tiny_llama_values(5), "BF16", 1));
  const auto fails = [&](const std::function<void(const std::string&)>& run, const std::string& needle) {
    const std::string out = base + "/out";
    fs::remove_all(out);
    fs::create_directories(out);
    try {
      run(out);
      ADD_FAILURE() << "no error; expected one naming " << needle;
    } catch (const lowbit::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_TRUE(fs::is_empty(out));
  };
  const auto qeft_with = [&](model::WeakConvertOptions w, model::ConvertOptions c = convert_options(1 << 30, 0),
                             qeft::Options o = qeft_options()) {
    return [=, &in](const std::string& out) { model::convert(in, *model::qeft_target(o, w), out, c); };
  };
  // A selected tensor that is not 2-D; a shape the layout cannot take (k = IC, a group not dividing IC).
  fails(qeft_with(weak_options(), convert_options(1 << 30, 1, {"*input_layernorm*"})), "model.layers.0.input_layernorm.weight");
  fails(qeft_with(weak_options(true, "", "", kHidden)), "model.layers.0.mlp.gate_proj.weight");
  fails(qeft_with(weak_options(), {}, qeft::Options{}), "model.layers.0.mlp.gate_proj.weight");  // group 128 > IC 64
  fails([&](const std::string& out) { model::convert(in, *model::owq_target(owq_minmax(), weak_options()), out, convert_options(1 << 30, 1, {"model.norm.weight"})); },
        "model.norm.weight");
  // Calibration: a layer missing, a wrong length, a value that is not finite.
  const auto stats = [&](const std::string& drop, std::size_t len, float bad) {
    std::vector<st::Tensor> ts;
    for (std::size_t l = 0; l < kLayers; ++l)
      for (const char* n : kLinears) {
        const std::string w = layer(l, n), s = w.substr(0, w.size() - 7) + ".input_sq_sum";
        if (s == drop) continue;
        std::vector<float> x(s == layer(1, "self_attn.v_proj.input_sq_sum") ? len : shape_of(w)[1], 1.0f);
        x[0] = s == layer(0, "mlp.up_proj.input_sq_sum") ? bad : 1.0f;
        ts.push_back(st::make_tensor(s, "F32", {x.size()}, x));
      }
    const std::string path = base + "/stats" + std::to_string(len) + drop.substr(0, 14) + ".safetensors";
    io::write_file(path, st::write(ts));
    return path;
  };
  fails(qeft_with(weak_options(true, stats(layer(1, "mlp.down_proj.input_sq_sum"), kHidden, 1))), layer(1, "mlp.down_proj.input_sq_sum"));
  fails(qeft_with(weak_options(true, stats("", kHidden + 1, 1))), layer(1, "self_attn.v_proj.input_sq_sum"));
  fails(qeft_with(weak_options(true, stats("", kHidden, std::nanf("")))), layer(0, "mlp.up_proj.input_sq_sum"));
  fails(qeft_with(weak_options(true, stats("", kHidden, -1.0f))), layer(0, "mlp.up_proj.input_sq_sum"));
  // Roles: not JSON, an unknown role, a mapping that names no tensor of the model.
  EXPECT_THROW(model::qeft_target(qeft_options(), weak_options(true, "", "{")), lowbit::Error);
  EXPECT_THROW(model::qeft_target(qeft_options(), weak_options(true, "", R"({"attention": "x"})")), lowbit::Error);
  nlohmann::json roles = nlohmann::json::parse(R"({"embed_tokens": "model.embed_tokens.weight", "final_norm": "model.norm.weight",
    "input_layernorm": "blk.{i}.ln1", "post_attention_layernorm": "blk.{i}.ln2", "q_proj": "blk.{i}.q", "k_proj": "blk.{i}.k",
    "v_proj": "blk.{i}.v", "o_proj": "blk.{i}.o", "gate_proj": "blk.{i}.gate", "up_proj": "blk.{i}.up", "down_proj": "blk.{i}.down"})");
  fails(qeft_with(weak_options(true, "", roles.dump())), "blk.0.q");
  fs::remove_all(base);
}

// Another family through --roles: the Llama tensors renamed, the same conversion.
TEST(ConvertQeft, RolesMapAnotherFamilysNames) {
  const std::string base = fresh_temp_path("cq_roles");
  const Values v = tiny_llama_values(17);
  Values renamed;
  for (const auto& [name, x] : v) {
    std::string n = name;
    for (const auto& [from, to] : {std::pair{"model.layers.", "h."}, std::pair{"self_attn.", "attn."}}) {
      if (const std::size_t at = n.find(from); at != std::string::npos) n.replace(at, std::string_view(from).size(), to);
    }
    renamed[n] = x;
  }
  nlohmann::json roles = nlohmann::json::parse(R"({"embed_tokens": "model.embed_tokens.weight", "lm_head": "lm_head.weight",
    "final_norm": "model.norm.weight", "input_layernorm": "h.{i}.input_layernorm.weight",
    "post_attention_layernorm": "h.{i}.post_attention_layernorm.weight", "q_proj": "h.{i}.attn.q_proj.weight",
    "k_proj": "h.{i}.attn.k_proj.weight", "v_proj": "h.{i}.attn.v_proj.weight", "o_proj": "h.{i}.attn.o_proj.weight",
    "gate_proj": "h.{i}.mlp.gate_proj.weight", "up_proj": "h.{i}.mlp.up_proj.weight", "down_proj": "h.{i}.mlp.down_proj.weight"})");
  std::vector<st::Tensor> ts;
  for (const auto& [name, x] : renamed) ts.push_back({name, "F32", shape_of(name), bytes_of(x, "F32")});
  lowbit::testing::write_checkpoint(base + "/in", ts, 1);
  const model::Model in = model::Model::open(base + "/in");
  fs::create_directories(base + "/out");
  model::convert(in, *model::qeft_target(qeft_options(), weak_options(true, "", roles.dump())), base + "/out", convert_options(1 << 30, 0));
  const model::Model out = model::Model::open(base + "/out");
  const Expected e = expected(v, nullptr, true, 4, true);
  EXPECT_TRUE(std::ranges::equal(out.bytes(out.at("model.norm.weight")),
                                 bytes_of(permute(v.at("model.norm.weight"), 1, kHidden, {}, e.cols.at("model.norm.weight")), "F32")));
  const std::vector<float> o = qeft::decode(io::qeft_from_file(st::read(io::read_file(base + "/out/model.safetensors")), "h.1.attn.o_proj"));
  EXPECT_EQ(out.find("h.1.attn.o_proj.reorder_ids") != nullptr, true);
  EXPECT_EQ(o.size(), kHidden * kHidden);
  EXPECT_EQ(st::values<std::int32_t>(*st::read(io::read_file(base + "/out/model.safetensors")).find("h.1.attn.q_proj.outlieridx"), "I32"),
            e.weak.at(layer(1, "self_attn.q_proj.weight")));
  fs::remove_all(base);
}

}  // namespace
