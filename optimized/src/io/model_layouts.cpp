#include "lowbit/io/model_layouts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>

#include "convert_blocks.hpp"
#include "lowbit/error.hpp"
#include "layout_names.hpp"
#include "lowbit/io/bnb_checkpoint.hpp"

namespace lowbit::io::model {
namespace {

[[noreturn]] void fail(const Model& m, const std::string& what) { throw Error(m.path() + ": " + what, Errc::data); }

std::uint64_t elements(const TensorInfo& t) {
  std::uint64_t n = 1;
  for (std::uint64_t d : t.shape) n *= d;  // cannot overflow: the shard's header check bounds it by the byte count
  return n;
}

// Grouping as it goes: claims companions so that each tensor lands in one Weight.
class Grouping {
 public:
  explicit Grouping(const Model& m) : m_(m) {}

  const TensorInfo* get(const std::string& name) const { return m_.find(name); }
  // The companion `name`, which the layout needs (required) or may have.
  const TensorInfo* take(Weight& w, const std::string& name, bool required) {
    const TensorInfo* t = m_.find(name);
    if (!t) {
      if (required) fail(m_, fmt::format("tensor '{}' ({}) has no '{}'", w.tensor->name, w.format, name));
      return nullptr;
    }
    w.companions.push_back(t);
    claimed_.insert(t->name);
    return t;
  }
  bool claimed(const std::string& name) const { return claimed_.count(name) != 0; }

  bool bnb(Weight& w) {
    namespace f = names::bnb;
    const std::string& n = w.tensor->name;
    const auto key = [&](const std::string& field) { return n + "." + field; };
    for (const char* type : f::kQuantTypes) {
      const TensorInfo* qs = get(key(f::quant_state(type)));
      if (!qs) continue;
      if (w.tensor->dtype != "U8") fail(m_, fmt::format("tensor '{}' has a bitsandbytes quant_state but dtype {}, not U8", n, w.tensor->dtype));
      const std::span<const std::uint8_t> text = m_.bytes(*qs);
      bnb::QuantStateJson q;
      try {
        q = bnb::decode_quant_state_json(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
      } catch (const Error& e) {
        fail(m_, fmt::format("tensor '{}': {}", qs->name, e.what()));
      }
      w.format = q.nested ? fmt::format("{}-dq", type) : type;
      w.layout = fmt::format("blocksize {}, {} [{}]", q.blocksize, q.dtype, fmt::join(q.shape, ", "));
      take(w, key(f::kAbsmax), true);
      take(w, key(f::kQuantMap), true);
      take(w, key(f::kNestedAbsmax), q.nested.has_value());
      take(w, key(f::kNestedQuantMap), q.nested.has_value());
      take(w, qs->name, true);
      return true;
    }
    return false;
  }

  bool fp8(Weight& w) {
    const TensorInfo& t = *w.tensor;
    if (t.dtype != "F8_E4M3" && t.dtype != "F8_E5M2") return false;
    w.format = t.dtype == "F8_E4M3" ? "fp8-e4m3" : "fp8-e5m2";
    const TensorInfo* scale = take(w, t.name + "_scale", false);
    const TensorInfo* inv = scale ? nullptr : take(w, t.name + "_scale_inv", false);
    if (!scale && !inv) {
      w.layout = "no scale";
    } else if (elements(scale ? *scale : *inv) == 1) {
      w.layout = "per-tensor scale";
    } else if (scale && !t.shape.empty() && elements(*scale) == t.shape[0]) {
      w.layout = "per-channel scale";
    } else if (inv && inv->shape.size() == 2 && t.shape.size() == 2) {
      w.layout = fmt::format("block scale_inv [{}, {}]", inv->shape[0], inv->shape[1]);
    } else {
      const TensorInfo& s = scale ? *scale : *inv;
      fail(m_, fmt::format("tensor '{}' [{}]: its scale '{}' [{}] is neither per-tensor, per-channel nor per-block", t.name,
                           fmt::join(t.shape, ", "), s.name, fmt::join(s.shape, ", ")));
    }
    return true;
  }

  // lowbit's GSE / MX layout: <w> with <w>.gse_format or <w>.mx_format (convert_blocks.hpp).
  bool blocks(Weight& w) {
    const std::string& n = w.tensor->name;
    for (const detail::BlockFamily& f : detail::kBlockFamilies) {
      const TensorInfo* json = get(detail::format_name(n, f));
      if (!json) continue;
      detail::BlockLayout l;
      try {
        l = detail::read_block_layout(f, json->name, m_.bytes(*json));
      } catch (const Error& e) {
        fail(m_, e.what());
      }
      w.format = l.format->name();
      w.layout = l.describe();
      take(w, detail::scales_name(n, f), true);
      take(w, json->name, true);
      return true;
    }
    return false;
  }

  // gpt-oss's MXFP4: <w>.blocks U8 [..., G, 16] with <w>.scales U8 [..., G] (layout_names.hpp).
  bool gptoss(Weight& w) {
    const TensorInfo& t = *w.tensor;
    const std::optional<names::gptoss::Names> n = names::gptoss::of_blocks(t.name);
    const TensorInfo* s = n && t.dtype == "U8" ? get(n->scales) : nullptr;
    if (!s) return false;
    if (t.shape.size() < 2 || t.shape.back() != 16 || s->dtype != "U8" || s->shape != std::vector(t.shape.begin(), t.shape.end() - 1))
      fail(m_, fmt::format("tensor '{}' U8 [{}] with '{}' {} [{}] is not gpt-oss's MXFP4 (blocks [..., G, 16] with scales [..., G])",
                           t.name, fmt::join(t.shape, ", "), s->name, s->dtype, fmt::join(s->shape, ", ")));
    std::vector<std::uint64_t> shape = s->shape;
    shape.back() *= 32;
    w.format = "mxfp4-gptoss";
    w.layout = fmt::format("blocks of 32, E8M0 scales, {} [{}]", n->weight, fmt::join(shape, ", "));
    take(w, s->name, true);
    return true;
  }

  // QuantLinear buffers: <P>.qweight with the rest of the layer under P.
  bool weak(Weight& w) {
    namespace f = names::weak;
    const std::string& n = w.tensor->name;
    const std::string suffix = f::kQweight;
    if (!n.ends_with(suffix) || (n.size() > suffix.size() && n[n.size() - suffix.size() - 1] != '.')) return false;
    const std::string p = n.substr(0, n.size() - suffix.size());  // "P." or ""
    const bool qeft = w.tensor->dtype == "I16" && get(p + f::kScaledZeros), owq = w.tensor->dtype == "I32" && get(p + f::kZeros);
    if (!qeft && !owq) return false;
    w.format = qeft ? "qeft" : "owq";
    if (owq) {  // the bit width, which the shapes do not give, from lowbit's metadata: owq-3, owq-4
      const safetensors::Metadata& meta = m_.shards()[w.tensor->shard].metadata;
      if (const auto it = meta.find("lowbit.bits"); it != meta.end() && (it->second == "3" || it->second == "4"))
        w.format += "-" + it->second;
    }
    take(w, p + f::kScales, true);
    if (qeft) {
      take(w, p + f::kScaledZeros, true);
      for (const char* b : {f::kOweight, f::kOweightInterleaved, f::kOutlieridx, f::kReorderIds}) take(w, p + b, false);
    } else {
      take(w, p + f::kZeros, true);
      take(w, p + f::kBias, false);
      take(w, p + f::kOweight, true);
      take(w, p + f::kOutlieridx, true);
    }
    return true;
  }

 private:
  const Model& m_;
  std::set<std::string, std::less<>> claimed_;
};

}  // namespace

std::vector<Weight> recognise(const Model& m) {
  Grouping g(m);
  std::vector<Weight> out;
  for (const TensorInfo& t : m.tensors()) {
    Weight w{&t, "plain", "", {}};
    if (g.bnb(w) || g.fp8(w) || g.blocks(w) || g.gptoss(w) || g.weak(w)) std::sort(w.companions.begin(), w.companions.end(),
                                                     [](const TensorInfo* a, const TensorInfo* b) { return a->name < b->name; });
    out.push_back(std::move(w));
  }
  // Companions were listed as plain tensors too when their name sorts before their weight's.
  std::erase_if(out, [&](const Weight& w) { return w.format == "plain" && g.claimed(w.tensor->name); });
  for (const Weight& w : out)
    if (g.claimed(w.tensor->name)) fail(m, fmt::format("tensor '{}' is both a {} weight and a companion of another", w.tensor->name, w.format));
  return out;
}

}  // namespace lowbit::io::model
