// Whole Hugging Face checkpoints, read without reading their tensors. MODEL is one of
//   - a .safetensors file;
//   - a folder holding model.safetensors;
//   - a folder holding model.safetensors.index.json, {"metadata": {...}, "weight_map": {tensor: shard}},
//     and the shards it names (plain file names in that folder).
// open() reads only each shard's 8-byte header length and JSON header (validated as
// safetensors::read validates a whole file) and maps each shard read-only (POSIX mmap): a
// tensor's bytes are read from disk when the caller touches them, so memory stays bounded by what
// the caller touches (release() gives a tensor's pages back). Every malformed input is one
// lowbit::Error, Errc::data, naming the file (and the tensor): a shard safetensors::read would
// refuse; a folder with neither or both of model.safetensors and the index; an index that is not
// the JSON above; an index naming a missing shard, or a shard that does not hold a tensor the index
// places there; a tensor in a shard that the index does not list or places in another shard. A path
// that cannot be opened is Errc::io. A Model is safe to read from several threads.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lowbit/io/safetensors.hpp"

namespace lowbit::io::model {

inline constexpr std::string_view kSingleFile = "model.safetensors";
inline constexpr std::string_view kIndexFile = "model.safetensors.index.json";

struct TensorInfo {
  std::string name;
  std::string dtype;  // a safetensors dtype name
  std::vector<std::uint64_t> shape;
  std::uint64_t bytes;   // == safetensors::byte_size(dtype, shape)
  std::size_t shard;     // index into Model::shards()
  std::uint64_t offset;  // of the first byte in the shard file
};

struct Shard {
  std::string path;
  std::uint64_t size;              // bytes of the file
  safetensors::Metadata metadata;  // its "__metadata__"
};

class Model {
 public:
  // Throws as the header comment says.
  static Model open(const std::string& path);

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  const std::string& path() const { return path_; }  // as given to open()
  // The folder of a folder MODEL (config.json and the rest live there); empty for a file.
  const std::string& folder() const { return folder_; }
  const std::vector<Shard>& shards() const { return shards_; }
  // Every tensor of every shard, sorted by name.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  std::uint64_t total_bytes() const;  // the sum of the tensors' bytes

  const TensorInfo* find(std::string_view name) const;  // nullptr when there is none
  const TensorInfo& at(std::string_view name) const;    // Errc::data naming the model when there is none

  // The tensor's bytes in the shard's read-only mapping (valid while the Model lives).
  std::span<const std::uint8_t> bytes(const TensorInfo& t) const;
  // A copy, as safetensors::read gives it.
  safetensors::Tensor load(const TensorInfo& t) const;
  // Drops the tensor's pages from this process's memory (whole pages inside it; the bytes stay
  // readable and come back from disk when touched again).
  void release(const TensorInfo& t) const;

 private:
  struct Mapping;
  Model() = default;

  std::string path_, folder_;
  std::vector<Shard> shards_;
  std::vector<Mapping> maps_;  // one per shard
  std::vector<TensorInfo> tensors_;
};

}  // namespace lowbit::io::model
