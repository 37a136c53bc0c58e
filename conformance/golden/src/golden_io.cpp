#include "lowbit/conformance/golden_io.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "lowbit/conformance/json_text.hpp"
#include "lowbit/conformance/sha256.hpp"
#include "lowbit/error.hpp"
#include "lowbit/io/safetensors.hpp"

namespace lowbit::conformance {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::pair<std::string_view, std::string_view> kDtypeMap[] = {
    {"U8", "|u1"},  {"I8", "|i1"},  {"U16", "<u2"}, {"I16", "<i2"}, {"F16", "<f2"},
    {"U32", "<u4"}, {"I32", "<i4"}, {"F32", "<f4"}, {"F64", "<f8"},
};

// An older golden set, which gen may replace: manifest.json and the regular files it lists, nothing else
// (no link, no folder, no file of the user's).
bool older_golden_set(const fs::path& dir) {
  try {
    if (fs::symlink_status(dir / "manifest.json").type() != fs::file_type::regular) return false;  // never a FIFO's open
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

}  // namespace

bool valid_array_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

std::optional<Container> parse_container(std::string_view s) {
  if (s == "npy") return Container::npy;
  if (s == "safetensors") return Container::safetensors;
  return std::nullopt;
}

std::string npy_descr_of(std::string_view dtype) {
  for (const auto& [st, d] : kDtypeMap)
    if (st == dtype) return std::string(d);
  throw Error(fmt::format("safetensors dtype {} is not one golden sets use", dtype), Errc::data);
}

std::string safetensors_dtype_of(std::string_view descr) {
  const io::npy::DtypeInfo* info = io::npy::find_dtype(descr);
  for (const auto& [st, d] : kDtypeMap)
    if (info && d == info->descr) return std::string(st);
  throw Error(fmt::format("npy dtype {} has no safetensors dtype here", descr));
}

GoldenWriter::GoldenWriter(std::string dir, Container container) : dir_(dir, older_golden_set), container_(container) {}

void GoldenWriter::put(const std::string& name, io::npy::Array a, std::string meaning) {
  if (!valid_array_name(name) || meaning_.count(name)) throw std::logic_error("golden array name '" + name + "' bad or repeated");
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
  const std::string text = json_text(m, 2) + '\n';
  dir_.write("manifest.json", {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  dir_.commit();
  return s;
}

void check_gen(Level level, std::size_t random) {
  if (level == Level::full)
    throw Error("level full is not a golden set: the exhaustive inputs (all 2^32 f32 per 8-bit format) are "
                "checked in process by `lowbit conform --level full`; golden sets are boundary or quick");
  if (random > kMaxGenRandom)
    throw Error(fmt::format("-n {}: a golden set has at most {} random cases (docs/conformance.md)", random, kMaxGenRandom));
}

}  // namespace lowbit::conformance
