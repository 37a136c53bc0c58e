// Reading a golden set back (GoldenSet) and a vendor's outputs (read_actual). A golden folder is
// input like any other: the manifest is checked field by field, its nesting bounded, and only the
// regular files inside the folder that it lists are read, each of exactly its declared size. Every
// error is a lowbit::Error naming the file at fault (docs/conformance.md, "Golden folders").
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "lowbit/conformance/golden_io.hpp"
#include "lowbit/conformance/json_text.hpp"
#include "lowbit/conformance/sha256.hpp"
#include "lowbit/error.hpp"
#include "lowbit/io/json_depth.hpp"
#include "lowbit/io/safetensors.hpp"

namespace lowbit::conformance {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::uint64_t kMaxManifestBytes = 16u << 20;  // a quick set's manifest has a few kB
// A manifest nests 4 levels (manifest > tests > a test > its class_names); more is not one gen wrote.
constexpr int kMaxManifestDepth = 8;

[[noreturn]] void bad(const fs::path& file, const std::string& what, Errc code = Errc::data) {
  throw Error(file.string() + ": " + what, code);
}

// f(), with a lowbit::Error it throws prefixed by the file it was reading.
template <class F> auto in_file(const fs::path& file, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    bad(file, e.what(), e.code());
  }
}

// A string from the manifest as messages show it: JSON-quoted, so that no name breaks the line.
std::string shown(const std::string& s) { return json_text(json(s)); }

// A name gen gives a file: letters, digits, '_', '-' and '.', but not "." or "..".
bool plain_file_name(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

// A name or label that the report prints: no control characters (it stays one line).
bool printable(const std::string& s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

const char* kind_of(mode_t m) {
  return S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" : S_ISDIR(m) ? "a folder" : S_ISSOCK(m) ? "a socket" : "not a plain file";
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// The bytes of `name` in the golden folder `dir`: a regular file inside the folder (symbolic links
// may lead there), `size` bytes exactly (at most `size` when !exact), checked before anything is
// read; nothing past them is read. A FIFO or device is never opened (stat first; the open itself
// does not block and is checked again).
std::vector<std::uint8_t> read_member(const fs::path& dir, const std::string& name, std::uint64_t size, bool exact) {
  const fs::path p = dir / name;
  std::error_code ec;
  const fs::path root = fs::canonical(dir, ec);
  if (ec) bad(dir, "cannot open the golden folder: " + ec.message(), Errc::io);
  const fs::path real = fs::canonical(p, ec);
  if (ec) bad(p, "cannot open: " + ec.message(), Errc::io);
  if (const fs::path rel = real.lexically_relative(root); rel.empty() || *rel.begin() == "..")
    bad(p, "a symbolic link out of the golden folder (to " + real.string() + ")");
  struct stat st {};
  const auto check = [&](int status) {
    if (status != 0) bad(p, std::string("cannot open: ") + std::strerror(errno), Errc::io);
    if (!S_ISREG(st.st_mode)) bad(p, fmt::format("not a regular file ({})", kind_of(st.st_mode)));
    const auto have = static_cast<std::uint64_t>(st.st_size);
    if (exact && have != size) bad(p, fmt::format("holds {} bytes, manifest.json declares {}", have, size));
    if (!exact && have > size) bad(p, fmt::format("holds {} bytes, more than the {} a manifest may have", have, size));
  };
  check(::stat(real.c_str(), &st));
  const Fd f{::open(real.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)};
  check(f.fd < 0 ? -1 : ::fstat(f.fd, &st));
  std::vector<std::uint8_t> b(static_cast<std::size_t>(st.st_size));
  for (std::size_t done = 0; done < b.size();) {
    const ssize_t r = ::read(f.fd, b.data() + done, b.size() - done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) bad(p, r == 0 ? std::string("shrank while being read") : std::string("cannot read: ") + std::strerror(errno), Errc::io);
    done += static_cast<std::size_t>(r);
  }
  return b;
}

// The manifest's fields, each checked for its kind; `where` says which entry ("array x: ").
class Fields {
 public:
  explicit Fields(fs::path manifest) : path_(std::move(manifest)) {}
  const fs::path& path() const { return path_; }
  [[noreturn]] void fail(const std::string& what) const { bad(path_, what); }

  template <class Is> const json& need(const json& o, const std::string& where, const char* key, const char* kind, Is is) const {
    const auto it = o.find(key);
    if (it == o.end() || !is(*it)) fail(fmt::format("{}\"{}\" must be {}", where, key, kind));
    return *it;
  }
  const json& object(const json& o, const std::string& where, const char* key) const {
    return need(o, where, key, "an object", [](const json& j) { return j.is_object(); });
  }
  const json& array(const json& o, const std::string& where, const char* key) const {
    return need(o, where, key, "an array", [](const json& j) { return j.is_array(); });
  }
  std::uint64_t size(const json& o, const std::string& where, const char* key) const {
    return need(o, where, key, "a size", [](const json& j) { return j.is_number_unsigned(); }).get<std::uint64_t>();
  }
  // A string without control characters; `fallback` when the key is absent and a fallback is given.
  std::string text(const json& o, const std::string& where, const char* key, const char* fallback = nullptr) const {
    if (fallback && !o.contains(key)) return fallback;
    return need(o, where, key, "a string without control characters",
                [](const json& j) { return j.is_string() && printable(j.get_ref<const std::string&>()); })
        .get<std::string>();
  }
  std::vector<std::string> texts(const json& o, const std::string& where, const char* key) const {
    std::vector<std::string> v;
    for (const json& s : array(o, where, key)) {
      if (!s.is_string() || !printable(s.get_ref<const std::string&>()))
        fail(fmt::format("{}\"{}\" must hold strings without control characters", where, key));
      v.push_back(s.get<std::string>());
    }
    return v;
  }
  std::vector<std::uint64_t> shape(const json& o, const std::string& where) const {
    std::vector<std::uint64_t> v;
    for (const json& d : array(o, where, "shape")) {
      if (!d.is_number_unsigned()) fail(where + "\"shape\" must hold sizes");
      v.push_back(d.get<std::uint64_t>());
    }
    return v;
  }

 private:
  fs::path path_;
};

json parse_manifest(const Fields& f, const std::vector<std::uint8_t>& text) {
  const auto too_deep = [&] {
    f.fail(fmt::format("nests arrays or objects {} levels deep; a golden manifest has 4", kMaxManifestDepth));
  };
  json m;
  try {
    m = json::parse(text.begin(), text.end(), io::json_depth_limit<json>(kMaxManifestDepth, too_deep));
  } catch (const json::exception& e) {
    f.fail(fmt::format("not valid JSON: {}", e.what()));
  }
  if (!m.is_object()) f.fail("not one lowbit gen wrote: not a JSON object");
  return m;
}

io::npy::Array from_tensor(const io::safetensors::Tensor& t) { return io::npy::Array{npy_descr_of(t.dtype), t.shape, t.bytes}; }

using Files = std::map<std::string, std::vector<std::uint8_t>>;
using Arrays = std::map<std::string, io::npy::Array>;

// Every file the manifest lists, read (read_member) and checked against its SHA-256.
Files read_files(const Fields& f, const fs::path& g, const json& m) {
  Files files;
  for (const auto& [name, e] : f.object(m, "", "files").items()) {
    if (!plain_file_name(name)) f.fail(fmt::format("golden file name {} is not a plain file name", shown(name)));
    const std::string where = fmt::format("file {}: ", name);
    const std::string sha = f.text(e, where, "sha256");
    std::vector<std::uint8_t> b = read_member(g, name, f.size(e, where, "bytes"), true);
    if (sha256_hex(b) != sha) bad(g / name, "does not match its SHA-256 in manifest.json");
    files[name] = std::move(b);
  }
  return files;
}

// Every array, parsed from its file (or its tensor of golden.safetensors), of the dtype and shape the
// manifest gives it.
Arrays read_arrays(const Fields& f, const fs::path& g, const json& m, const Files& files) {
  const std::string container = f.text(m, "", "container", "npy");
  if (container != "npy" && container != "safetensors") f.fail(fmt::format("unknown container {}", shown(container)));
  std::optional<io::safetensors::File> st;
  if (container == "safetensors") {
    const auto it = files.find(std::string(kGoldenSafetensors));
    if (it == files.end()) f.fail(fmt::format("container safetensors needs the file {} listed", kGoldenSafetensors));
    st = in_file(g / kGoldenSafetensors, [&] { return io::safetensors::read(it->second); });
  }
  Arrays arrays;
  for (const auto& [name, e] : f.object(m, "", "arrays").items()) {
    if (!valid_array_name(name)) f.fail(fmt::format("array name {} is not one of [A-Za-z0-9_]+", shown(name)));
    const std::string where = fmt::format("array {}: ", name);
    const std::string file = st ? std::string(kGoldenSafetensors) : f.text(e, where, "file");
    io::npy::Array a;
    if (st) {
      const std::string& tensor = name;  // clang 14 cannot capture a structured binding
      a = in_file(g / file, [&] { return from_tensor(st->at(tensor)); });
    } else {
      const auto it = files.find(file);
      if (it == files.end()) f.fail(fmt::format("array {} is in no listed file ({})", name, shown(file)));
      a = in_file(g / file, [&] { return io::npy::parse(it->second); });
    }
    const std::string dtype = f.text(e, where, "dtype");
    const io::npy::DtypeInfo* d = io::npy::find_dtype(dtype);
    if (!d || d->descr != a.descr)
      f.fail(fmt::format("array {} has dtype {}, its file {} {}", name, d ? std::string(d->descr) : shown(dtype), file, a.descr));
    if (const std::vector<std::uint64_t> shape = f.shape(e, where); shape != a.shape)
      f.fail(fmt::format("array {} has shape [{}], its file {} [{}]", name, fmt::join(shape, ", "), file, fmt::join(a.shape, ", ")));
    arrays[name] = std::move(a);
  }
  return arrays;
}

// A test entry, its arrays present and consistent: what compare() relies on.
GoldenTest read_test(const Fields& f, const json& t, const Arrays& arrays) {
  if (!t.is_object()) f.fail("\"tests\" must hold objects");
  GoldenTest x;
  x.name = f.text(t, "a test: ", "name");
  const std::string where = fmt::format("test {}: ", x.name);
  x.operation = f.text(t, where, "operation", "");
  for (auto [key, field] : {std::pair{"inputs", &x.inputs}, {"expected", &x.expected}, {"classes", &x.classes}}) {
    *field = f.text(t, where, key);
    if (!arrays.count(*field)) f.fail(fmt::format("{}\"{}\" names no array ({})", where, key, shown(*field)));
  }
  x.class_names = f.texts(t, where, "class_names");
  x.order = f.text(t, where, "order", "sign-magnitude");
  if (std::find(std::begin(kCodeOrders), std::end(kCodeOrders), x.order) == std::end(kCodeOrders))
    f.fail(fmt::format("{}unknown order {}", where, shown(x.order)));
  x.distance_unit = f.text(t, where, "distance_unit", "codes");
  x.extra = t;
  const io::npy::Array &in = arrays.at(x.inputs), &want = arrays.at(x.expected), &cls = arrays.at(x.classes);
  if (in.size() != want.size() || cls.size() != want.size() || cls.descr != "|u1")
    f.fail(where + "its inputs, classes (|u1) and expected outputs differ in size");
  for (std::uint8_t k : cls.bytes)
    if (k >= x.class_names.size()) f.fail(fmt::format("{}class index {} of {} is out of range", where, k, x.classes));
  if (t.contains("tolerance")) {
    const auto it = arrays.find(f.text(t, where, "tolerance"));
    if (it == arrays.end() || it->second.size() != want.size() || io::npy::find_dtype(it->second.descr)->size != 4 ||
        io::npy::find_dtype(want.descr)->size != 4)
      f.fail(where + "a tolerance needs f32 outputs and one f32 bound per output");
  }
  return x;
}

}  // namespace

GoldenSet::GoldenSet(const std::string& dir) {
  const fs::path g(dir);
  const Fields f(g / "manifest.json");
  manifest_path_ = f.path().string();
  manifest_ = parse_manifest(f, read_member(g, "manifest.json", kMaxManifestBytes, false));
  for (const char* key : {"kind", "format"}) f.text(manifest_, "", key);
  for (const char* key : {"profile", "rounding"}) f.text(manifest_, "", key, "");
  arrays_ = read_arrays(f, g, manifest_, read_files(f, g, manifest_));
  for (const json& t : f.array(manifest_, "", "tests")) tests_.push_back(read_test(f, t, arrays_));
}

const io::npy::Array& GoldenSet::array(const std::string& name) const {
  const auto it = arrays_.find(name);
  if (it == arrays_.end()) bad(manifest_path_, fmt::format("no array {}", shown(name)));
  return it->second;
}

std::map<std::string, io::npy::Array> read_actual(const std::string& path) {
  std::map<std::string, io::npy::Array> out;
  const fs::path p(path);
  if (fs::is_directory(p)) {
    for (const auto& e : fs::directory_iterator(p))
      if (e.is_regular_file() && e.path().extension() == ".npy") out[e.path().stem().string()] = io::npy::read(e.path().string());
    if (out.empty()) throw Error("actual directory " + path + " holds no .npy files");
  } else if (p.extension() == ".safetensors") {
    const io::safetensors::File f = in_file(p, [&] { return io::safetensors::read(io::npy::read_bytes(path)); });
    for (const io::safetensors::Tensor& t : f.tensors) out[t.name] = in_file(p, [&] { return from_tensor(t); });
    if (out.empty()) throw Error("actual file " + path + " holds no tensors");
  } else {
    out[""] = io::npy::read(path);
  }
  return out;
}

}  // namespace lowbit::conformance
