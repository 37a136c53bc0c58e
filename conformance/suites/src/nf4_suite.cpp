#include "lowbit/conformance/nf4_suite.hpp"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <random>

#include "lowbit/reference/nf4.hpp"

namespace lowbit::conformance {

Nf4Manifest::Nf4Manifest(const GoldenDir& dir) : dir_(dir) {
  for (const std::vector<std::string>& f : dir_.tsv("nf4/manifest.tsv")) {
    if (f.size() != 8) continue;
    entries_[f[0] + "/" + f[1] + "/" + f[2]] = {f[3], f[4], f[7], std::stoul(f[5]), std::stoul(f[6])};
    if (f[2] == "in.f32") cases_.push_back(f[0]);
  }
}

bool Nf4Manifest::has(const std::string& c, const std::string& sem, const std::string& q) const {
  return entries_.count(c + "/" + sem + "/" + q) != 0;
}
std::vector<std::uint8_t> Nf4Manifest::u8(const std::string& c, const std::string& sem, const std::string& q) const {
  return dir_.bytes("nf4/" + entries_.at(c + "/" + sem + "/" + q).file);
}
std::vector<std::uint32_t> Nf4Manifest::f32(const std::string& c, const std::string& sem, const std::string& q) const {
  return dir_.array<std::uint32_t>("nf4/" + entries_.at(c + "/" + sem + "/" + q).file);
}

namespace {

std::vector<float> floats(const std::vector<std::uint32_t>& b) {
  std::vector<float> v(b.size());
  if (!b.empty()) std::memcpy(v.data(), b.data(), b.size() * 4);
  return v;
}
bool is_reference(const nf4::Impl& impl) {
  return impl.encode == kernels::nf4_reference.encode && impl.decode == kernels::nf4_reference.decode;
}

}  // namespace

std::vector<Check> run_nf4_suite(const nf4::Impl& impl, const GoldenDir& golden, const BlockSuiteOptions& o) {
  std::vector<Check> out;
  const Nf4Manifest m(golden);
  for (const auto& semantics : kNf4GoldenSemantics) {
    const auto sem = semantics.first;  // clang 14 cannot capture a structured binding
    const auto profile_name = semantics.second;
    const nf4::Profile& profile = *nf4::find_profile(profile_name);
    if (!o.has_profile(profile.name)) continue;
    const nf4::Params p = nf4::make_params(nf4::Table::nf4, profile, nf4::kDefaultBlock);
    run_check(out, {impl.name, "nf4", std::string(profile.name), fmt::format("every case -> golden {}", sem)}, [&](Check& c) {
      for (const std::string& name : m.cases()) {
        if (!m.has(name, sem, "nf4.u8")) continue;
        const std::vector<float> in = floats(m.f32(name, "*", "in.f32"));
        std::vector<std::uint8_t> packed(nf4::packed_bytes(in.size()));
        std::vector<float> absmax(nf4::blocks(in.size(), p.block));
        impl.encode(in.size(), in.data(), packed.data(), absmax.data(), &p);
        compare_bits(c, name + " codes", packed, m.u8(name, sem, "nf4.u8"), o.max_errors);
        if (m.has(name, sem, "absmax.f32")) compare_bits(c, name + " absmax", absmax, m.f32(name, sem, "absmax.f32"), o.max_errors);
        if (m.has(name, sem, "deq.f32") && m.has(name, sem, "absmax.f32")) {
          const std::vector<float> gold_absmax = floats(m.f32(name, sem, "absmax.f32"));
          std::vector<float> deq(in.size());
          impl.decode(in.size(), m.u8(name, sem, "nf4.u8").data(), gold_absmax.data(), deq.data(), &p);
          compare_bits(c, name + " dequantized", deq, m.f32(name, sem, "deq.f32"), o.max_errors);
        }
      }
    });
    if (!is_reference(impl)) continue;
    // Double quantization is scalar code shared by every implementation: checked once.
    out.push_back({impl.name, "nf4", std::string(profile.name), fmt::format("double quant -> golden {}", sem)});
    Check& d = out.back();
    nf4::DynamicMap map;
    const std::vector<float> golden_map = floats(m.f32("-", "-", "dynamic_map.f32"));
    std::copy(golden_map.begin(), golden_map.end(), map.begin());
    for (const std::string& name : m.cases()) {
      if (!m.has(name, sem, "dq.qabsmax.u8") || !m.has(name, "bnbcpu", "absmax.f32")) continue;
      const std::vector<float> absmax = floats(m.f32(name, "bnbcpu", "absmax.f32"));
      const nf4::DoubleQuantized dq = ref::nf4_double_quantize(absmax, profile.nested, map);
      compare_bits(d, name + " nested codes", dq.codes, m.u8(name, sem, "dq.qabsmax.u8"), o.max_errors);
      if (m.has(name, sem, "dq.nested_absmax.f32"))
        compare_bits(d, name + " nested absmax", dq.nested_absmax, m.f32(name, sem, "dq.nested_absmax.f32"), o.max_errors);
      if (m.has(name, sem, "dq.offset.f32")) compare_bits(d, name + " offset", std::vector<float>{dq.offset}, m.f32(name, sem, "dq.offset.f32"), o.max_errors);
      if (m.has(name, sem, "dq.absmax.f32")) {
        std::vector<float> back(absmax.size());
        ref::nf4_double_dequantize(dq.codes, dq.nested_absmax, dq.offset, map, back);
        compare_bits(d, name + " reconstructed absmax", back, m.f32(name, sem, "dq.absmax.f32"), o.max_errors);
      }
    }
  }
  if (is_reference(impl)) return out;
  // Every profile and table, many block sizes and lengths, against the reference.
  std::mt19937_64 rng(o.seed);
  for (const nf4::Profile& profile : nf4::kProfiles)
    for (nf4::Table table : {nf4::Table::nf4, nf4::Table::fp4}) {
      if (!o.has_profile(profile.name)) continue;
      run_check(out, {impl.name, std::string(name(table)), std::string(profile.name), "random streams -> reference"}, [&](Check& c) {
        for (int trial = 0; trial < o.groups / 20; ++trial) {
          const nf4::Params p = nf4::make_params(table, profile, 32 << (rng() % 8));
          const std::size_t n = rng() % (3 * static_cast<std::size_t>(p.block) + 2);
          std::vector<float> in(n);
          const int scale = static_cast<int>(rng() % 40) - 20;
          for (float& v : in) v = std::ldexp(static_cast<float>(static_cast<int>(rng() % 2001) - 1000) / 1000, scale);
          if (n > 3 && trial % 5 == 0) in[rng() % n] = trial % 10 ? NAN : INFINITY;
          std::vector<std::uint8_t> packed(nf4::packed_bytes(n)), want_packed(packed.size());
          std::vector<float> absmax(nf4::blocks(n, p.block)), want_absmax(absmax.size());
          impl.encode(n, in.data(), packed.data(), absmax.data(), &p);
          ref::nf4_quantize_ref(n, in.data(), want_packed.data(), want_absmax.data(), &p);
          std::vector<float> deq(n), want_deq(n);
          impl.decode(n, want_packed.data(), want_absmax.data(), deq.data(), &p);
          ref::nf4_dequantize_ref(n, want_packed.data(), want_absmax.data(), want_deq.data(), &p);
          const std::string what = fmt::format("block {} n {}", p.block, n);
          compare_bits(c, what + " codes", packed, want_packed, o.max_errors);
          compare_bits(c, what + " absmax", absmax, want_absmax, o.max_errors);
          compare_bits(c, what + " dequantized", deq, want_deq, o.max_errors);
        }
      });
    }
  return out;
}

}  // namespace lowbit::conformance
