// io::model: whole checkpoints (one file, a folder, shards with an index) listed from their
// headers, tensor bytes through the mapping, every malformed input as one Errc::data error naming
// the file and the tensor; and io::model::recognise on bnb NF4 and fp8 weights.
#include <gtest/gtest.h>

#include <filesystem>

#include "lowbit/error.hpp"
#include "lowbit/io/bnb_checkpoint.hpp"
#include "lowbit/io/model.hpp"
#include "lowbit/io/model_layouts.hpp"
#include "testing/temp_dir.hpp"
#include "testing/tiny_llama.hpp"

namespace fs = std::filesystem;
namespace st = lowbit::io::safetensors;
namespace md = lowbit::io::model;
using lowbit::testing::tiny_llama;
using lowbit::testing::write_checkpoint;
using lowbit::testing::write_text;

namespace {

std::string temp(const std::string& name) { return fresh_temp_path("lowbit_model_" + name); }

// Every tensor of `want` is in `m` with its dtype, shape and bytes, and nothing else is.
void expect_same(const md::Model& m, const std::vector<st::Tensor>& want) {
  ASSERT_EQ(m.tensors().size(), want.size());
  std::uint64_t total = 0;
  for (const st::Tensor& t : want) {
    const md::TensorInfo& i = m.at(t.name);
    EXPECT_EQ(i.dtype, t.dtype) << t.name;
    EXPECT_EQ(i.shape, t.shape) << t.name;
    EXPECT_EQ(i.bytes, t.bytes.size()) << t.name;
    const auto b = m.bytes(i);
    EXPECT_EQ(std::vector<std::uint8_t>(b.begin(), b.end()), t.bytes) << t.name;
    EXPECT_EQ(m.load(i), t);
    // The offset is the tensor's place in its shard file.
    const std::vector<std::uint8_t> file = lowbit::io::read_file(m.shards()[i.shard].path);
    EXPECT_TRUE(std::equal(t.bytes.begin(), t.bytes.end(), file.begin() + static_cast<std::ptrdiff_t>(i.offset))) << t.name;
    total += t.bytes.size();
  }
  EXPECT_EQ(m.total_bytes(), total);
  EXPECT_TRUE(std::is_sorted(m.tensors().begin(), m.tensors().end(),
                             [](const md::TensorInfo& a, const md::TensorInfo& b) { return a.name < b.name; }));
}

// open(path) throws one Errc::data error whose message holds every part.
void expect_bad(const std::string& path, const std::vector<std::string>& parts) {
  try {
    md::Model::open(path);
    ADD_FAILURE() << path << ": no error";
  } catch (const lowbit::Error& e) {
    EXPECT_EQ(e.code(), lowbit::Errc::data) << e.what();
    for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << "\n  lacks: " << p;
  }
}

// A file of the given header text and buffer (the header is not padded).
std::vector<std::uint8_t> file_with(const std::string& header, std::size_t buffer) {
  std::vector<std::uint8_t> out(8 + header.size() + buffer, 0);
  for (int b = 0; b < 8; ++b) out[b] = static_cast<std::uint8_t>(std::uint64_t{header.size()} >> (8 * b));
  std::copy(header.begin(), header.end(), out.begin() + 8);
  return out;
}

// A one-file model of that header and buffer: open() throws naming the file and every part.
void expect_bad_file(const std::string& name, const std::string& header, std::size_t buffer, std::vector<std::string> parts) {
  const std::string file = temp(name + ".safetensors");
  lowbit::io::write_file(file, file_with(header, buffer));
  parts.push_back(file);
  expect_bad(file, parts);
}

std::string sharded(const std::string& name) { return write_checkpoint(temp(name), tiny_llama("BF16"), 3); }
std::string index_of(const std::string& folder) { return folder + "/model.safetensors.index.json"; }

}  // namespace

TEST(Model, SingleFileAndFolderListEveryTensorOfEachDtype) {
  for (const char* dtype : {"F32", "F16", "BF16"}) {
    const std::vector<st::Tensor> tensors = tiny_llama(dtype);
    EXPECT_EQ(tensors.size(), 21u);
    const std::string dir = write_checkpoint(temp(std::string("single_") + dtype), tensors);
    for (const std::string& path : {dir, dir + "/model.safetensors"}) {
      const md::Model m = md::Model::open(path);
      expect_same(m, tensors);
      ASSERT_EQ(m.shards().size(), 1u);
      EXPECT_EQ(m.shards()[0].metadata, (st::Metadata{{"format", "pt"}}));
      EXPECT_EQ(m.folder(), path == dir ? dir : "");
    }
  }
}

TEST(Model, ShardsWithAnIndex) {
  for (int shards : {2, 3}) {
    const std::vector<st::Tensor> tensors = tiny_llama("F16");
    const md::Model m = md::Model::open(write_checkpoint(temp("shards" + std::to_string(shards)), tensors, shards));
    expect_same(m, tensors);
    ASSERT_EQ(m.shards().size(), static_cast<std::size_t>(shards));
    EXPECT_EQ(fs::path(m.shards()[m.at("model.embed_tokens.weight").shard].path).filename(),
              "model-00001-of-0000" + std::to_string(shards) + ".safetensors");
  }
}

TEST(Model, ReleasedTensorsStayReadable) {
  std::vector<st::Tensor> tensors = {st::Tensor{"big", "U8", {3 * 4096 + 5}, std::vector<std::uint8_t>(3 * 4096 + 5, 7)}};
  const md::Model m = md::Model::open(write_checkpoint(temp("release"), tensors));
  m.release(m.at("big"));
  EXPECT_EQ(m.load(m.at("big")), tensors[0]);
}

TEST(ModelBad, TruncatedShard) {
  const std::string dir = write_checkpoint(temp("truncated"), tiny_llama("F32"));
  const std::string file = dir + "/model.safetensors";
  fs::resize_file(file, fs::file_size(file) - 10);
  // The last tensor in the buffer (widest dtype, then by name) now runs past the end.
  expect_bad(dir, {file, "tensor 'model.norm.weight'", "outside"});
  fs::resize_file(file, 5);
  expect_bad(file, {file, "too short"});
}

TEST(ModelBad, HeaderLengthBeyondTheFile) {
  const std::string file = temp("long_header.safetensors");
  std::vector<std::uint8_t> b = file_with(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1);
  b[0] = 200;
  lowbit::io::write_file(file, b);
  expect_bad(file, {file, "header length 200 runs past the end"});
}

TEST(ModelBad, OffsetsOutOfRange) {
  expect_bad_file("out_of_range", R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})", 4, {"tensor 'w'", "outside the 4-byte buffer"});
}

TEST(ModelBad, OverlappingTensors) {
  expect_bad_file("overlap", R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})", 4, {"'a' and 'b' overlap"});
}

TEST(ModelBad, TensorsNotTilingTheBuffer) {
  expect_bad_file("gap", R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})", 4, {"before tensor 'a' belong to no tensor"});
}

TEST(ModelBad, DtypeAndShapeNotMatchingTheBytes) {
  expect_bad_file("mismatch", R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4, {"tensor 'w'", "needs 8 bytes"});
}

TEST(ModelBad, NotASafetensorsFile) {
  const std::string file = temp("not_st.safetensors");
  write_text(file, "\x93NUMPY\x01\x00 this is not a checkpoint at all");
  expect_bad(file, {file, "header length"});
}

TEST(ModelBad, IndexNamesAMissingShard) {
  const std::string dir = sharded("missing_shard");
  fs::remove(dir + "/model-00002-of-00003.safetensors");
  expect_bad(dir, {index_of(dir), "shard 'model-00002-of-00003.safetensors' does not exist", "tensor '"});
}

TEST(ModelBad, IndexListsATensorTwice) {
  const std::string dir = sharded("index_twice");
  nlohmann::json j = nlohmann::json::parse(lowbit::io::read_file(index_of(dir)));
  const std::string text = "{\"weight_map\": {\"lm_head.weight\": \"" + j["weight_map"]["lm_head.weight"].get<std::string>() + "\", " + j["weight_map"].dump().substr(1) + "}";
  write_text(index_of(dir), text);
  expect_bad(dir, {index_of(dir), "repeats the key 'lm_head.weight'"});
}

TEST(ModelBad, TensorInTwoShards) {
  const std::string dir = sharded("two_shards");
  // Shard 2 holds every third tensor from the second on; add embed_tokens, which the index places in shard 1.
  const std::vector<st::Tensor> all = tiny_llama("BF16");
  std::vector<st::Tensor> second;
  for (std::size_t i = 1; i < all.size(); i += 3) second.push_back(all[i]);
  second.push_back(all[0]);
  lowbit::io::write_file(dir + "/model-00002-of-00003.safetensors", st::write(second));
  expect_bad(dir, {"model-00002-of-00003.safetensors", "tensor 'model.embed_tokens.weight' is placed in shard 'model-00001-of-00003.safetensors'"});
}

TEST(ModelBad, ShardTensorTheIndexDoesNotList) {
  const std::string dir = sharded("unlisted");
  nlohmann::json j = nlohmann::json::parse(lowbit::io::read_file(index_of(dir)));
  j["weight_map"].erase("lm_head.weight");
  write_text(index_of(dir), j.dump());
  expect_bad(dir, {"tensor 'lm_head.weight' is not in the index"});
}

TEST(ModelBad, IndexTensorNotInItsShard) {
  const std::string dir = sharded("absent");
  nlohmann::json j = nlohmann::json::parse(lowbit::io::read_file(index_of(dir)));
  j["weight_map"]["model.extra.weight"] = "model-00001-of-00003.safetensors";
  write_text(index_of(dir), j.dump());
  expect_bad(dir, {index_of(dir), "tensor 'model.extra.weight' is not in its shard 'model-00001-of-00003.safetensors'"});
}

TEST(ModelBad, IndexThatIsNotTheDocumentedJson) {
  const std::string dir = sharded("bad_index");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[1, 2]", "must be a JSON object, not array"},
      {"{\"metadata\": {}}", "has no \"weight_map\""},
      {"{\"weight_map\": []}", "\"weight_map\" must be an object"},
      {"{\"weight_map\": {}, \"metadata\": 3}", "\"metadata\" must be an object"},
      {"{\"weight_map\": {}, \"shards\": {}}", "unknown key 'shards'"},
      {"{\"weight_map\": {\"w\": 3}}", "tensor 'w': shard must be a file name"},
      {"{\"weight_map\": {\"w\": \"../model.safetensors\"}}", "tensor 'w': shard '../model.safetensors' is not a file name"},
      {"{\"weight_map\": {\"w\": \"a\"}", "is not valid JSON"},
      {"{\"weight_map\": {\"w\": [[[1]]]}}", "levels deep"},
  };
  for (const auto& [text, message] : cases) {
    write_text(index_of(dir), text);
    expect_bad(dir, {index_of(dir), message});
  }
}

TEST(ModelBad, FolderWithNeitherOrBoth) {
  const std::string dir = temp("neither");
  fs::create_directories(dir);
  expect_bad(dir, {dir, "holds neither model.safetensors nor model.safetensors.index.json"});
  const std::string both = sharded("both");
  write_checkpoint(both, tiny_llama("BF16"));
  expect_bad(both, {both, "holds both"});
}

TEST(ModelBad, MissingPathIsAnIoError) {
  try {
    md::Model::open(temp("nothing_here.safetensors"));
    ADD_FAILURE() << "no error";
  } catch (const lowbit::Error& e) {
    EXPECT_EQ(e.code(), lowbit::Errc::io);
    EXPECT_NE(std::string(e.what()).find("nothing_here"), std::string::npos) << e.what();
  }
}

TEST(ModelLayouts, GroupsBnbAndFp8Companions) {
  std::vector<st::Tensor> tensors = tiny_llama("BF16");
  std::vector<float> w(16 * 24);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 17) - 8) / 8.0f;
  lowbit::io::bnb::Bnb4bitState s = lowbit::io::bnb::encode(w, {16, 24}, {}, lowbit::nf4::DoubleQuantOptions{});
  s.dtype = "bfloat16";
  std::erase_if(tensors, [](const st::Tensor& t) { return t.name == "model.layers.0.mlp.down_proj.weight"; });
  for (st::Tensor& t : lowbit::io::bnb::to_tensors(s, "model.layers.0.mlp.down_proj.weight")) tensors.push_back(std::move(t));
  tensors.push_back({"model.layers.1.mlp.up_proj.qweight_fp8", "F8_E4M3", {24, 16}, std::vector<std::uint8_t>(24 * 16)});
  tensors.push_back(st::make_tensor("model.layers.1.mlp.up_proj.qweight_fp8_scale", "F32", {24, 1}, std::vector<float>(24, 1.0f)));
  tensors.push_back({"e5", "F8_E5M2", {4, 4}, std::vector<std::uint8_t>(16)});
  tensors.push_back(st::make_tensor("e5_scale_inv", "F32", {1}, std::vector<float>{2.0f}));
  const md::Model m = md::Model::open(write_checkpoint(temp("layouts"), tensors, 2));
  const std::vector<md::Weight> ws = md::recognise(m);
  std::map<std::string, const md::Weight*> by;
  std::size_t listed = 0;
  for (const md::Weight& x : ws) {
    by[x.tensor->name] = &x;
    listed += 1 + x.companions.size();
  }
  EXPECT_EQ(listed, m.tensors().size());
  EXPECT_EQ(ws.size(), 21u + 2u);
  const md::Weight& q = *by.at("model.layers.0.mlp.down_proj.weight");
  EXPECT_EQ(q.format, "nf4-dq");
  EXPECT_EQ(q.layout, "blocksize 64, bfloat16 [16, 24]");
  std::vector<std::string> names;
  for (const md::TensorInfo* c : q.companions) names.push_back(c->name);
  const std::string p = "model.layers.0.mlp.down_proj.weight.";
  EXPECT_EQ(names, (std::vector<std::string>{p + "absmax", p + "nested_absmax", p + "nested_quant_map", p + "quant_map",
                                             p + "quant_state.bitsandbytes__nf4"}));
  EXPECT_EQ(by.at("model.layers.1.mlp.up_proj.qweight_fp8")->format, "fp8-e4m3");
  EXPECT_EQ(by.at("model.layers.1.mlp.up_proj.qweight_fp8")->layout, "per-channel scale");
  EXPECT_EQ(by.at("e5")->format, "fp8-e5m2");
  EXPECT_EQ(by.at("e5")->layout, "per-tensor scale");
  EXPECT_EQ(by.at("lm_head.weight")->format, "plain");
  EXPECT_EQ(by.count(p + "absmax"), 0u);
}

TEST(ModelLayouts, ABnbWeightWithoutItsAbsmaxIsAnError) {
  std::vector<float> w(64, 0.5f);
  std::vector<st::Tensor> tensors = lowbit::io::bnb::to_tensors(lowbit::io::bnb::encode(w, {1, 64}), "l.weight");
  std::erase_if(tensors, [](const st::Tensor& t) { return t.name == "l.weight.absmax"; });
  const md::Model m = md::Model::open(write_checkpoint(temp("no_absmax"), tensors));
  try {
    md::recognise(m);
    ADD_FAILURE() << "no error";
  } catch (const lowbit::Error& e) {
    EXPECT_EQ(e.code(), lowbit::Errc::data);
    EXPECT_NE(std::string(e.what()).find("tensor 'l.weight' (nf4) has no 'l.weight.absmax'"), std::string::npos) << e.what();
  }
}
