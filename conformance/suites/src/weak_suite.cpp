#include "lowbit/conformance/weak_suite.hpp"

#include <fmt/format.h>

#include <cmath>
#include <random>

#include "lowbit/reference/weak.hpp"

namespace lowbit::conformance {

WeakGolden::WeakGolden(const GoldenDir& dir, weak::Layout layout) : dir_(dir), folder_(std::string(name(layout))) {
  for (const std::vector<std::string>& f : dir_.tsv(folder_ + "/manifest.tsv")) {
    if (f.size() != 6) throw std::runtime_error(fmt::format("{}/manifest.tsv: a row has {} fields, not 6", folder_, f.size()));
    entries_[f[1]] = {f[1], f[2], f[3], f[5], std::stoul(f[4])};
    // file = <case>.<quantity>.<dtype>
    const std::string quantity = f[1].substr(f[0].size() + 1, f[1].size() - f[0].size() - f[2].size() - 2);
    by_quantity_[f[0] + "/" + quantity] = f[1];
    if (quantity != "w") continue;
    WeakGoldenCase c;
    c.name = f[0];
    c.layout = layout;
    c.options.tuning = weak::Tuning::minmax;
    c.options.bits = layout == weak::Layout::qeft ? 4 : (c.name.rfind("o3_", 0) == 0 ? 3 : 4);
    c.options.group = layout == weak::Layout::qeft ? 128 : 0;
    const std::size_t x = f[3].find('x');
    c.oc = std::stoul(f[3].substr(0, x));
    c.ic = std::stoul(f[3].substr(x + 1));
    cases_.push_back(c);
  }
  for (WeakGoldenCase& c : cases_)
    if (has(c.name, "weak_idx")) c.k = entry(c.name, "weak_idx").bytes / 4;
}

bool WeakGolden::has(const std::string& c, const std::string& quantity) const {
  return by_quantity_.count(c + "/" + quantity) != 0;
}

const WeakGolden::Entry& WeakGolden::entry(const std::string& c, const std::string& quantity) const {
  const auto it = by_quantity_.find(c + "/" + quantity);
  if (it == by_quantity_.end()) throw std::runtime_error(fmt::format("golden {}: no {} for case {}", folder_, quantity, c));
  return entries_.at(it->second);
}

template <class T> std::vector<T> WeakGolden::read(const std::string& c, const std::string& quantity) const {
  const Entry& e = entry(c, quantity);
  std::vector<T> v = dir_.array<T>(folder_ + "/" + e.file);
  if (v.size() * sizeof(T) != e.bytes) throw std::runtime_error(fmt::format("golden {}: {} has the wrong size", folder_, e.file));
  return v;
}
template std::vector<float> WeakGolden::read(const std::string&, const std::string&) const;
template std::vector<std::uint16_t> WeakGolden::read(const std::string&, const std::string&) const;
template std::vector<std::int16_t> WeakGolden::read(const std::string&, const std::string&) const;
template std::vector<std::int32_t> WeakGolden::read(const std::string&, const std::string&) const;
template std::vector<std::uint8_t> WeakGolden::read(const std::string&, const std::string&) const;

RandomQeft random_qeft(std::uint64_t seed, std::size_t oc, std::size_t ic, std::size_t k, std::size_t group) {
  std::mt19937_64 rng(seed);
  RandomQeft r{oc, ic, k, group, {}, {}, {}, {}};
  r.qweight.resize(oc / 4 * ic);
  for (auto& w : r.qweight) w = static_cast<std::int16_t>(rng());
  // binary16 magnitudes from 2^-24 (subnormal) to about 2^8, either sign.
  const auto f16 = [&](bool any_sign) {
    const unsigned exp = static_cast<unsigned>(rng() % 24), man = static_cast<unsigned>(rng() % 1024);
    const unsigned sign = any_sign && (rng() & 1) ? 0x8000u : 0u;
    return static_cast<std::uint16_t>(sign | exp << 10 | man);
  };
  const std::size_t groups = ic / group;
  r.scales.resize(groups * oc);
  r.scaled_zeros.resize(groups * oc);
  for (auto& s : r.scales) s = f16(false);
  for (auto& z : r.scaled_zeros) z = f16(true);
  r.oweight.resize(oc * k);
  for (auto& w : r.oweight) w = f16(true);
  return r;
}

std::vector<float> random_activations(std::uint64_t seed, std::size_t n) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = std::ldexp(normal(rng), static_cast<int>(rng() % 9) - 4);
  return x;
}

namespace {

bool is_reference(const qeft::Impl& impl) { return impl.matvec == kernels::qeft_reference.matvec; }

// y = W x in the order of formats/weak.hpp, from a dequantized weight (oc x ic).
std::vector<float> lane_order_matvec(const std::vector<float>& w, const std::vector<float>& x, std::size_t oc, std::size_t ic) {
  std::vector<float> y(oc);
  for (std::size_t o = 0; o < oc; ++o) {
    float a[8] = {};
    for (std::size_t j = 0; j < ic; ++j) a[j % 8] = std::fma(w[o * ic + j], x[j], a[j % 8]);
    y[o] = ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
  }
  return y;
}

qeft::Packed golden_qeft(const WeakGolden& g, const WeakGoldenCase& c) {
  qeft::Packed p;
  p.oc = c.oc;
  p.ic = c.ic;
  p.k = c.k;
  p.group = weak::group_columns(c.ic, c.options.group);
  p.qweight = g.read<std::int16_t>(c.name, "qweight");
  p.scales = g.read<std::uint16_t>(c.name, "scales");
  p.scaled_zeros = g.read<std::uint16_t>(c.name, "scaled_zeros");
  if (c.k) {
    p.oweight = g.read<std::uint16_t>(c.name, "oweight");
    p.oweight_interleaved = g.read<std::uint16_t>(c.name, "oweight_interleaved");
    p.outlieridx = g.read<std::int32_t>(c.name, "outlieridx");
  }
  return p;
}

owq::Packed golden_owq(const WeakGolden& g, const WeakGoldenCase& c) {
  owq::Packed p;
  p.oc = c.oc;
  p.ic = c.ic;
  p.k = c.k;
  p.bits = c.options.bits;
  p.qweight = g.read<std::int32_t>(c.name, "qweight");
  p.scales = g.read<std::uint16_t>(c.name, "scales");
  p.zeros = g.read<std::uint8_t>(c.name, "zeros");
  if (c.k) {
    p.oweight = g.read<std::uint16_t>(c.name, "oweight");
    p.outlieridx = g.read<std::int32_t>(c.name, "outlieridx");
  }
  return p;
}

ref::WeakQuantized quantize_case(const WeakGolden& g, const WeakGoldenCase& c) {
  const std::vector<std::int32_t> weak = c.k ? g.read<std::int32_t>(c.name, "weak_idx") : std::vector<std::int32_t>{};
  return ref::weak_quantize(c.layout, g.read<float>(c.name, "w"), c.oc, c.ic, weak, c.options);
}

// The quantizer state, row-major oc x groups as the golden files hold it.
void compare_quantizer(Check& c, const std::string& n, const ref::WeakQuantized& q, const WeakGolden& g, std::size_t e) {
  compare_bits(c, n + " qscale", q.scale, g.read<float>(n, "qscale"), e);
  compare_bits(c, n + " qzero", q.zero, g.read<float>(n, "qzero"), e);
  compare_bits(c, n + " fakeq", q.fakeq, g.read<float>(n, "fakeq"), e);
  compare_bits(c, n + " codes", ref::weak_codes(q), g.read<std::uint8_t>(n, "codes"), e);
}

void qeft_checks(std::vector<Check>& out, const GoldenDir& golden, const BlockSuiteOptions& o) {
  const WeakGolden g(golden, weak::Layout::qeft);
  out.push_back({"reference", "qeft", "xvyaward/qeft", "quantize + pack -> golden buffers"});
  Check& pack = out.back();
  for (const WeakGoldenCase& c : g.cases()) {
    const ref::WeakQuantized q = quantize_case(g, c);
    compare_quantizer(pack, c.name, q, g, o.max_errors);
    const qeft::Packed p = ref::qeft_pack(q), want = golden_qeft(g, c);
    if (c.k) compare_bits(pack, c.name + " perm", q.perm, g.read<std::int32_t>(c.name, "perm"), o.max_errors);
    compare_bits(pack, c.name + " qweight", p.qweight, want.qweight, o.max_errors);
    compare_bits(pack, c.name + " scales", p.scales, want.scales, o.max_errors);
    compare_bits(pack, c.name + " scaled_zeros", p.scaled_zeros, want.scaled_zeros, o.max_errors);
    compare_bits(pack, c.name + " oweight", p.oweight, want.oweight, o.max_errors);
    compare_bits(pack, c.name + " oweight_interleaved", p.oweight_interleaved, want.oweight_interleaved, o.max_errors);
    compare_bits(pack, c.name + " outlieridx", p.outlieridx, want.outlieridx, o.max_errors);
  }
  out.push_back({"reference", "qeft", "xvyaward/qeft", "unpack -> golden codes and weights"});
  Check& unpack = out.back();
  for (const WeakGoldenCase& c : g.cases()) {
    const qeft::Packed p = golden_qeft(g, c);
    const std::vector<std::uint8_t> codes = ref::qeft_unpack_codes(p.qweight, c.oc, c.ic);
    compare_bits(unpack, c.name + " codes", codes, g.read<std::uint8_t>(c.name, "codes"), o.max_errors);
    compare_bits(unpack, c.name + " repacked qweight", ref::qeft_pack_codes(codes, c.oc, c.ic), p.qweight, o.max_errors);
    compare_bits(unpack, c.name + " deq (gemv)", ref::qeft_dequantize(p, qeft::Path::gemv), g.read<float>(c.name, "deq"), o.max_errors);
    compare_bits(unpack, c.name + " deq_nowc", ref::qeft_dequantize(p, qeft::Path::nowc), g.read<float>(c.name, "deq_nowc"), o.max_errors);
  }
}

void owq_checks(std::vector<Check>& out, const GoldenDir& golden, const BlockSuiteOptions& o) {
  const WeakGolden g(golden, weak::Layout::owq);
  out.push_back({"reference", "owq", "xvyaward/owq", "quantize + pack -> golden buffers"});
  Check& pack = out.back();
  for (const WeakGoldenCase& c : g.cases()) {
    const ref::WeakQuantized q = quantize_case(g, c);
    compare_quantizer(pack, c.name, q, g, o.max_errors);
    const owq::Packed p = ref::owq_pack(q), want = golden_owq(g, c);
    compare_bits(pack, c.name + " qweight", p.qweight, want.qweight, o.max_errors);
    compare_bits(pack, c.name + " scales", p.scales, want.scales, o.max_errors);
    compare_bits(pack, c.name + " zeros", p.zeros, want.zeros, o.max_errors);
    compare_bits(pack, c.name + " oweight", p.oweight, want.oweight, o.max_errors);
    compare_bits(pack, c.name + " outlieridx", p.outlieridx, want.outlieridx, o.max_errors);
  }
  out.push_back({"reference", "owq", "xvyaward/owq", "unpack -> golden codes and weights"});
  Check& unpack = out.back();
  for (const WeakGoldenCase& c : g.cases()) {
    const owq::Packed p = golden_owq(g, c);
    const std::vector<std::uint8_t> codes = ref::owq_unpack_codes(p.qweight, c.oc, c.ic, p.bits);
    compare_bits(unpack, c.name + " codes", codes, g.read<std::uint8_t>(c.name, "codes"), o.max_errors);
    compare_bits(unpack, c.name + " repacked qweight", ref::owq_pack_codes(codes, c.oc, c.ic, p.bits), p.qweight, o.max_errors);
    compare_bits(unpack, c.name + " deq (fp16)", ref::owq_dequantize(p, owq::Path::fp16), g.read<float>(c.name, "deq"), o.max_errors);
    compare_bits(unpack, c.name + " deq_fp32k", ref::owq_dequantize(p, owq::Path::fp32), g.read<float>(c.name, "deq_fp32k"), o.max_errors);
    compare_bits(unpack, c.name + " deq_nowc", ref::owq_dequantize(p, owq::Path::nowc), g.read<float>(c.name, "deq_nowc"), o.max_errors);
  }
}

}  // namespace

std::vector<Check> run_weak_suite(const qeft::Impl& impl, const GoldenDir& golden, const BlockSuiteOptions& o) {
  std::vector<Check> out;
  if (is_reference(impl)) {
    qeft_checks(out, golden, o);
    owq_checks(out, golden, o);
  }
  // The matvec on every golden layer equals the documented fp32 sum of the golden weights.
  const WeakGolden g(golden, weak::Layout::qeft);
  run_check(out, {impl.name, "qeft", "matvec", "golden layers -> lane-order sum of golden deq"}, [&](Check& mv) {
    for (const WeakGoldenCase& c : g.cases()) {
      const qeft::Packed p = golden_qeft(g, c);
      const qeft::Matrix w = p.view();
      const std::vector<float> x = random_activations(o.seed + c.ic, c.ic);
      std::vector<float> y(c.oc);
      impl.matvec(&w, x.data(), y.data());
      compare_bits(mv, c.name + " y", y, lane_order_matvec(g.read<float>(c.name, "deq"), x, c.oc, c.ic), o.max_errors);
    }
  });
  if (is_reference(impl)) return out;
  // Random layers of every shape class against the reference.
  run_check(out, {impl.name, "qeft", "matvec", "random layers -> reference"}, [&](Check& rnd) {
    std::mt19937_64 rng(o.seed);
    for (int trial = 0; trial < o.groups / 40; ++trial) {
      const std::size_t oc = 8 * (1 + rng() % 6), ic = 64 * (1 + rng() % 6);
      std::vector<std::size_t> groups;
      for (std::size_t gsz = 32; gsz <= ic; gsz += 32)
        if (ic % gsz == 0) groups.push_back(gsz);
      const std::size_t group = groups[rng() % groups.size()], k = trial % 4 == 0 ? 0 : rng() % ic;
      const RandomQeft r = random_qeft(rng(), oc, ic, k, group);
      const qeft::Matrix w = r.view();
      const std::vector<float> x = random_activations(rng(), ic);
      std::vector<float> y(oc), want(oc);
      impl.matvec(&w, x.data(), y.data());
      ref::qeft_matvec_ref(&w, x.data(), want.data());
      compare_bits(rnd, fmt::format("{}x{} k {} group {} y", oc, ic, k, group), y, want, o.max_errors);
    }
  });
  return out;
}

}  // namespace lowbit::conformance
