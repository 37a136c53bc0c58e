#include "lowbit/conformance/golden_io.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "lowbit/io/safetensors.hpp"
#include "lowbit/conformance/sha256.hpp"

namespace lowbit::conformance {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::pair<std::string_view, std::string_view> kDtypeMap[] = {
    {"U8", "|u1"},  {"I8", "|i1"},  {"U16", "<u2"}, {"I16", "<i2"}, {"F16", "<f2"},
    {"U32", "<u4"}, {"I32", "<i4"}, {"F32", "<f4"}, {"F64", "<f8"},
};

bool valid_name(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

// An older golden set, which gen may replace: manifest.json and the regular files it lists, nothing else
// (no link, no folder, no file of the user's).
bool older_golden_set(const fs::path& dir) {
  try {
    std::ifstream in(dir / "manifest.json");
    const json m = json::parse(in);
    for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (!e.is_regular_file() || e.is_symlink() || (name != "manifest.json" && !m.at("files").contains(name))) return false;
    }
    return m.contains("lowbit_version");
  } catch (const std::exception&) {
    return false;
  }
}

io::npy::Array from_tensor(const io::safetensors::Tensor& t) {
  return io::npy::Array{npy_descr_of(t.dtype), t.shape, t.bytes};
}

}  // namespace

std::optional<Container> parse_container(std::string_view s) {
  if (s == "npy") return Container::npy;
  if (s == "safetensors") return Container::safetensors;
  return std::nullopt;
}

std::string npy_descr_of(std::string_view dtype) {
  for (const auto& [st, d] : kDtypeMap)
    if (st == dtype) return std::string(d);
  throw std::runtime_error(fmt::format("safetensors dtype {} is not one golden sets use", dtype));
}

std::string safetensors_dtype_of(std::string_view descr) {
  const io::npy::DtypeInfo* info = io::npy::find_dtype(descr);
  for (const auto& [st, d] : kDtypeMap)
    if (info && d == info->descr) return std::string(st);
  throw std::runtime_error(fmt::format("npy dtype {} has no safetensors dtype here", descr));
}

GoldenWriter::GoldenWriter(std::string dir, Container container) : dir_(dir, older_golden_set), container_(container) {}

void GoldenWriter::put(const std::string& name, io::npy::Array a, std::string meaning) {
  if (!valid_name(name) || meaning_.count(name)) throw std::logic_error("golden array name '" + name + "' bad or repeated");
  meaning_[name] = std::move(meaning);
  arrays_.emplace_back(name, std::move(a));
}

void GoldenWriter::test(GoldenTest t) {
  for (const std::string* a : {&t.inputs, &t.expected, &t.classes})
    if (!meaning_.count(*a)) throw std::logic_error("golden test " + t.name + " names no array '" + *a + "'");
  tests_.push_back(std::move(t));
}

GenSummary GoldenWriter::write(json m) {
  GenSummary s;
  json files = json::object(), arrays = json::object(), tests = json::array();
  auto find = [&](const std::string& name) -> const io::npy::Array& {
    for (const auto& [n, a] : arrays_)
      if (n == name) return a;
    throw std::logic_error("no golden array " + name);
  };
  auto save = [&](const std::string& file, const std::vector<std::uint8_t>& bytes) {
    dir_.write(file, bytes);
    s.sha256[file] = sha256_hex(bytes);
    files[file] = {{"sha256", s.sha256[file]}, {"bytes", bytes.size()}};
  };
  std::vector<io::safetensors::Tensor> tensors;
  for (const auto& [name, a] : arrays_) {
    arrays[name] = {{"dtype", a.descr}, {"shape", a.shape}, {"meaning", meaning_[name]}};
    if (container_ == Container::npy) {
      arrays[name]["file"] = name + ".npy";
      save(name + ".npy", io::npy::serialize(a));
    } else {
      arrays[name]["file"] = std::string(kGoldenSafetensors);
      tensors.push_back({name, safetensors_dtype_of(a.descr), a.shape, a.bytes});
    }
  }
  if (container_ == Container::safetensors) save(std::string(kGoldenSafetensors), io::safetensors::write(tensors));
  for (const GoldenTest& t : tests_) {
    const io::npy::Array& cls = find(t.classes);
    json counts = json::object();
    std::vector<std::uint64_t> c(t.class_names.size());
    for (std::uint8_t k : cls.bytes)
      if (k < c.size()) ++c[k];
    for (std::size_t k = 0; k < c.size(); ++k) counts[t.class_names[k]] = c[k];
    if (tests.empty()) {
      s.cases = cls.size();
      for (std::size_t k = 0; k < c.size(); ++k) s.counts[t.class_names[k]] = c[k];
    }
    json e = {{"name", t.name},         {"operation", t.operation}, {"inputs", t.inputs},
              {"expected", t.expected}, {"classes", t.classes},     {"class_names", t.class_names},
              {"order", t.order},       {"distance_unit", t.distance_unit}, {"count", find(t.expected).size()},
              {"counts", counts}};
    e.update(t.extra);
    tests.push_back(e);
  }
  m["lowbit_version"] = kLowbitVersion;
  m["container"] = container_ == Container::npy ? "npy" : "safetensors";
  m["tests"] = tests;
  m["arrays"] = arrays;
  m["files"] = files;
  const std::string text = m.dump(2) + '\n';
  dir_.write("manifest.json", {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  dir_.commit();
  return s;
}

GoldenSet::GoldenSet(const std::string& dir) {
  const fs::path g(dir), mp = g / "manifest.json";
  try {
    std::ifstream in(mp);
    if (!in) throw std::runtime_error("cannot open " + mp.string());
    manifest_ = json::parse(in);
    if (!manifest_.is_object() || !manifest_.contains("kind") || !manifest_.contains("arrays"))
      throw std::runtime_error(mp.string() + " is not one lowbit gen wrote");
    std::map<std::string, std::vector<std::uint8_t>> files;
    for (auto& [name, f] : manifest_.at("files").items()) {
      if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos || name == "..")
        throw std::runtime_error("golden file name '" + name + "' is not a plain name");
      std::vector<std::uint8_t> b = io::npy::read_bytes((g / name).string());
      if (sha256_hex(b) != f.at("sha256").get<std::string>())
        throw std::runtime_error(fmt::format("golden file {} does not match its SHA-256 in manifest.json", name));
      files[name] = std::move(b);
    }
    const bool st = manifest_.value("container", "npy") == "safetensors";
    std::optional<io::safetensors::File> container;
    if (st) {
      const auto it = files.find(std::string(kGoldenSafetensors));
      if (it == files.end()) throw std::runtime_error("golden set has no golden.safetensors");
      container = io::safetensors::read(it->second);
    }
    for (auto& [name, a] : manifest_.at("arrays").items()) {
      if (st) {
        arrays_[name] = from_tensor(container->at(name));
      } else {
        const auto it = files.find(a.at("file").get<std::string>());
        if (it == files.end()) throw std::runtime_error("golden array " + name + " is in no listed file");
        arrays_[name] = io::npy::parse(it->second);
      }
    }
  } catch (const json::exception& e) {
    throw std::runtime_error(mp.string() + ": " + e.what());
  }
}

const io::npy::Array& GoldenSet::array(const std::string& name) const {
  const auto it = arrays_.find(name);
  if (it == arrays_.end()) throw std::runtime_error("golden set has no array '" + name + "'");
  return it->second;
}

std::vector<GoldenTest> GoldenSet::tests() const {
  std::vector<GoldenTest> v;
  try {
    for (const json& t : manifest_.at("tests")) {
      GoldenTest g;
      g.name = t.at("name").get<std::string>();
      g.operation = t.value("operation", "");
      g.inputs = t.at("inputs").get<std::string>();
      g.expected = t.at("expected").get<std::string>();
      g.classes = t.at("classes").get<std::string>();
      g.class_names = t.at("class_names").get<std::vector<std::string>>();
      g.order = t.value("order", "sign-magnitude");
      g.distance_unit = t.value("distance_unit", "codes");
      g.extra = t;
      v.push_back(std::move(g));
    }
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("golden manifest.json tests: ") + e.what());
  }
  return v;
}

std::map<std::string, io::npy::Array> read_actual(const std::string& path) {
  std::map<std::string, io::npy::Array> out;
  const fs::path p(path);
  if (fs::is_directory(p)) {
    for (const auto& e : fs::directory_iterator(p))
      if (e.is_regular_file() && e.path().extension() == ".npy") out[e.path().stem().string()] = io::npy::read(e.path().string());
    if (out.empty()) throw std::runtime_error("actual directory " + path + " holds no .npy files");
  } else if (p.extension() == ".safetensors") {
    const io::safetensors::File f = io::safetensors::read(io::npy::read_bytes(path));
    for (const io::safetensors::Tensor& t : f.tensors) out[t.name] = from_tensor(t);
    if (out.empty()) throw std::runtime_error("actual file " + path + " holds no tensors");
  } else {
    out[""] = io::npy::read(path);
  }
  return out;
}

void check_gen_level(Level level) {
  if (level == Level::full)
    throw std::runtime_error("level full is not a golden set: the exhaustive inputs (all 2^32 f32 per 8-bit format) are "
                             "checked in process by `lowbit conform --level full`; golden sets are boundary or quick");
}

}  // namespace lowbit::conformance
