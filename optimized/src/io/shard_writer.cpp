#include "shard_writer.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "lowbit/error.hpp"

namespace lowbit::io::model {
namespace {

[[noreturn]] void io_fail(const std::string& path, const char* what) {
  throw Error(fmt::format("{}: {}: {}", path, what, std::strerror(errno)), Errc::io);
}

void write_all(int fd, std::span<const std::uint8_t> bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) io_fail(path, "write failed");
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
}

// Appends `size` bytes of `from` (from offset 0) to `to`: in the kernel where it can, else by a buffer.
void copy_data(int from, int to, std::uint64_t size, const std::string& path) {
  loff_t in = 0;
  while (size > 0) {
    const ssize_t n = ::copy_file_range(from, &in, to, nullptr, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n > 0) {
      size -= static_cast<std::uint64_t>(n);
      continue;
    }
    if (n < 0 && errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) io_fail(path, "copy failed");
    std::vector<std::uint8_t> buf(1 << 20);  // a file system without copy_file_range
    while (size > 0) {
      const ssize_t r = ::pread(from, buf.data(), std::min<std::uint64_t>(size, buf.size()), in);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) io_fail(path, "read of the shard's data failed");
      write_all(to, std::span(buf).first(static_cast<std::size_t>(r)), path);
      in += r;
      size -= static_cast<std::uint64_t>(r);
    }
  }
}

std::string shard_file(std::size_t i, std::size_t n) {
  return n == 1 ? "model.safetensors" : fmt::format("model-{:05}-of-{:05}.safetensors", i + 1, n);
}
std::string part_file(const std::string& folder, std::size_t i) { return fmt::format("{}/shard-{}.part", folder, i); }

}  // namespace

ShardWriter::ShardWriter(std::string folder, std::uint64_t shard_size, safetensors::Metadata metadata)
    : folder_(std::move(folder)), shard_size_(shard_size), metadata_(std::move(metadata)) {
  if (shard_size_ == 0) throw Error("the shard size must be at least 1 byte", Errc::invalid);
}

ShardWriter::~ShardWriter() {
  if (data_fd_ >= 0) {  // an unfinished shard
    ::close(data_fd_);
    ::unlink(data_path_.c_str());
  }
}

void ShardWriter::add(std::span<const Item> group) {
  std::uint64_t bytes = 0;
  for (const Item& t : group) bytes += t.bytes.size();
  if (data_fd_ >= 0 && !entries_.empty() && used_ + bytes > shard_size_) close_shard();
  if (data_fd_ < 0) {
    data_path_ = part_file(folder_, closed_.size());
    data_fd_ = ::open(data_path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (data_fd_ < 0) io_fail(data_path_, "cannot create");
  }
  for (const Item& t : group) {
    entries_.push_back({t.name, t.dtype, t.shape, used_, used_ + t.bytes.size()});
    write_all(data_fd_, t.bytes, data_path_);
    used_ += t.bytes.size();
    total_ += t.bytes.size();
  }
}

// The data was written from offset 0 of the shard file; the header goes in front of it. On a file
// system that can insert blocks into a file (ext4, XFS: FALLOC_FL_INSERT_RANGE) nothing is copied;
// elsewhere the data is copied behind the header into a new file, in the kernel. The header is
// padded with spaces to a multiple of kHeaderAlign either way, so the bytes do not depend on the file
// system.
void ShardWriter::close_shard() {
  const std::string part = part_file(folder_, closed_.size());
  std::vector<std::uint8_t> header = safetensors::write_header(entries_, metadata_);
  header.resize((header.size() + kHeaderAlign - 1) / kHeaderAlign * kHeaderAlign, ' ');
  const std::uint64_t json = header.size() - 8;
  for (int b = 0; b < 8; ++b) header[b] = static_cast<std::uint8_t>(json >> (8 * b));
  if (data_fd_ < 0) {  // a model without tensors
    data_fd_ = ::open(part.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (data_fd_ < 0) io_fail(part, "cannot create");
  }
  if (used_ > 0 && ::fallocate(data_fd_, FALLOC_FL_INSERT_RANGE, 0, static_cast<off_t>(header.size())) == 0) {
    if (::pwrite(data_fd_, header.data(), header.size(), 0) != static_cast<ssize_t>(header.size())) io_fail(part, "write failed");
  } else if (used_ == 0) {
    write_all(data_fd_, header, part);
  } else {
    const std::string copy = part + ".copy";
    const int fd = ::open(copy.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) io_fail(copy, "cannot create");
    try {
      write_all(fd, header, copy);
      copy_data(data_fd_, fd, used_, copy);
    } catch (...) {
      ::close(fd);
      ::unlink(copy.c_str());
      throw;
    }
    if (::close(fd) != 0 || std::rename(copy.c_str(), part.c_str()) != 0) io_fail(copy, "write failed");
  }
  if (::close(data_fd_) != 0) io_fail(part, "write failed");
  data_fd_ = -1;
  std::vector<std::string> names;
  for (const safetensors::Entry& e : entries_) names.push_back(e.name);
  closed_.push_back(std::move(names));
  entries_.clear();
  used_ = 0;
}

void ShardWriter::finish() {
  if (data_fd_ >= 0 || closed_.empty()) close_shard();  // a model without tensors still gets its file
  const std::size_t n = closed_.size();
  nlohmann::json map = nlohmann::json::object();
  for (std::size_t i = 0; i < n; ++i) {
    const std::string name = shard_file(i, n), path = folder_ + "/" + name;
    if (std::rename(part_file(folder_, i).c_str(), path.c_str()) != 0) io_fail(path, "cannot rename");
    for (const std::string& t : closed_[i]) map[t] = name;
  }
  if (n == 1) return;
  const nlohmann::json index = {{"metadata", {{"total_size", total_}}}, {"weight_map", map}};
  const std::string text = index.dump(2) + "\n", path = folder_ + "/model.safetensors.index.json";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) io_fail(path, "cannot create");
  write_all(fd, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), path);
  if (::close(fd) != 0) io_fail(path, "write failed");
}

}  // namespace lowbit::io::model
