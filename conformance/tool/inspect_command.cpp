#include "inspect_command.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "lowbit/conformance/json_text.hpp"
#include "lowbit/error.hpp"
#include "lowbit/io/files.hpp"
#include "lowbit/io/model_layouts.hpp"
#include "registry.hpp"

namespace lowbit::cli {
namespace {

namespace md = io::model;

// config.json's quantization_config, or null (no folder, no config.json, or none in it).
nlohmann::ordered_json quantization_config(const md::Model& m) {
  if (m.folder().empty()) return nullptr;
  const std::string path = (std::filesystem::path(m.folder()) / "config.json").string();
  if (!std::filesystem::exists(path)) return nullptr;
  const std::vector<std::uint8_t> text = io::read_file(path);
  nlohmann::ordered_json config;
  try {
    config = nlohmann::ordered_json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: not valid JSON: {}", path, e.what()), Errc::data);
  }
  if (!config.is_object()) throw Error(fmt::format("{}: must be a JSON object", path), Errc::data);
  return config.contains("quantization_config") ? config["quantization_config"] : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json tensor_json(const md::Model& m, const md::TensorInfo& t) {
  return {{"name", t.name},  {"dtype", t.dtype}, {"shape", t.shape},
          {"bytes", t.bytes}, {"shard", std::filesystem::path(m.shards()[t.shard].path).filename().string()}, {"offset", t.offset}};
}

std::string shape_text(const md::TensorInfo& t) { return fmt::format("[{}]", fmt::join(t.shape, ", ")); }

}  // namespace

std::string inspect(const std::string& path, bool json) {
  const md::Model m = md::Model::open(path);
  const std::vector<md::Weight> weights = md::recognise(m);
  std::map<std::string, std::size_t> counts;
  for (const md::Weight& w : weights) ++counts[w.format];
  const nlohmann::ordered_json qc = quantization_config(m);

  if (json) {
    nlohmann::ordered_json out = {{"model", path}, {"shards", nlohmann::ordered_json::array()}, {"tensors", nlohmann::ordered_json::array()}};
    for (const md::Shard& s : m.shards()) out["shards"].push_back({{"path", s.path}, {"bytes", s.size}, {"metadata", s.metadata}});
    for (const md::Weight& w : weights) {
      nlohmann::ordered_json t = tensor_json(m, *w.tensor);
      t["format"] = w.format;
      t["layout"] = w.layout;
      t["companions"] = nlohmann::ordered_json::array();
      for (const md::TensorInfo* c : w.companions) t["companions"].push_back(tensor_json(m, *c));
      out["tensors"].push_back(std::move(t));
    }
    out["summary"] = {{"tensors", m.tensors().size()}, {"bytes", m.total_bytes()}, {"formats", counts}};
    out["quantization_config"] = qc;
    return conformance::json_text(out, 2) + "\n";
  }

  // Column widths from the longest entry (companions are indented by two).
  std::size_t name_w = 4, shape_w = 5;
  for (const md::TensorInfo& t : m.tensors()) {
    name_w = std::max(name_w, t.name.size() + 2);
    shape_w = std::max(shape_w, shape_text(t).size());
  }
  std::string out = fmt::format("{:<{}}  {:<7}  {:<{}}  {:>12}  {}\n", "name", name_w, "dtype", "shape", shape_w, "bytes", "format");
  const auto row = [&](const md::TensorInfo& t, const std::string& name, const std::string& format) {
    std::string line = fmt::format("{:<{}}  {:<7}  {:<{}}  {:>12}  {}", name, name_w, t.dtype, shape_text(t), shape_w, t.bytes, format);
    line.erase(line.find_last_not_of(' ') + 1);  // a companion has no format
    out += line + "\n";
  };
  for (const md::Weight& w : weights) {
    row(*w.tensor, w.tensor->name, w.layout.empty() ? w.format : fmt::format("{} ({})", w.format, w.layout));
    for (const md::TensorInfo* c : w.companions) row(*c, "  " + c->name, "");
  }
  std::vector<std::string> per_format;
  for (const auto& [f, n] : counts) per_format.push_back(fmt::format("{} {}", f, n));
  out += fmt::format("{} tensors, {} bytes in {} shard{}{}{}\n", m.tensors().size(), m.total_bytes(), m.shards().size(),
                     m.shards().size() == 1 ? "" : "s", per_format.empty() ? "" : "; ", fmt::join(per_format, ", "));
  if (!qc.is_null()) out += fmt::format("quantization_config: {}\n", qc.dump());
  return out;
}

namespace {

void define(Registry& reg) {
  reg.add(Command{"inspect", "", {}, "", [](CLI::App& c) -> Action {
    auto model = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    c.add_option("MODEL", *model, "a .safetensors file, or a folder with model.safetensors or shards and their index")->required();
    c.add_flag("--json", *json, "one JSON object instead of the table");
    return [model, json] {
      fmt::print("{}", inspect(*model, *json));
      return kSuccess;
    };
  }});
}

const Registration registration("inspect", define);

}  // namespace

}  // namespace lowbit::cli
