// io::model::convert / dequantize (lowbit/io/convert.hpp) with the NF4/FP4 target: generated tiny
// Llama checkpoints in every source dtype, one file and sharded, round trip against the single-tensor
// API bit for bit; the same bytes for every thread count; shards, index, metadata, config.json and
// the folder's other files; bitsandbytes' golden quant_state bytes; and each bad input refused.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <bit>
#include <filesystem>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "lowbit/conformance/golden.hpp"
#include "lowbit/error.hpp"
#include "lowbit/io/bnb_checkpoint.hpp"
#include "lowbit/io/convert.hpp"
#include "lowbit/io/files.hpp"
#include "convert_tester.hpp"
#include "testing/temp_dir.hpp"
#include "testing/tiny_llama.hpp"

namespace fs = std::filesystem;
namespace st = lowbit::io::safetensors;
namespace md = lowbit::io::model;
namespace bnb = lowbit::io::bnb;
using lowbit::testing::tiny_llama_values;
using lowbit::testing::write_checkpoint;
using lowbit::testing::write_text;

namespace {

std::string temp(const std::string& name) { return fresh_temp_path("lowbit_convert_" + name); }

using lowbit::testing::expect_same_files;
using lowbit::testing::kEmulated;
md::ConvertOptions options() { return lowbit::testing::convert_options(); }

// A model folder with a config.json and a tokenizer file beside the tensors.
std::string model_folder(const std::string& name, const std::vector<st::Tensor>& tensors, int shards = 1) {
  const std::string dir = write_checkpoint(temp(name), tensors, shards);
  write_text(dir + "/config.json", R"({"architectures": ["LlamaForCausalLM"], "torch_dtype": "bfloat16"})");
  write_text(dir + "/tokenizer.json", "{\"tokens\": 3}");
  return dir;
}

std::string empty_folder(const std::string& name) {
  const std::string dir = temp(name);
  fs::create_directories(dir);
  return dir;
}

std::unique_ptr<md::Target> nf4_dq(const char* profile = "lowbit") {
  lowbit::nf4::Options o;
  o.profile = lowbit::nf4::profile(profile);
  return md::bnb_target(o, lowbit::nf4::DoubleQuantOptions{});
}

std::vector<float> values_of(const st::Tensor& t) {
  const md::Model m = md::Model::open(write_checkpoint(temp("values"), {t}));
  return md::Source(m, m.at(t.name)).read_all(md::Parallel(1));
}

std::vector<std::uint8_t> bits(std::span<const float> v) {
  std::vector<std::uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

bool selected_by_default(const st::Tensor& t) {
  return t.shape.size() == 2 && t.name.find("embed") == std::string::npos && t.name.find("lm_head") == std::string::npos;
}

TEST(Convert, Nf4RoundTripEqualsTheSingleTensorApiInEveryDtypeAndShardCount) {
  for (const std::string dtype : {"BF16", "F16", "F32"})
    for (const int shards : {1, 3}) {
      SCOPED_TRACE(dtype + " in " + std::to_string(shards) + " shard(s)");
      const std::vector<st::Tensor> tensors = tiny_llama_values(dtype);
      const md::Model in = md::Model::open(model_folder("rt_in", tensors, shards));
      const std::string out = empty_folder("rt_out"), deq = empty_folder("rt_deq");
      auto target = nf4_dq();
      md::convert(in, *target, out, options());
      const md::Model q = md::Model::open(out);
      std::map<std::string, std::string> formats;
      for (const md::Weight& w : md::recognise(q)) formats[w.tensor->name] = w.format;
      md::dequantize(q, "F32", deq, options());
      const md::Model back = md::Model::open(deq);
      ASSERT_EQ(back.tensors().size(), tensors.size());
      int converted = 0;
      for (const st::Tensor& t : tensors) {
        const st::Tensor got = back.load(back.at(t.name));
        if (!selected_by_default(t)) {
          EXPECT_EQ(formats[t.name], "plain") << t.name;
          EXPECT_EQ(got, t) << t.name;  // copied through both conversions unchanged
          continue;
        }
        ++converted;
        EXPECT_EQ(formats[t.name], "nf4-dq") << t.name;
        lowbit::nf4::Options o;
        const bnb::Bnb4bitState s = bnb::encode(values_of(t), t.shape, o, lowbit::nf4::DoubleQuantOptions{});
        EXPECT_EQ(got.dtype, "F32");
        EXPECT_EQ(got.shape, t.shape);
        EXPECT_EQ(got.bytes, bits(bnb::decode(s))) << t.name;
        // and the stored state is the single-tensor API's, with the source dtype in its JSON
        bnb::Bnb4bitState stored = bnb::from_tensors(std::vector{q.load(q.at(t.name)), q.load(q.at(t.name + ".absmax")),
                                                                 q.load(q.at(t.name + ".quant_map")),
                                                                 q.load(q.at(t.name + ".nested_absmax")),
                                                                 q.load(q.at(t.name + ".nested_quant_map")),
                                                                 q.load(q.at(t.name + ".quant_state.bitsandbytes__nf4"))},
                                                     t.name);
        EXPECT_EQ(stored.dtype, dtype == "BF16" ? "bfloat16" : dtype == "F16" ? "float16" : "float32");
        stored.dtype = "float32";
        EXPECT_EQ(st::write(bnb::to_tensors(stored)), st::write(bnb::to_tensors(s))) << t.name;
      }
      EXPECT_EQ(converted, 14);
    }
}

TEST(Convert, EveryThreadCountWritesTheSameBytes) {
  if (kEmulated) GTEST_SKIP() << "threads hang under qemu-user";
  // One weight of 3 Mi elements: three chunks of the NF4 encode, run on 1, 2 and 3 threads.
  lowbit::testing::LlamaDims d;
  d.hidden = 1024;
  d.inter = 3072;
  d.layers = 1;
  d.vocab = 8;
  const md::Model in = md::Model::open(model_folder("threads_in", tiny_llama_values("BF16", d)));
  std::string first, first_deq;
  for (const unsigned threads : {1u, 2u, 3u}) {
    md::ConvertOptions o;
    o.threads = threads;
    o.shard_size = 4'000'000;
    const std::string out = empty_folder("threads_out" + std::to_string(threads));
    auto target = nf4_dq();
    md::convert(in, *target, out, o);
    if (first.empty()) first = out;
    else expect_same_files(first, out);
    const std::string deq = empty_folder("threads_deq" + std::to_string(threads));
    md::dequantize(md::Model::open(out), "BF16", deq, o);
    if (first_deq.empty()) first_deq = deq;
    else expect_same_files(first_deq, deq);
  }
}

// ext4 and XFS take the shard header by inserting blocks in front of the data; tmpfs cannot, and the
// data is copied behind the header instead: the same bytes either way.
TEST(Convert, EveryFileSystemWritesTheSameBytes) {
  if (!fs::is_directory("/dev/shm")) GTEST_SKIP() << "no /dev/shm (tmpfs) here";
  const md::Model in = md::Model::open(model_folder("fs_in", tiny_llama_values("F32")));
  md::ConvertOptions o = options();
  o.shard_size = 30'000;
  const std::string disk = empty_folder("fs_disk"), shm = "/dev/shm/lowbit_convert_fs." + std::to_string(::getpid());
  fs::remove_all(shm);
  fs::create_directories(shm);
  auto target = nf4_dq();
  md::convert(in, *target, disk, o);
  md::convert(in, *target, shm, o);
  expect_same_files(disk, shm);
  EXPECT_GT(md::Model::open(shm).shards().size(), 1u);
  fs::remove_all(shm);
}

TEST(Convert, ShardsIndexMetadataConfigAndOtherFiles) {
  const std::vector<st::Tensor> tensors = tiny_llama_values("BF16");
  const std::string src = model_folder("layout_in", tensors);
  fs::create_directories(src + "/extra");
  write_text(src + "/extra/notes.txt", "kept");
  const md::Model in = md::Model::open(src);
  const std::string out = empty_folder("layout_out");
  md::ConvertOptions o = options();
  o.shard_size = 20'000;
  auto target = nf4_dq();
  md::convert(in, *target, out, o);

  const md::Model q = md::Model::open(out);
  ASSERT_GT(q.shards().size(), 2u);
  const nlohmann::json index = nlohmann::json::parse(lowbit::io::read_file(out + "/model.safetensors.index.json"));
  std::uint64_t total = 0;
  for (const md::TensorInfo& t : q.tensors()) total += t.bytes;
  EXPECT_EQ(index["metadata"]["total_size"].get<std::uint64_t>(), total);
  EXPECT_EQ(index["weight_map"].size(), q.tensors().size());
  for (std::size_t s = 0; s < q.shards().size(); ++s) {
    EXPECT_EQ(fs::path(q.shards()[s].path).filename().string(),
              fmt::format("model-{:05}-of-{:05}.safetensors", s + 1, q.shards().size()));
    const st::Metadata& m = q.shards()[s].metadata;
    EXPECT_EQ(m.at("format"), "pt");
    EXPECT_EQ(m.at("lowbit.format"), "nf4-dq");
    EXPECT_EQ(m.at("lowbit.profile"), "lowbit");
    EXPECT_EQ(m.at("lowbit.blocksize"), "64");
    EXPECT_FALSE(m.at("lowbit.version").empty());
  }
  std::map<std::size_t, std::uint64_t> data;
  for (const md::TensorInfo& t : q.tensors()) data[t.shard] += t.bytes;
  for (const md::Weight& w : md::recognise(q))
    for (const md::TensorInfo* c : w.companions) EXPECT_EQ(c->shard, w.tensor->shard) << c->name;  // a weight's group stays together
  for (const auto& [s, bytes] : data) EXPECT_LE(bytes, o.shard_size) << "shard " << s;

  const nlohmann::json config = nlohmann::json::parse(lowbit::io::read_file(out + "/config.json"));
  EXPECT_EQ(config["architectures"][0], "LlamaForCausalLM");
  const nlohmann::json want = {{"quant_method", "bitsandbytes"},    {"load_in_4bit", true},
                               {"load_in_8bit", false},             {"bnb_4bit_quant_type", "nf4"},
                               {"bnb_4bit_use_double_quant", true}, {"bnb_4bit_compute_dtype", "bfloat16"},
                               {"bnb_4bit_quant_storage", "uint8"}};
  EXPECT_EQ(config["quantization_config"], want);
  EXPECT_EQ(lowbit::io::read_file(out + "/tokenizer.json"), lowbit::io::read_file(src + "/tokenizer.json"));
  EXPECT_EQ(lowbit::io::read_file(out + "/extra/notes.txt"), lowbit::io::read_file(src + "/extra/notes.txt"));

  // dequantize: one file again, the source dtype, no quantization_config
  const std::string deq = empty_folder("layout_deq");
  md::dequantize(q, "", deq, options());
  EXPECT_TRUE(fs::exists(deq + "/model.safetensors"));
  EXPECT_FALSE(fs::exists(deq + "/model.safetensors.index.json"));
  const md::Model back = md::Model::open(deq);
  for (const md::TensorInfo& t : back.tensors()) EXPECT_EQ(t.dtype, "BF16") << t.name;
  const std::string w = "model.layers.1.mlp.up_proj.weight";
  std::vector<st::Tensor> state;
  for (const char* suffix : {"", ".absmax", ".quant_map", ".nested_absmax", ".nested_quant_map", ".quant_state.bitsandbytes__nf4"})
    state.push_back(q.load(q.at(w + suffix)));
  const std::vector<float> f32 = bnb::decode(bnb::from_tensors(state, w));
  EXPECT_EQ(back.load(back.at(w)), lowbit::testing::float_tensor(w, "BF16", {128, 64}, f32));  // rounded to nearest even
  EXPECT_FALSE(nlohmann::json::parse(lowbit::io::read_file(deq + "/config.json")).contains("quantization_config"));
}

TEST(Convert, GoldenBitsandbytesStateForEveryCase) {
  const lowbit::conformance::GoldenDir g = lowbit::conformance::GoldenDir::from_env();
  int checked = 0;
  for (const std::string c : {"normal", "uniform", "edge", "divmul", "tail1", "tail63", "tail65", "tail127", "tail357"}) {
    SCOPED_TRACE(c);
    const std::vector<std::uint8_t> in = g.bytes("nf4/" + c + ".in.f32");
    const std::uint64_t n = in.size() / 4;
    const st::Tensor w{"model.layers.0.mlp.down_proj.weight", "F32", {1, n}, in};
    const md::Model m = md::Model::open(write_checkpoint(temp("golden_in"), {w}));
    const std::string out = empty_folder("golden_out");
    auto target = nf4_dq("bnb-cpu");
    md::convert(m, *target, out, options());
    const md::Model q = md::Model::open(out);
    const auto bytes = [&](const std::string& suffix) { return q.load(q.at(w.name + suffix)).bytes; };
    EXPECT_EQ(bytes(""), g.bytes("nf4/" + c + ".bnbcpu.nf4.u8"));
    EXPECT_EQ(bytes(".absmax"), g.bytes("nf4/" + c + ".bnbcpu.dq.qabsmax.u8"));
    EXPECT_EQ(bytes(".nested_absmax"), g.bytes("nf4/" + c + ".bnbcpu.dq.nested_absmax.f32"));
    // bitsandbytes quantized the values as a 1-D tensor [n]; the checkpoint's weight is [1, n]
    std::vector<std::uint8_t> json = g.bytes("nf4/" + c + ".bnbcpu.dq.quant_state.json");
    std::string text(json.begin(), json.end());
    const std::string from = fmt::format("\"shape\": [{}]", n);
    ASSERT_NE(text.find(from), std::string::npos);
    text.replace(text.find(from), from.size(), fmt::format("\"shape\": [1, {}]", n));
    EXPECT_EQ(bytes(".quant_state.bitsandbytes__nf4"), std::vector<std::uint8_t>(text.begin(), text.end()));
    ++checked;
  }
  EXPECT_EQ(checked, 9);
}

void expect_error(const std::function<void()>& f, lowbit::Errc code, const std::string& excerpt) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one with '" << excerpt << "'";
  } catch (const lowbit::Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(excerpt), std::string::npos) << e.what();
  }
}

TEST(Convert, BadInputIsOneErrorNamingTheTensorAndWritesNothing) {
  const std::vector<st::Tensor> tensors = tiny_llama_values("BF16");
  const std::string src = model_folder("bad_in", tensors);
  const md::Model in = md::Model::open(src);
  auto target = nf4_dq();

  md::ConvertOptions norms = options();
  norms.include = {"*norm*"};
  const std::string out = empty_folder("bad_out");
  expect_error([&] { md::convert(in, *target, out, norms); }, lowbit::Errc::data,
               "tensor 'model.layers.0.input_layernorm.weight' [64] is selected but not 2-D");
  EXPECT_TRUE(fs::is_empty(out));

  write_text(out + "/something", "x");
  expect_error([&] { md::convert(in, *target, out, options()); }, lowbit::Errc::invalid, "not empty");
  expect_error([&] { md::convert(in, *target, src, options()); }, lowbit::Errc::invalid, "not empty");
  expect_error([&] { md::convert(in, *target, temp("missing"), options()); }, lowbit::Errc::invalid, "not a folder");
  fs::create_directories(src + "/sub");
  expect_error([&] { md::convert(in, *target, src + "/sub", options()); }, lowbit::Errc::invalid, "lies inside the input model's folder");
  fs::remove(src + "/sub");
  expect_error([&] { md::dequantize(in, "I8", empty_folder("bad_to"), options()); }, lowbit::Errc::invalid, "cannot dequantize to I8");

  // a quantized tensor selected again
  const std::string q = empty_folder("bad_q");
  md::convert(in, *target, q, options());
  md::ConvertOptions again = options();
  again.include = {"model.layers.0.mlp.down_proj.weight"};
  const std::string out2 = empty_folder("bad_out2");
  expect_error([&] { md::convert(md::Model::open(q), *target, out2, again); }, lowbit::Errc::data,
               "tensor 'model.layers.0.mlp.down_proj.weight' is selected but U8");

  // a config.json that is not JSON
  write_text(src + "/config.json", "{not json");
  expect_error([&] { md::convert(in, *target, empty_folder("bad_config"), options()); }, lowbit::Errc::data, "config.json: not JSON");
}

TEST(Convert, SelectionRules) {
  const md::Model in = md::Model::open(model_folder("select", tiny_llama_values("F16")));
  const auto names = [&](const md::ConvertOptions& o) {
    std::vector<std::string> v;
    for (const md::TensorInfo* t : md::select(in, o)) v.push_back(t->name);
    return v;
  };
  EXPECT_EQ(names({}).size(), 14u);  // q/k/v/o/gate/up/down of two layers; no embeddings, norms, lm_head
  md::ConvertOptions o;
  o.exclude = {"*.mlp.*"};
  EXPECT_EQ(names(o).size(), 8u);
  o.include = {"*q_proj*", "lm_head.weight"};
  o.exclude = {"model.layers.1.*"};
  EXPECT_EQ(names(o), (std::vector<std::string>{"lm_head.weight", "model.layers.0.self_attn.q_proj.weight"}));
}

}  // namespace
