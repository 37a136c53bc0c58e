#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "lowbit/conformance/cases.hpp"
#include "lowbit/conformance/golden_gen.hpp"
#include "lowbit/reference/weak.hpp"

namespace lowbit::conformance {
namespace {

using K = WeakCaseClass;

// About N(0, 1), without libm: four uniforms summed exactly in double, rounded once.
float normal(SplitMix64& rng) {
  double s = -2;
  for (int i = 0; i < 4; ++i) s += static_cast<double>(rng.next() >> 40) * 0x1p-24;
  return static_cast<float>(s * 1.7320508075688772);
}

// k distinct ascending columns of n: the k smallest of random keys (the golden READMEs' rule).
std::vector<std::int32_t> pick_weak(SplitMix64& rng, std::size_t n, std::size_t k) {
  std::vector<std::pair<std::uint64_t, std::int32_t>> keys(n);
  for (std::size_t i = 0; i < n; ++i) keys[i] = {rng.next(), static_cast<std::int32_t>(i)};
  std::sort(keys.begin(), keys.end());
  std::vector<std::int32_t> w(k);
  for (std::size_t i = 0; i < k; ++i) w[i] = keys[i].second;
  std::sort(w.begin(), w.end());
  return w;
}

// The values the quantizer sees in one group of row kind `kind` (len of them), and a weak column's value.
float group_value(K kind, std::size_t j, std::size_t len, const weak::QuantOptions& q, SplitMix64& rng) {
  const int maxq = (1 << q.bits) - 1, h = (maxq - 1) / 2;
  const float s = 0.25f;
  switch (kind) {
    case K::zero_group: return j % 2 ? -0.0f : 0.0f;
    case K::ties:  // min -(h+1)s, max (maxq-h-1)s: scale s, then (t + 1/2) s for every t in range
      if (j < 2) return j == 0 ? -static_cast<float>(h + 1) * s : static_cast<float>(maxq - h - 1) * s;
      return (static_cast<float>(static_cast<int>(j % static_cast<std::size_t>(maxq)) - h - 1) + 0.5f) * s;
    case K::code_extremes:  // min -(h+1/2)s, max (maxq-h-1/2)s: the zero point is a tie, the maximum rounds past maxq
      if (j < 2) return (j == 0 ? -1.0f : 1.0f) * (static_cast<float>(j == 0 ? h : maxq - h - 1) + 0.5f) * s;
      return static_cast<float>(static_cast<int>(j % static_cast<std::size_t>(maxq)) - h) * s;
    case K::signed_zero: return std::fabs(normal(rng)) * 0x1p-5f + 0.5f;
    case K::negative: return -(std::fabs(normal(rng)) * 0x1p-5f + 0.5f);
    case K::constant: return 0.3f;
    case K::outlier: return j == len / 2 ? (len % 2 ? -1000.0f : 1000.0f) : normal(rng) * 0x1p-5f;
    case K::fp16_special: return normal(rng) * 0x1p-24f;  // a few binary16 subnormal steps: codes clamp (qeft-owq.md 9.1)
    default: return normal(rng) * 0x1p-5f;
  }
}

float weak_value(K kind, std::size_t c, SplitMix64& rng) {
  if (kind == K::zero_group) return c % 2 ? -0.0f : 0.0f;
  if (kind != K::fp16_special) return normal(rng) * 0x1p-3f;
  constexpr float specials[] = {65504.0f, -65504.0f, 0x1p-24f, -0x1p-25f, -0.0f, 0x1.ff8p-15f, 0x1p-14f, 30000.0f};
  return specials[c % std::size(specials)];
}

// A layer of rows x cols with k weak columns; row r has kind kinds[r % size].
WeakGenLayer make_layer(const WeakGenOptions& o, std::size_t oc, std::size_t ic, std::size_t k, const std::vector<K>& kinds,
                        K cls, SplitMix64& rng) {
  WeakGenLayer l{oc, ic, std::vector<float>(oc * ic), pick_weak(rng, ic, k), {}, cls};
  const std::vector<std::int32_t> perm = ref::weak_permutation(l.weak, ic);
  const std::size_t quantized = ic - k, g = o.quant.group ? static_cast<std::size_t>(o.quant.group) : ic;
  for (std::size_t r = 0; r < oc; ++r) {
    const K kind = kinds[r % kinds.size()];
    l.row_classes.push_back(static_cast<std::uint8_t>(kind));
    // Quantized columns in the quantizer's order (non-weak ascending), group by group.
    for (std::size_t j = 0; j < quantized; ++j) {
      const std::size_t g0 = j / g * g;
      l.w[r * ic + static_cast<std::size_t>(perm[j])] = group_value(kind, j - g0, std::min(g, quantized - g0), o.quant, rng);
    }
    for (std::size_t c = 0; c < k; ++c) l.w[r * ic + static_cast<std::size_t>(l.weak[c])] = weak_value(kind, c, rng);
  }
  return l;
}

template <class T> io::npy::Array array(std::string_view descr, const std::vector<T>& v) { return io::npy::make_array(descr, v); }

}  // namespace

std::vector<WeakGenLayer> weak_gen_layers(const WeakGenOptions& o) {
  check_gen(o.level, o.random);
  const std::string_view e = weak::shape_error(o.layout, o.rows, o.cols, o.weak, o.quant);
  if (!e.empty()) throw std::runtime_error(fmt::format("{} {} x {} with {} weak columns: {}", name(o.layout), o.rows, o.cols, o.weak, e));
  SplitMix64 rng{o.seed};
  const std::size_t R = o.rows, C = o.cols, G = o.quant.group ? static_cast<std::size_t>(o.quant.group) : C;
  std::vector<WeakGenLayer> v;
  v.push_back(make_layer(o, R, C, o.weak,
                         {K::zero_group, K::ties, K::code_extremes, K::signed_zero, K::negative, K::constant, K::outlier,
                          K::fp16_special},
                         K::edge, rng));
  if (G < C) v.push_back(make_layer(o, R, C, G - 1, {K::partial_group}, K::partial_group, rng));
  v.push_back(make_layer(o, R, C, 0, {K::k0, K::zero_group}, K::k0, rng));
  v.push_back(make_layer(o, R, C, C - 1, {K::weak_only}, K::weak_only, rng));
  if (o.level == Level::quick)
    for (std::size_t done = 0; done < o.random; done += R * C)
      v.push_back(make_layer(o, R, C, rng.next() % std::min(C, 2 * o.weak + 1), {K::random}, K::random, rng));
  return v;
}

std::vector<WeakGenBuffer> weak_gen_buffers(weak::Layout layout, const weak::QuantOptions& q, const WeakGenLayer& l) {
  const std::size_t oc = l.oc, ic = l.ic, k = l.weak.size();
  const ref::WeakQuantized wq = ref::weak_quantize(layout, l.w, oc, ic, l.weak, q);
  // in(row, original column) and the row's class: every buffer element's operand and class.
  const auto in = [&](std::size_t r, std::size_t c) { return f32_bits(l.w[r * ic + c]); };
  std::vector<WeakGenBuffer> out;
  const auto add = [&](std::string name, io::npy::Array a, std::size_t n, auto&& source) {  // source(i) -> {row, column}
    WeakGenBuffer b{std::move(name), std::move(a), {}, {}};
    for (std::size_t i = 0; i < n; ++i) {
      const auto [r, c] = source(i);
      b.inputs.push_back(in(r, c));
      b.classes.push_back(l.row_classes[r]);
    }
    out.push_back(std::move(b));
  };
  const auto f32s = [](const std::vector<float>& v) {
    std::vector<std::uint32_t> u(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) u[i] = f32_bits(v[i]);
    return io::npy::make_array("<u4", u);
  };
  const auto weak_index = [&](std::size_t c) {  // outlieridx: the index itself, the layer's class
    WeakGenBuffer b{"outlieridx", array("<i4", std::vector<std::int32_t>(l.weak)), {}, {}};
    for (std::size_t i = 0; i < c; ++i) {
      b.inputs.push_back(static_cast<std::uint32_t>(l.weak[i]));
      b.classes.push_back(static_cast<std::uint8_t>(l.cls));
    }
    out.push_back(std::move(b));
  };
  const std::vector<std::uint8_t> codes = ref::weak_codes(wq);
  using P = std::pair<std::size_t, std::size_t>;
  if (layout == weak::Layout::qeft) {
    const qeft::Packed p = ref::qeft_pack(wq);
    const std::size_t G = p.group, ng = ic / G;
    add("qweight", array("<i2", p.qweight), p.qweight.size(), [&](std::size_t i) {  // [R][64b + 16r + j]: nibble 0
      const std::size_t R = i / ic, x = i % ic, b = x / 64, r = x % 64 / 16, j = x % 16;
      return P{4 * R + r, static_cast<std::size_t>(wq.perm[64 * b + 32 * (j / 8) + j % 8])};
    });
    const auto group_first = [&](std::size_t i) { return P{i % oc, static_cast<std::size_t>(wq.perm[i / oc * G])}; };
    add("scales", array("<u2", p.scales), ng * oc, group_first);
    add("scaled_zeros", array("<u2", p.scaled_zeros), ng * oc, group_first);
    add("oweight", array("<u2", p.oweight), oc * k, [&](std::size_t i) { return P{i / k, static_cast<std::size_t>(l.weak[i % k])}; });
    add("oweight_interleaved", array("<u2", p.oweight_interleaved), oc * k, [&](std::size_t i) {  // [r][2c + h]
      const std::size_t r = i / (2 * k), c = i % (2 * k) / 2, h = i % 2;
      return P{8 * (r / 4) + r % 4 + 4 * h, static_cast<std::size_t>(l.weak[c])};
    });
    weak_index(k);
    const auto layout_elem = [&](std::size_t i) { return P{i / ic, static_cast<std::size_t>(wq.perm[i % ic])}; };
    add("codes", array("|u1", codes), oc * ic, layout_elem);
    out.push_back({"deq_gemv", f32s(ref::qeft_dequantize(p, qeft::Path::gemv)), {}, {}});
    out.push_back({"deq_nowc", f32s(ref::qeft_dequantize(p, qeft::Path::nowc)), {}, {}});
  } else {
    const owq::Packed p = ref::owq_pack(wq);
    add("qweight", array("<i4", p.qweight), p.qweight.size(), [&](std::size_t i) {  // [w][o]: the code at bit 32 w
      return P{i % oc, 32 * (i / oc) / static_cast<std::size_t>(q.bits)};
    });
    add("scales", array("<u2", p.scales), oc, [](std::size_t i) { return P{i, 0}; });
    add("zeros", array("|u1", p.zeros), oc / 2, [](std::size_t i) { return P{2 * i, 0}; });
    add("oweight", array("<u2", p.oweight), k * oc, [&](std::size_t i) { return P{i % oc, static_cast<std::size_t>(l.weak[i / oc])}; });
    weak_index(k);
    add("codes", array("|u1", codes), oc * ic, [&](std::size_t i) { return P{i / ic, i % ic}; });
    out.push_back({"deq_fp16", f32s(ref::owq_dequantize(p, owq::Path::fp16)), {}, {}});
    out.push_back({"deq_fp32", f32s(ref::owq_dequantize(p, owq::Path::fp32)), {}, {}});
    out.push_back({"deq_nowc", f32s(ref::owq_dequantize(p, owq::Path::nowc)), {}, {}});
  }
  return out;
}

GenSummary gen_weak(const WeakGenOptions& o, const std::string& dir) {
  const std::vector<WeakGenLayer> layers = weak_gen_layers(o);
  std::vector<std::uint32_t> shapes, inputs;
  std::vector<std::int32_t> weak;
  std::vector<std::uint8_t> classes;
  std::vector<WeakGenBuffer> all;  // per buffer name, the layers concatenated
  for (const WeakGenLayer& l : layers) {
    for (std::size_t v : {l.oc, l.ic, l.weak.size()}) shapes.push_back(static_cast<std::uint32_t>(v));
    for (std::size_t i = 0; i < l.w.size(); ++i) {
      inputs.push_back(f32_bits(l.w[i]));
      classes.push_back(l.row_classes[i / l.ic]);
    }
    weak.insert(weak.end(), l.weak.begin(), l.weak.end());
    std::vector<WeakGenBuffer> b = weak_gen_buffers(o.layout, o.quant, l);
    if (all.empty()) {
      all = std::move(b);
      continue;
    }
    for (std::size_t i = 0; i < b.size(); ++i) {
      all[i].expected.bytes.insert(all[i].expected.bytes.end(), b[i].expected.bytes.begin(), b[i].expected.bytes.end());
      all[i].inputs.insert(all[i].inputs.end(), b[i].inputs.begin(), b[i].inputs.end());
      all[i].classes.insert(all[i].classes.end(), b[i].classes.begin(), b[i].classes.end());
    }
  }
  GoldenWriter w(dir, o.container);
  w.put("layers", io::npy::make_array("<u4", shapes, {layers.size(), 3}), "oc, ic, k of each layer");
  w.put("inputs", io::npy::make_array("<u4", inputs), "f32 weights as bit patterns, oc x ic per layer, original column order");
  w.put("weak_idx", io::npy::make_array("<i4", weak), "weak columns of each layer, ascending original indices");
  w.put("classes", io::npy::make_array("|u1", classes), "case class index per weight (its row's)");
  const std::vector<std::string> names(std::begin(kWeakCaseClassNames), std::end(kWeakCaseClassNames));
  for (WeakGenBuffer& b : all) {
    const io::npy::DtypeInfo* d = io::npy::find_dtype(b.expected.descr);
    b.expected.shape = {b.expected.bytes.size() / d->size};
    const bool deq = b.name.rfind("deq_", 0) == 0, f16 = b.expected.descr == "<u2";
    const std::string in = deq ? "codes_inputs" : b.name + "_inputs", cls = deq ? "codes_classes" : b.name + "_classes";
    w.put("expected_" + b.name, std::move(b.expected),
          deq ? "dequantized weight of kernel path " + b.name.substr(4) + " (f32 bits, layout order)" : b.name + " buffer, layers concatenated");
    if (!deq) {
      w.put(in, io::npy::make_array("<u4", b.inputs), b.name == "outlieridx" ? "the weak index" : "f32 bits of the first weight the element holds");
      w.put(cls, io::npy::make_array("|u1", b.classes), "case class index per element");
    }
    const char* order = deq || f16 ? "sign-magnitude" : b.name == "outlieridx" ? "twos-complement" : "unsigned";
    const char* unit = deq ? "f32 ulps" : f16 ? "f16 ulps" : b.name == "codes" ? "codes" : b.name == "outlieridx" ? "indices" : "words";
    w.test({b.name, deq ? "packed -> f32 weight (" + b.name + ")" : "f32 weight -> " + b.name, in, "expected_" + b.name, cls, names,
            order, unit});
  }
  return w.write({
      {"kind", "weak"},
      {"format", std::string(name(o.layout))},
      {"bits", o.quant.bits},
      {"group", o.quant.group},
      {"sym", o.quant.sym},
      {"tuning", o.quant.tuning == weak::Tuning::mse ? "mse" : "minmax"},
      {"rounding", "rne"},  // of the results (f32) / the quantizer (torch.round): nearest, ties to even
      {"grid", o.quant.grid},
      {"rows", o.rows},
      {"cols", o.cols},
      {"weak", o.weak},
      {"layers", layers.size()},
      {"seed", o.seed},
      {"level", name(o.level)},
      {"random", o.level == Level::quick ? o.random : 0},
  });
}

}  // namespace lowbit::conformance
