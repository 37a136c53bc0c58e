#include "stream.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lowbit/io/npy.hpp"

namespace lowbit::cli {
namespace {

bool is_npy(const std::string& path) { return path.size() > 4 && path.ends_with(".npy"); }

}  // namespace

InputStream::InputStream(const std::string& path, std::size_t element_size)
    : f_(stdin), owned_(false), name_("standard input"), element_size_(element_size) {
  if (!path.empty() && path != "-") {
    f_ = std::fopen(path.c_str(), "rb");
    if (!f_) throw UsageError(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
    owned_ = true;
    name_ = fmt::format("'{}'", path);
  }
  if (!is_npy(path)) return;
  try {
    io::npy::Array a = io::npy::read(path);
    const unsigned size = io::npy::find_dtype(a.descr)->size;
    if (size != element_size_)
      throw UsageError(fmt::format("{} holds {} ({}-byte elements), expected {}-byte elements", name_, a.descr, size,
                                   element_size_));
    npy_data_ = std::move(a.bytes);
    npy_ = true;
  } catch (const UsageError&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw UsageError(e.what());
  }
}

InputStream::~InputStream() {
  if (owned_) std::fclose(f_);
}

std::size_t InputStream::read(std::vector<std::uint8_t>& buf, std::size_t max_elements) {
  buf.resize(max_elements * element_size_);
  if (npy_) {
    const std::size_t got = std::min(buf.size(), npy_data_.size() - npy_pos_);
    std::memcpy(buf.data(), npy_data_.data() + npy_pos_, got);
    npy_pos_ += got;
    buf.resize(got);
    return got / element_size_;
  }
  std::size_t got = 0;
  while (got < buf.size()) {
    const std::size_t n = std::fread(buf.data() + got, 1, buf.size() - got, f_);
    if (n == 0) break;
    got += n;
  }
  if (std::ferror(f_)) throw UsageError(fmt::format("error reading {}: {}", name_, std::strerror(errno)));
  total_ += got;
  if (got % element_size_)
    throw UsageError(fmt::format("{} has {} bytes, not a multiple of the {}-byte element size",
                                 name_, total_, element_size_));
  buf.resize(got);
  return got / element_size_;
}

OutputStream::OutputStream(const std::string& path, std::string_view npy_descr) : f_(stdout) {
  if (path.empty() || path == "-") return;
  if (is_npy(path)) {
    if (npy_descr.empty())
      throw UsageError(fmt::format("cannot write '{}': this command's output is a file format of its own, not an array", path));
    npy_descr_ = npy_descr;
  }
  final_ = path;
  temp_ = final_;
  temp_ += fmt::format(".tmp.{}", ::getpid());
  f_ = std::fopen(temp_.c_str(), "wb");
  if (!f_) throw UsageError(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
}

OutputStream::~OutputStream() {
  if (temp_.empty() || committed_) return;
  std::fclose(f_);
  std::error_code ec;
  std::filesystem::remove(temp_, ec);
}

void OutputStream::write(std::span<const std::uint8_t> bytes) {
  if (!npy_descr_.empty()) {
    npy_data_.insert(npy_data_.end(), bytes.begin(), bytes.end());
    return;
  }
  if (std::fwrite(bytes.data(), 1, bytes.size(), f_) != bytes.size())
    throw UsageError(fmt::format("write failed: {}", std::strerror(errno)));
}

void OutputStream::commit() {
  if (!npy_descr_.empty()) {
    const unsigned size = io::npy::find_dtype(npy_descr_)->size;
    const std::vector<std::uint8_t> file = io::npy::serialize(
        {npy_descr_, {npy_data_.size() / size}, std::move(npy_data_)});
    npy_descr_.clear();
    write(file);
  }
  if (std::fflush(f_) != 0) throw UsageError(fmt::format("write failed: {}", std::strerror(errno)));
  if (temp_.empty()) return;
  if (std::fclose(f_) != 0) throw UsageError(fmt::format("write failed: {}", std::strerror(errno)));
  committed_ = true;
  std::error_code ec;
  std::filesystem::rename(temp_, final_, ec);
  if (ec) {
    std::filesystem::remove(temp_, ec);
    throw UsageError(fmt::format("cannot create '{}': {}", final_.string(), ec.message()));
  }
}

std::vector<std::uint8_t> read_all(const std::string& path) {
  InputStream in(path, 1);
  std::vector<std::uint8_t> buf, all;
  while (in.read(buf, 1 << 20)) all.insert(all.end(), buf.begin(), buf.end());
  return all;
}

template <class T> std::vector<T> read_words(const std::string& path, const std::string& what) {
  const std::vector<std::uint8_t> bytes = read_all(path);
  if (bytes.size() % sizeof(T))
    throw UsageError(fmt::format("{} has {} bytes, not a multiple of {}", what, bytes.size(), sizeof(T)));
  std::vector<T> v(bytes.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}
template std::vector<float> read_words(const std::string&, const std::string&);
template std::vector<std::int32_t> read_words(const std::string&, const std::string&);

}  // namespace lowbit::cli
