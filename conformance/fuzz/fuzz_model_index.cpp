// lowbit::io::model::Model::open of a checkpoint folder, then recognise(). The input is split at each
// kSeparator line into the folder's files: with one part, model.safetensors; with more, the index JSON
// (model.safetensors.index.json) and the shards model-00001-of-00002.safetensors and -00002- (a third
// separator and what follows stay in the second shard). Each shard is a raw .safetensors file or the
// brace form of fuzz::safetensors_input. The files are written into one temporary folder of this
// process, reused (and emptied of the other layout's files) for every input. What open() accepts must
// hold together: every tensor's bytes lie in its shard and read back as load() copies them, release()
// leaves them readable, and every weight recognise() returns names tensors of the model.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz.hpp"
#include "lowbit/io/files.hpp"
#include "lowbit/io/model.hpp"
#include "lowbit/io/model_layouts.hpp"

namespace fs = std::filesystem;
namespace model = lowbit::io::model;

namespace {

constexpr std::string_view kSeparator = "\n--lowbit-fuzz-file--\n";
const char* const kShards[2] = {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"};

void put(const fs::path& file, std::span<const std::uint8_t> bytes) { lowbit::io::write_file(file.string(), bytes); }

void drop(const fs::path& file) {
  std::error_code ec;
  fs::remove(file, ec);
}

// The input's parts between separators, at most three.
std::vector<std::span<const std::uint8_t>> parts(const std::uint8_t* data, std::size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  std::vector<std::span<const std::uint8_t>> out;
  std::size_t start = 0;
  while (out.size() < 2) {
    const std::size_t at = all.find(kSeparator, start);
    if (at == std::string_view::npos) break;
    out.push_back({data + start, at - start});
    start = at + kSeparator.size();
  }
  out.push_back({data + start, size - start});
  return out;
}

void check(const model::Model& m) {
  std::uint64_t total = 0;
  for (const model::TensorInfo& t : m.tensors()) {
    LOWBIT_FUZZ_CHECK(t.shard < m.shards().size());
    LOWBIT_FUZZ_CHECK(t.offset <= m.shards()[t.shard].size && t.bytes <= m.shards()[t.shard].size - t.offset);
    LOWBIT_FUZZ_CHECK(t.bytes == lowbit::io::safetensors::byte_size(t.dtype, t.shape));
    LOWBIT_FUZZ_CHECK(m.find(t.name) == &t);
    const std::span<const std::uint8_t> bytes = m.bytes(t);
    LOWBIT_FUZZ_CHECK(bytes.size() == t.bytes);
    const lowbit::io::safetensors::Tensor copy = m.load(t);
    LOWBIT_FUZZ_CHECK(copy.name == t.name && copy.dtype == t.dtype && copy.shape == t.shape);
    LOWBIT_FUZZ_CHECK(lowbit::fuzz::same_bits(std::span<const std::uint8_t>(copy.bytes), bytes));
    m.release(t);
    LOWBIT_FUZZ_CHECK(lowbit::fuzz::same_bits(std::span<const std::uint8_t>(copy.bytes), m.bytes(t)));
    total += t.bytes;
  }
  LOWBIT_FUZZ_CHECK(total == m.total_bytes());
  std::vector<model::Weight> weights;
  if (!lowbit::fuzz::accepted([&] { weights = model::recognise(m); })) return;
  for (const model::Weight& w : weights) {
    LOWBIT_FUZZ_CHECK(m.find(w.tensor->name) == w.tensor && !w.format.empty());
    for (const model::TensorInfo* c : w.companions) LOWBIT_FUZZ_CHECK(m.find(c->name) == c && c != w.tensor);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path dir = lowbit::fuzz::temp_folder("lowbit-fuzz-model-");
  const auto file = [](std::span<const std::uint8_t> p) { return lowbit::fuzz::safetensors_input(p.data(), p.size()); };
  const std::vector<std::span<const std::uint8_t>> p = parts(data, size);
  if (p.size() == 1) {
    put(dir / model::kSingleFile, file(p[0]));
    drop(dir / model::kIndexFile);
    for (const char* shard : kShards) drop(dir / shard);
  } else {
    drop(dir / model::kSingleFile);
    put(dir / model::kIndexFile, p[0]);
    put(dir / kShards[0], file(p[1]));
    if (p.size() == 3) put(dir / kShards[1], file(p[2]));
    else drop(dir / kShards[1]);
  }
  std::optional<model::Model> m;
  if (lowbit::fuzz::accepted([&] { m.emplace(model::Model::open(dir.string())); })) check(*m);
  return 0;
}
