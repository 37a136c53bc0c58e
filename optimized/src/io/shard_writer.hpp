// The output side of convert() and dequantize(): tensors appended in order into shards of at most
// `shard_size` bytes of data. A shard's data is streamed into its file; when the shard is complete
// its header is inserted in front (see close_shard), so no shard is ever held in memory. Headers are
// padded with spaces to a multiple of kHeaderAlign bytes (JSON whitespace, as safetensors pads to 8). A group of tensors (a weight and its
// companions) stays in one shard; a group larger than shard_size gets a shard of its own.
// finish() names the shards as transformers does (model.safetensors for one; else
// model-0000i-of-0000n.safetensors and model.safetensors.index.json).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lowbit/io/safetensors.hpp"

namespace lowbit::io::model {

class ShardWriter {
 public:
  static constexpr std::size_t kHeaderAlign = 4096;  // a file system block: what FALLOC_FL_INSERT_RANGE inserts

  struct Item {
    std::string name, dtype;
    std::vector<std::uint64_t> shape;
    std::span<const std::uint8_t> bytes;
  };

  ShardWriter(std::string folder, std::uint64_t shard_size, safetensors::Metadata metadata);
  ~ShardWriter();  // removes the temporary data file of an unfinished shard
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  void add(std::span<const Item> group);
  void finish();

 private:
  void close_shard();

  std::string folder_;
  std::uint64_t shard_size_;
  safetensors::Metadata metadata_;
  int data_fd_ = -1;
  std::string data_path_;
  std::vector<safetensors::Entry> entries_;  // of the open shard
  std::uint64_t used_ = 0;                   // data bytes of the open shard
  std::vector<std::vector<std::string>> closed_;  // tensor names per closed shard
  std::uint64_t total_ = 0;
};

}  // namespace lowbit::io::model
