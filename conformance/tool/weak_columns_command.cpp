#include "weak_columns_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <tuple>

#include "lowbit/io/safetensors.hpp"
#include "lowbit/qeft.hpp"
#include "lowbit/weak.hpp"
#include "options.hpp"
#include "stream.hpp"

namespace lowbit::cli {
namespace {

namespace st = io::safetensors;

constexpr const char* kGlobal = "global";
// The layers that read the residual stream, in the order extract_outidx.py visits a block's.
constexpr std::string_view kResidualReaders[] = {"q_proj", "k_proj", "v_proj", "up_proj", "gate_proj"};

st::File read_safetensors(const std::string& path, const char* what) {
  const std::vector<std::uint8_t> bytes =
      read_container(path, FileKind::safetensors, fmt::format("a .safetensors file ({})", what));
  try {
    return st::read(bytes);
  } catch (const std::runtime_error& e) {
    throw UsageError(fmt::format("{}: {}", what, e.what()));
  }
}

// The values of an F32 tensor [rows, cols]; `layout` names its dimensions in the error.
std::vector<float> matrix(const st::Tensor& t, const char* what, const char* layout) {
  if (t.dtype != "F32" || t.shape.size() != 2)
    throw UsageError(fmt::format("{} '{}' must be F32 [{}], not {} with {} dimensions", what, t.name, layout, t.dtype, t.shape.size()));
  return st::values<float>(t, "F32", 2);
}

std::vector<float> sensitivity(const st::Tensor& x, const WeakColumnsArgs& a, const st::File* weights, int bits,
                               weak::Tuning tuning) {
  const std::vector<float> acts = matrix(x, "activations", "tokens, IC");
  const std::size_t tokens = x.shape[0], ic = x.shape[1];
  if (tokens == 0) throw UsageError(fmt::format("activations '{}' hold no tokens", x.name));
  if (a.k >= ic) throw UsageError(fmt::format("--k {} is not below the {} input channels of '{}'", a.k, ic, x.name));
  try {
    std::vector<float> lambda = weak::sensitivity(tokens, ic, acts);
    if (!weights) return lambda;
    const st::Tensor* w = weights->find(x.name);
    if (!w) throw UsageError(fmt::format("--weights holds no tensor '{}'", x.name));
    const std::vector<float> wv = matrix(*w, "weight", "OC, IC");
    if (w->shape[1] != ic)
      throw UsageError(fmt::format("weight '{}' has {} input channels, its activations {}", x.name, w->shape[1], ic));
    weak::apply_frob_norm(lambda, weak::frob_error(w->shape[0], ic, wv, bits, tuning));
    return lambda;
  } catch (const Error& e) {
    throw UsageError(fmt::format("layer '{}': {}", x.name, e.what()));
  }
}

// The block of a layer: the first decimal number in its name (0 without one).
std::uint64_t block_of(const std::string& name) {
  std::uint64_t block = 0;
  if (const std::size_t i = name.find_first_of("0123456789"); i != std::string::npos)
    std::from_chars(name.data() + i, name.data() + name.size(), block);
  return block;
}

// The default layers of the global index in extract_outidx.py's order: by block, then q, k, v, up, gate.
std::vector<std::string> residual_readers(const st::File& f) {
  std::vector<std::tuple<std::uint64_t, std::size_t, std::string>> keyed;
  for (const st::Tensor& t : f.tensors)
    for (std::size_t r = 0; r < std::size(kResidualReaders); ++r)
      if (t.name.ends_with(kResidualReaders[r])) keyed.emplace_back(block_of(t.name), r, t.name);
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::string> names;
  for (const auto& k : keyed) names.push_back(std::get<2>(k));
  return names;
}

std::vector<std::int32_t> global_index(const WeakColumnsArgs& a, const st::File& acts,
                                       const std::map<std::string, std::vector<float>>& lambda, qeft::OgrVariant v) {
  const std::vector<std::string> names = a.layers.empty() ? residual_readers(acts) : a.layers;
  if (names.empty())
    throw UsageError("no layer name ends in q_proj, k_proj, v_proj, up_proj or gate_proj: name the layers of the "
                     "global index with --layers, or pass --no-global");
  std::set<std::string> seen;
  std::vector<std::vector<float>> lambdas;
  for (const std::string& n : names) {
    const auto it = lambda.find(n);
    if (it == lambda.end()) throw UsageError(fmt::format("--layers names '{}', which the input does not hold", n));
    if (!seen.insert(n).second) throw UsageError(fmt::format("--layers names '{}' twice", n));
    if (it->second.size() != lambda.at(names[0]).size())
      throw UsageError(fmt::format("the layers of the global index must share IC: '{}' has {}, '{}' {}", names[0],
                                   lambda.at(names[0]).size(), n, it->second.size()));
    if (std::all_of(it->second.begin(), it->second.end(), [](float x) { return x == 0; }))
      throw UsageError(fmt::format("layer '{}' has zero sensitivity in every column: the global index cannot normalise it", n));
    lambdas.push_back(it->second);
  }
  try {
    return qeft::ogr_global(lambdas, a.k, v);
  } catch (const Error& e) {
    throw UsageError(fmt::format("the global index: {}", e.what()));
  }
}

}  // namespace

int run_weak_columns(const WeakColumnsArgs& a) {
  if (a.global != "qeft" && a.global != "per-layer-topk")
    throw UsageError(fmt::format("unknown --global '{}' (valid: qeft, per-layer-topk)", a.global));
  const qeft::OgrVariant variant = a.global == "qeft" ? qeft::OgrVariant::qeft : qeft::OgrVariant::per_layer_topk;
  if (a.no_global && !a.layers.empty()) throw UsageError("--layers names the layers of the global index: not with --no-global");
  if (a.weights.empty() && (a.bits || a.tuning)) throw UsageError("--bits and --tuning apply to --weights only");
  const int bits = a.bits.value_or(4);
  if (bits < 2 || bits > 4) throw UsageError(fmt::format("--bits {} is not 2, 3 or 4", bits));
  const std::string tuning_name = a.tuning.value_or("mse");
  const auto tuning = weak::parse_tuning(tuning_name);
  if (!tuning) throw UsageError(fmt::format("unknown --tuning '{}' (valid: mse, minmax)", tuning_name));
  if (a.k == 0) throw UsageError("--k must be at least 1");

  const st::File acts = read_safetensors(a.input, "the activations");
  if (acts.tensors.empty()) throw UsageError("the activations file holds no tensors");
  const std::optional<st::File> weights =
      a.weights.empty() ? std::nullopt : std::optional(read_safetensors(a.weights, "--weights"));

  std::map<std::string, std::vector<float>> lambda;
  std::vector<st::Tensor> out;
  for (const st::Tensor& t : acts.tensors) {
    if (t.name == kGlobal) throw UsageError("a layer may not be called 'global': the output's global index has that name");
    const std::vector<float>& l = lambda[t.name] = sensitivity(t, a, weights ? &*weights : nullptr, bits, *tuning);
    out.push_back(st::make_tensor(t.name, "I32", {a.k}, weak::topk(l, a.k)));
  }
  if (!a.no_global) out.push_back(st::make_tensor(kGlobal, "I32", {a.k}, global_index(a, acts, lambda, variant)));

  const st::Metadata meta{{"k", std::to_string(a.k)},
                          {"global", a.no_global ? "none" : a.global},
                          {"frob_norm", weights ? fmt::format("{}-bit {}", bits, tuning_name) : "none"}};
  write_file(a.output, st::write(out, meta));
  return kSuccess;
}

namespace {

void define(Registry& reg) {
  reg.add(Command{"weak-columns", "", {}, "", [](CLI::App& c) -> Action {
    auto a = std::make_shared<WeakColumnsArgs>();
    c.add_option("--k", a->k, "weak columns per layer and in the global index")->required();
    CLI::Option* global = c.add_option("--global", a->global,
                                       "qeft (default: whole normalised vectors) or per-layer-topk (the paper)");
    c.add_flag("--no-global", a->no_global, "write the per-layer indices only")->excludes(global);
    c.add_option("--layers", a->layers,
                 "the layers of the global index (default: names ending in q_proj, k_proj, v_proj, up_proj or gate_proj)");
    c.add_option("--weights", a->weights, ".safetensors with the F32 [OC, IC] weights of the same names: the frob-norm factor");
    c.add_option("--bits", a->bits, "with --weights: 2, 3 or 4 (default 4)");
    c.add_option("--tuning", a->tuning, "with --weights: mse (default) or minmax");
    add_io(c, a->input, a->output, ".safetensors with one F32 [tokens, IC] per layer",
           ".safetensors with one I32 [k] per layer and 'global'");
    return [a] { return run_weak_columns(*a); };
  }});
}

const Registration registration("weak-columns", define);

}  // namespace

}  // namespace lowbit::cli
