// convert qeft|owq: the QuantLinear buffers of every selected layer (io/weak_checkpoint.hpp), with
// weak columns from calibration statistics or the weights, and QEFT's whole-model reordering by
// the rules of ref::reorder_rule (docs/formats/qeft-owq.md, "Checkpoint layout").
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "convert_families.hpp"
#include "layout_names.hpp"
#include "lowbit/io/weak_checkpoint.hpp"
#include "lowbit/reference/weak_select.hpp"

namespace lowbit::io::model {
namespace {

using Index = std::vector<std::int32_t>;
using ref::ReorderIndex;
using ref::ReorderRole;

[[noreturn]] void fail(const std::string& what, Errc e = Errc::data) { throw Error(what, e); }

// ---- roles: which tensor of a checkpoint plays which part of a decoder -------------------------------

struct RoleKey {
  const char* key;
  ReorderRole role;
  bool per_block, required;
};
constexpr RoleKey kRoles[] = {
    {"embed_tokens", ReorderRole::embedding, false, true},   {"lm_head", ReorderRole::head, false, false},
    {"final_norm", ReorderRole::norm, false, true},          {"input_layernorm", ReorderRole::norm, true, true},
    {"post_attention_layernorm", ReorderRole::norm, true, true}, {"q_proj", ReorderRole::q, true, true},
    {"k_proj", ReorderRole::k, true, true},                  {"v_proj", ReorderRole::v, true, true},
    {"o_proj", ReorderRole::o, true, true},                  {"gate_proj", ReorderRole::gate, true, true},
    {"up_proj", ReorderRole::up, true, true},                {"down_proj", ReorderRole::down, true, true},
};
// OGR's layers, in the order extract_outidx.py visits a block's.
constexpr ReorderRole kResidualReaders[] = {ReorderRole::q, ReorderRole::k, ReorderRole::v, ReorderRole::up, ReorderRole::gate};

constexpr const char* kLlamaRoles = R"({
  "embed_tokens": "model.embed_tokens.weight", "lm_head": "lm_head.weight", "final_norm": "model.norm.weight",
  "input_layernorm": "model.layers.{i}.input_layernorm.weight",
  "post_attention_layernorm": "model.layers.{i}.post_attention_layernorm.weight",
  "q_proj": "model.layers.{i}.self_attn.q_proj.weight", "k_proj": "model.layers.{i}.self_attn.k_proj.weight",
  "v_proj": "model.layers.{i}.self_attn.v_proj.weight", "o_proj": "model.layers.{i}.self_attn.o_proj.weight",
  "gate_proj": "model.layers.{i}.mlp.gate_proj.weight", "up_proj": "model.layers.{i}.mlp.up_proj.weight",
  "down_proj": "model.layers.{i}.mlp.down_proj.weight"})";

struct Assigned {
  ReorderRole role;
  std::size_t block;  // 0 for the tensors outside the blocks
};

std::map<std::string, std::string> parse_roles(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(fmt::format("--roles: not JSON: {}", e.what()), Errc::invalid);
  }
  if (!j.is_object()) fail("--roles: not a JSON object of role -> tensor name pattern", Errc::invalid);
  std::map<std::string, std::string> out;
  for (const auto& item : j.items()) {  // no structured binding: clang 14 cannot capture one in a lambda
    const std::string& key = item.key();
    const nlohmann::json& value = item.value();
    const auto* r = std::find_if(std::begin(kRoles), std::end(kRoles), [&](const RoleKey& k) { return key == k.key; });
    if (r == std::end(kRoles)) fail(fmt::format("--roles: unknown role '{}'", key), Errc::invalid);
    if (!value.is_string()) fail(fmt::format("--roles: role '{}' must be a string", key), Errc::invalid);
    const std::string p = value.get<std::string>();
    if ((p.find("{i}") != std::string::npos) != r->per_block)
      fail(fmt::format("--roles: role '{}' {} '{{i}}' (the block number)", key, r->per_block ? "needs" : "may not hold"), Errc::invalid);
    out[key] = p;
  }
  for (const RoleKey& k : kRoles)
    if (k.required && !out.count(k.key)) fail(fmt::format("--roles: no role '{}'", k.key), Errc::invalid);
  return out;
}

std::string block_name(const std::string& pattern, std::size_t i) {
  std::string s = pattern;
  for (std::size_t at; (at = s.find("{i}")) != std::string::npos;) s.replace(at, 3, std::to_string(i));
  return s;
}

// Every role's tensor in `m`, blocks 0, 1, ... while block i's q_proj exists; empty when the model
// has no block 0 (not of this family). A block missing one of its roles is an error naming it.
std::map<std::string, Assigned> assign_roles(const Model& m, const std::map<std::string, std::string>& roles) {
  std::map<std::string, Assigned> out;
  const auto at = [&](const RoleKey& k, std::size_t b) {
    const auto it = roles.find(k.key);
    if (it == roles.end()) return;
    const std::string name = k.per_block ? block_name(it->second, b) : it->second;
    if (!m.find(name)) {
      if (k.required) fail(fmt::format("{}: the reordering needs '{}' ({} of block {}), which the model does not hold", m.path(), name, k.key, b));
      return;
    }
    out[name] = {k.role, b};
  };
  std::size_t blocks = 0;
  while (m.find(block_name(roles.at("q_proj"), blocks))) ++blocks;
  if (blocks == 0) return {};
  for (const RoleKey& k : kRoles)
    for (std::size_t b = 0; b < (k.per_block ? blocks : 1); ++b) at(k, b);
  return out;
}

// ---- sensitivity --------------------------------------------------------------------------------------

std::string prefix_of(const std::string& weight) {
  return weight.ends_with(".weight") ? weight.substr(0, weight.size() - 7) : weight;
}

// lambda of one layer (oc x ic weight w): the calibration's sum of squares per input column, or the
// weight's column norms, times the frob-norm factor (extract_outidx.py's default).
std::vector<float> lambda_of(const std::string& name, std::size_t oc, std::size_t ic, std::span<const float> w,
                             const Model* stats, int bits, weak::Tuning tuning) {
  std::vector<float> lambda(ic);
  if (stats) {
    const std::string s = prefix_of(name) + ".input_sq_sum";
    const TensorInfo* t = stats->find(s);
    if (!t) fail(fmt::format("{}: no tensor '{}' for the selected layer '{}'", stats->path(), s, name));
    if (t->dtype != "F32" || t->shape != std::vector<std::uint64_t>{ic})
      fail(fmt::format("{}: tensor '{}' is {} [{}], not F32 [{}] (the input columns of '{}')", stats->path(), s, t->dtype,
                       fmt::join(t->shape, ", "), ic, name));
    std::memcpy(lambda.data(), stats->bytes(*t).data(), ic * 4);
    for (std::size_t j = 0; j < ic; ++j)
      if (!std::isfinite(lambda[j]) || lambda[j] < 0)
        fail(fmt::format("{}: tensor '{}' has {} at column {}, not a finite sum of squares", stats->path(), s, lambda[j], j));
  } else {
    std::vector<double> sum(ic, 0.0);
    for (std::size_t r = 0; r < oc; ++r)
      for (std::size_t j = 0; j < ic; ++j) sum[j] += static_cast<double>(w[r * ic + j]) * w[r * ic + j];
    std::copy(sum.begin(), sum.end(), lambda.begin());
  }
  try {
    weak::apply_frob_norm(lambda, weak::frob_error(oc, ic, w, bits, tuning));
  } catch (const Error& e) {
    fail(fmt::format("tensor '{}': {}", name, e.what()));
  }
  return lambda;
}

// ---- the target ---------------------------------------------------------------------------------------

// What encode() does with one selected layer.
struct Layer {
  Index weak;        // its weak columns, in its input's original order
  Index rows;        // the permutation of its rows (empty: none)
  bool gather = false;  // QEFT: its input is gathered at run time by <P>.reorder_ids
};
// What rewrite() does with a tensor that is not selected.
struct Rewrite {
  Index rows, cols;
};

template <class Codec> class WeakTarget final : public Target {
 public:
  WeakTarget(const Codec& o, const WeakConvertOptions& w) : o_(o), w_(w) {
    if (!w_.roles.empty()) roles_ = parse_roles(w_.roles);
    if (!w_.calibration.empty()) stats_.emplace(Model::open(w_.calibration));
  }

  std::string format() const override { return kQeft ? "qeft" : fmt::format("owq-{}", o_.bits); }

  void prepare(const Model& m, std::span<const TensorInfo* const> selected, const Parallel& par) override {
    for (const TensorInfo* t : selected) check_shape(*t);
    std::map<std::string, Assigned> roles;
    if (kQeft && w_.reorder) {
      roles = assign_roles(m, roles_.empty() ? parse_roles(kLlamaRoles) : roles_);
      if (roles.empty() && !roles_.empty())
        fail(fmt::format("{}: --roles names no tensor of the model (no '{}')", m.path(), block_name(roles_.at("q_proj"), 0)), Errc::invalid);
    }
    reordered_ = !roles.empty();
    std::map<std::string, std::vector<float>> lambdas;
    const auto lambda = [&](const TensorInfo& t) -> const std::vector<float>& {
      auto it = lambdas.find(t.name);
      if (it != lambdas.end()) return it->second;
      const std::vector<float> w = Source(m, t).read_all(par);
      m.release(t);
      return lambdas[t.name] = lambda_of(t.name, t.shape[0], t.shape[1], w, stats_ ? &*stats_ : nullptr, o_.bits, o_.tuning);
    };
    const auto own = [&](const TensorInfo& t) { return w_.k ? weak::topk(lambda(t), w_.k) : Index{}; };
    if (!reordered_) {
      for (const TensorInfo* t : selected) layers_[t->name] = {own(*t), {}, kQeft};
      return;
    }
    plan(m, selected, roles, lambda, own);
  }

  std::vector<safetensors::Tensor> encode(const Source& s, const Parallel& par) const override {
    const Layer& l = layers_.at(s.name());
    const std::size_t oc = s.info().shape[0], ic = s.info().shape[1];
    const std::vector<float> w = rows_permuted(s, l, par);
    const std::string p = prefix_of(s.name());
    try {
      if constexpr (kQeft) {
        std::vector<safetensors::Tensor> out = to_file(qeft::encode(oc, ic, w, l.weak, o_), p).tensors;
        if (l.gather) {
          const Index perm = weak::permutation(l.weak, ic);
          out.push_back(safetensors::make_tensor(p + "." + names::weak::kReorderIds, "I64", {ic}, std::vector<std::int64_t>(perm.begin(), perm.end())));
        }
        return out;
      } else {
        return to_file(owq::encode(oc, ic, w, l.weak, o_), p).tensors;
      }
    } catch (const Error& e) {
      fail(fmt::format("tensor '{}': {}", s.name(), e.what()));
    }
  }

  // What decode() gives back: the layer's input order is the stored one unless it gathers.
  std::vector<float> effective(const Source& s, const Parallel& par) const override {
    const Layer& l = layers_.at(s.name());
    if (!kQeft || l.gather) return rows_permuted(s, l, par);
    const std::size_t oc = s.info().shape[0], ic = s.info().shape[1];
    return ref::permute_matrix<float>(rows_permuted(s, l, par), oc, ic, {}, weak::permutation(l.weak, ic), "tensor '" + s.name() + "'");
  }

  std::optional<safetensors::Tensor> rewrite(const Model& m, const TensorInfo& t) const override {
    const auto it = rewrites_.find(t.name);
    if (it == rewrites_.end()) return std::nullopt;
    const std::size_t rows = t.shape.size() == 2 ? t.shape[0] : 1, cols = t.shape.back();
    const std::span<const std::uint8_t> b = m.bytes(t);
    const std::string what = fmt::format("{}: tensor '{}'", m.path(), t.name);
    const auto permuted = [&]<class T>(T) {
      std::vector<T> v(b.size() / sizeof(T));
      std::memcpy(v.data(), b.data(), b.size());
      return safetensors::make_tensor(t.name, t.dtype, t.shape, ref::permute_matrix<T>(v, rows, cols, it->second.rows, it->second.cols, what));
    };
    if (t.dtype == "F32") return permuted(std::uint32_t{});
    return permuted(std::uint16_t{});  // F16, BF16: checked in prepare
  }

  std::string quantization_config(const std::string&) const override {
    nlohmann::ordered_json j{{"quant_method", kQeft ? "qeft" : "owq"}, {"bits", o_.bits}, {"group_size", group()}, {"k", w_.k}};
    if (kQeft) j["reordered"] = reordered_;
    j["sym"] = o_.sym;
    j["tuning"] = o_.tuning == weak::Tuning::mse ? "mse" : "minmax";
    j["weak_columns"] = stats_ ? "calibration" : "column-norms";
    return j.dump();
  }

  safetensors::Metadata options() const override {
    // "group" (0: per channel), not weak_checkpoint.hpp's per-layer "group_size" (IC for per channel).
    safetensors::Metadata m{{"bits", std::to_string(o_.bits)}, {"group", std::to_string(o_.group)}, {"k", std::to_string(w_.k)},
                            {"tuning", o_.tuning == weak::Tuning::mse ? "mse" : "minmax"}, {"sym", o_.sym ? "true" : "false"},
                            {"weak_columns", stats_ ? "calibration" : "column-norms"}};
    if (kQeft) m["reordered"] = reordered_ ? "true" : "false";
    return m;
  }

 private:
  static constexpr bool kQeft = std::is_same_v<Codec, qeft::Options>;
  static constexpr weak::Layout kLayout = kQeft ? weak::Layout::qeft : weak::Layout::owq;

  static std::vector<float> rows_permuted(const Source& s, const Layer& l, const Parallel& par) {
    return ref::permute_matrix<float>(s.read_all(par), s.info().shape[0], s.info().shape[1], l.rows, {}, "tensor '" + s.name() + "'");
  }

  int group() const { return o_.group == 0 ? -1 : o_.group; }  // the repos' -1: per channel

  void check_shape(const TensorInfo& t) const {
    weak::QuantOptions q;
    q.bits = o_.bits;
    q.group = o_.group;
    q.grid = std::max(o_.grid, 1);
    if (const std::string_view e = weak::shape_error(kLayout, t.shape[0], t.shape[1], w_.k, q); !e.empty())
      fail(fmt::format("tensor '{}' [{}, {}] cannot be stored as {} with k = {}: {}", t.name, t.shape[0], t.shape[1], name(kLayout), w_.k, e));
  }

  // QEFT's global index over the residual readers, o_proj's and down_proj's own indices, and from
  // them each tensor's rows/columns by ref::reorder_rule.
  template <class Lambda, class Own>
  void plan(const Model& m, std::span<const TensorInfo* const> selected, const std::map<std::string, Assigned>& roles,
            Lambda& lambda, Own& own) {
    std::size_t blocks = 0;
    for (const auto& [name, a] : roles) blocks = std::max(blocks, a.block + 1);
    std::map<std::pair<ReorderRole, std::size_t>, const TensorInfo*> by_role;
    for (const auto& [name, a] : roles) by_role[{a.role, a.block}] = &m.at(name);
    const std::set<const TensorInfo*> chosen(selected.begin(), selected.end());
    for (const TensorInfo* t : selected)
      if (!roles.count(t->name))
        fail(fmt::format("{}: tensor '{}' is selected but has no role in the reordering (--roles); or pass --no-reorder", m.path(), t->name));
    Index global;
    if (w_.k) {
      std::vector<std::vector<float>> readers;
      for (std::size_t b = 0; b < blocks; ++b)
        for (ReorderRole r : kResidualReaders) readers.push_back(lambda(*by_role.at({r, b})));
      try {
        global = qeft::ogr_global(readers, w_.k);
      } catch (const Error& e) {
        fail(fmt::format("{}: the global index: {}", m.path(), e.what()));
      }
    }
    const std::size_t d = by_role.at({ReorderRole::q, 0})->shape[1];
    const Index pg = weak::permutation(global, d);
    for (std::size_t b = 0; b < blocks; ++b) {
      // o_proj's and down_proj's own weak columns (none when the layer stays plain).
      const TensorInfo &o = *by_role.at({ReorderRole::o, b}), &down = *by_role.at({ReorderRole::down, b});
      const Index ow = chosen.count(&o) ? own(o) : Index{}, dw = chosen.count(&down) ? own(down) : Index{};
      const Index po = weak::permutation(ow, o.shape[1]), pd = weak::permutation(dw, down.shape[1]);
      const auto index = [&](ReorderIndex i) -> std::pair<const Index*, const Index*> {  // (weak list, permutation)
        static const Index none;
        return i == ReorderIndex::global ? std::pair{&global, &pg} : i == ReorderIndex::o ? std::pair{&ow, &po}
               : i == ReorderIndex::down ? std::pair{&dw, &pd} : std::pair{&none, &none};
      };
      for (const auto& [name, a] : roles) {
        if (a.block != b) continue;
        const TensorInfo& t = m.at(name);
        const ref::ReorderRule r = ref::reorder_rule(a.role);
        if (chosen.count(&t)) {
          // qeft::encode stores the columns in permutation(weak) order itself: the rows are permuted here.
          layers_[name] = {*index(r.cols).first, *index(r.rows).second, r.gather};
        } else {
          if (t.dtype != "F32" && t.dtype != "F16" && t.dtype != "BF16")
            fail(fmt::format("{}: tensor '{}' is {}: the reordering permutes F32, F16 or BF16 tensors only", m.path(), name, t.dtype));
          if (t.shape.empty() || t.shape.size() > 2) fail(fmt::format("{}: tensor '{}' ({}) is not 1-D or 2-D", m.path(), name, t.dtype));
          rewrites_[name] = {*index(r.rows).second, r.gather ? Index{} : *index(r.cols).second};  // a plain layer cannot gather
        }
      }
    }
  }

  Codec o_;
  WeakConvertOptions w_;
  std::map<std::string, std::string> roles_;
  std::optional<Model> stats_;
  bool reordered_ = false;
  std::map<std::string, Layer> layers_;
  std::map<std::string, Rewrite> rewrites_;
};

safetensors::File file_of(std::span<const safetensors::Tensor> tensors) {
  safetensors::File f;
  f.tensors.assign(tensors.begin(), tensors.end());
  return f;
}

std::string prefix_of_qweight(const std::string& qweight) { return qweight.substr(0, qweight.size() - std::string_view(".qweight").size()); }

template <int Bits> Decoded decode_owq_bits(std::span<const safetensors::Tensor> tensors, const Parallel&) {
  const std::string p = prefix_of_qweight(tensors.front().name);
  const owq::Packed packed = owq_from_file(file_of(tensors), p, Bits);
  return {p + ".weight", {packed.oc, packed.ic}, owq::decode(packed), ""};
}

}  // namespace

std::unique_ptr<Target> qeft_target(const qeft::Options& o, const WeakConvertOptions& w) {
  return std::make_unique<WeakTarget<qeft::Options>>(o, w);
}
std::unique_ptr<Target> owq_target(const owq::Options& o, const WeakConvertOptions& w) {
  return std::make_unique<WeakTarget<owq::Options>>(o, w);
}

// The layer's input as the checkpoint feeds it: in stored order (the residual stream or the MLP was
// reordered offline), or gathered by reorder_ids, which undoes the weak-last order.
Decoded detail::decode_qeft(std::span<const safetensors::Tensor> tensors, const Parallel&) {
  const std::string p = prefix_of_qweight(tensors.front().name);
  const safetensors::File f = file_of(tensors);
  const qeft::Packed packed = qeft_from_file(f, p);
  qeft::Options o;
  o.order = qeft::Order::stored;
  if (const safetensors::Tensor* ids = f.find(p + "." + names::weak::kReorderIds)) {
    const Index perm = weak::permutation(packed.outlieridx, packed.ic);
    if (safetensors::values<std::int64_t>(*ids, "I64", 1) != std::vector<std::int64_t>(perm.begin(), perm.end()))
      fail(fmt::format("tensor '{}' is not the gather of outlieridx (the non-weak columns ascending, then the weak ones)", ids->name));
    o.order = qeft::Order::original;
  }
  return {p + ".weight", {packed.oc, packed.ic}, qeft::decode(packed, o), ""};
}
Decoded detail::decode_owq3(std::span<const safetensors::Tensor> t, const Parallel& par) { return decode_owq_bits<3>(t, par); }
Decoded detail::decode_owq4(std::span<const safetensors::Tensor> t, const Parallel& par) { return decode_owq_bits<4>(t, par); }
Decoded detail::decode_owq_unknown(std::span<const safetensors::Tensor> t, const Parallel&) {
  fail(fmt::format("tensor '{}': an OWQ layer whose bit width the shard's metadata does not give (lowbit.bits 3 or 4)", t.front().name),
       Errc::unsupported);
}

}  // namespace lowbit::io::model
