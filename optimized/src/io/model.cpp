#include "lowbit/io/model.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "json_excerpt.hpp"
#include "lowbit/error.hpp"
#include "lowbit/io/files.hpp"
#include "strict_json.hpp"

namespace lowbit::io::model {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void fail(const std::string& file, const std::string& what) { throw Error(file + ": " + what, Errc::data); }

// An index is {"metadata": {...}, "weight_map": {tensor: shard}}: two levels of objects.
constexpr int kIndexDepth = 3;

// An open file descriptor, closed on every path out.
struct Fd {
  int fd;
  explicit Fd(const std::string& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd < 0) throw Error(fmt::format("cannot open {}: {}", path, std::strerror(errno)), Errc::io);
  }
  ~Fd() { ::close(fd); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

// Exactly n bytes at `offset` (the caller checked that the file holds them).
std::vector<std::uint8_t> read_at(const Fd& f, const std::string& path, std::uint64_t offset, std::uint64_t n) {
  std::vector<std::uint8_t> out(n);
  for (std::uint64_t done = 0; done < n;) {
    const ssize_t got = ::pread(f.fd, out.data() + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) throw Error(fmt::format("cannot read {}: {}", path, got < 0 ? std::strerror(errno) : "file shrank"), Errc::io);
    done += static_cast<std::uint64_t>(got);
  }
  return out;
}

}  // namespace

// A shard's read-only mapping of the whole file.
struct Model::Mapping {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;

  Mapping(const Fd& f, const std::string& path, std::uint64_t n) : size(n) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, f.fd, 0);
    if (p == MAP_FAILED) throw Error(fmt::format("cannot map {}: {}", path, std::strerror(errno)), Errc::io);
    data = static_cast<const std::uint8_t*>(p);
  }
  Mapping(Mapping&& o) noexcept : data(std::exchange(o.data, nullptr)), size(std::exchange(o.size, 0)) {}
  Mapping& operator=(Mapping&& o) noexcept {
    std::swap(data, o.data);
    std::swap(size, o.size);
    return *this;
  }
  ~Mapping() {
    if (data) ::munmap(const_cast<std::uint8_t*>(data), size);
  }
};

Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Model Model::open(const std::string& path) {
  Model m;
  m.path_ = path;
  std::error_code ec;
  const bool is_folder = fs::is_directory(path, ec);
  std::vector<std::string> files;  // the shards, in order
  std::map<std::string, std::string> placed;  // tensor -> shard file name (index only)
  std::string index_path;
  std::set<std::string> found;  // the index's tensors seen in their shards
  if (is_folder) {
    m.folder_ = path;
    const fs::path single = fs::path(path) / kSingleFile, index = fs::path(path) / kIndexFile;
    const bool has_single = fs::exists(single, ec), has_index = fs::exists(index, ec);
    if (has_single == has_index)
      fail(path, has_single ? fmt::format("holds both {} and {}: which one is the model is unclear", kSingleFile, kIndexFile)
                            : fmt::format("holds neither {} nor {}", kSingleFile, kIndexFile));
    if (has_single) {
      files.push_back(single.string());
    } else {
      index_path = index.string();
      const std::vector<std::uint8_t> text = read_file(index_path);
      if (text.size() > safetensors::kMaxHeader) fail(index_path, fmt::format("has {} bytes, above the limit of {}", text.size(), safetensors::kMaxHeader));
      const auto bad = [&](const std::string& what) { fail(index_path, what); };
      const nlohmann::json j =
          parse_strict_json(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()), "index", kIndexDepth, bad);
      if (!j.is_object()) bad(fmt::format("must be a JSON object, not {}", j.type_name()));
      for (const auto& [key, v] : j.items()) {
        if (key == "metadata") {
          if (!v.is_object()) bad(fmt::format("\"metadata\" must be an object, not {}", v.type_name()));
        } else if (key != "weight_map") {
          bad(fmt::format("unknown key '{}' (an index has \"metadata\" and \"weight_map\")", key));
        }
      }
      if (!j.contains("weight_map")) bad("has no \"weight_map\"");
      const nlohmann::json& map = j["weight_map"];
      if (!map.is_object()) bad(fmt::format("\"weight_map\" must be an object, not {}", map.type_name()));
      for (const auto& [tensor, v] : map.items()) {
        if (!v.is_string()) bad(fmt::format("tensor '{}': shard must be a file name, not {}", tensor, json_excerpt(v)));
        const std::string file = v.get<std::string>();
        if (file.empty() || file == "." || file == ".." || file.find('/') != std::string::npos)
          bad(fmt::format("tensor '{}': shard '{}' is not a file name in the model's folder", tensor, file));
        placed[tensor] = file;
        const std::string shard_path = (fs::path(path) / file).string();
        if (std::find(files.begin(), files.end(), shard_path) == files.end()) {
          if (!fs::is_regular_file(shard_path, ec)) bad(fmt::format("tensor '{}': shard '{}' does not exist", tensor, file));
          files.push_back(shard_path);
        }
      }
      std::sort(files.begin(), files.end());
    }
  } else {
    files.push_back(path);
  }

  for (const std::string& file : files) {
    const Fd f(file);
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) throw Error(fmt::format("cannot stat {}: {}", file, std::strerror(errno)), Errc::io);
    if (!S_ISREG(st.st_mode)) fail(file, "is not a regular file");
    const auto size = static_cast<std::uint64_t>(st.st_size);
    safetensors::Header header;
    std::uint64_t n;
    try {
      n = safetensors::header_length(read_at(f, file, 0, std::min<std::uint64_t>(size, 8)), size);
      header = safetensors::parse_header(read_at(f, file, 8, n), size - 8 - n);
    } catch (const Error& e) {
      if (e.code() != Errc::data) throw;
      fail(file, e.what());
    }
    const std::size_t shard = m.shards_.size();
    m.maps_.emplace_back(f, file, size);
    m.shards_.push_back({file, size, std::move(header.metadata)});
    const std::string name = fs::path(file).filename().string();
    for (safetensors::Entry& e : header.entries) {
      if (!index_path.empty()) {
        const auto it = placed.find(e.name);
        if (it == placed.end()) fail(file, fmt::format("tensor '{}' is not in the index {}", e.name, kIndexFile));
        if (it->second != name)
          fail(file, fmt::format("tensor '{}' is placed in shard '{}' by the index {}", e.name, it->second, kIndexFile));
        found.insert(e.name);
      }
      m.tensors_.push_back({std::move(e.name), std::move(e.dtype), std::move(e.shape), e.end - e.begin, shard, 8 + n + e.begin});
    }
  }
  for (const auto& [tensor, shard] : placed)
    if (!found.count(tensor)) fail(index_path, fmt::format("tensor '{}' is not in its shard '{}'", tensor, shard));
  std::sort(m.tensors_.begin(), m.tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) { return a.name < b.name; });
  return m;
}

std::uint64_t Model::total_bytes() const {
  std::uint64_t sum = 0;
  for (const TensorInfo& t : tensors_) sum += t.bytes;
  return sum;
}

const TensorInfo* Model::find(std::string_view name) const {
  const auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                                   [](const TensorInfo& t, std::string_view n) { return t.name < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

const TensorInfo& Model::at(std::string_view name) const {
  if (const TensorInfo* t = find(name)) return *t;
  fail(path_, fmt::format("no tensor named '{}'", name));
}

std::span<const std::uint8_t> Model::bytes(const TensorInfo& t) const {
  return {maps_.at(t.shard).data + t.offset, static_cast<std::size_t>(t.bytes)};
}

safetensors::Tensor Model::load(const TensorInfo& t) const {
  const std::span<const std::uint8_t> b = bytes(t);
  return {t.name, t.dtype, t.shape, std::vector<std::uint8_t>(b.begin(), b.end())};
}

void Model::release(const TensorInfo& t) const {
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<std::uintptr_t>(maps_.at(t.shard).data + t.offset);
  const std::uintptr_t first = (begin + page - 1) / page * page, last = (begin + t.bytes) / page * page;
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace lowbit::io::model
