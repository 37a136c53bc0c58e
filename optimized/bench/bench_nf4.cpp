// NF4 benchmarks: every kernel of the table, the reference included, and the public nf4::encode /
// nf4::decode, encoding f32 to NF4 (blocks of 64, lowbit profile) and decoding it back to f32, at
// 64 Ki (cache) and 16 Mi (memory) elements; double quantization of an absmax array per profile.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <vector>

#include "bench.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/nf4.hpp"
#include "lowbit/reference/nf4.hpp"

namespace {

using namespace lowbit;
using bench::kCache;
using bench::kMemory;
using bench::at;

const nf4::Params kParams = nf4::make_params(nf4::Table::nf4, nf4::default_profile(), 64);

std::string encode_name(std::string_view impl) { return fmt::format("BM_nf4_encode_f32_{}", impl); }
std::string decode_name(std::string_view impl) { return fmt::format("BM_nf4_decode_f32_{}", impl); }

// What a step works on: values, their packed codes and absmax, an output.
struct Buffers {
  std::vector<float> values, out;
  nf4::Encoded e;
  explicit Buffers(std::size_t n) : values(bench::normal_floats(n)), out(n), e(nf4::encode(std::span<const float>(values))) {}
};

void register_nf4(const nf4::Impl& impl) {
  bench::stream(encode_name(impl.name), sizeof(float), [&impl](std::size_t n) {  // input bytes
    return [&impl, n, b = Buffers(n)]() mutable { impl.encode(n, b.values.data(), b.e.packed.data(), b.e.absmax.data(), &kParams); };
  });
  bench::stream(decode_name(impl.name), sizeof(float), [&impl](std::size_t n) {  // output bytes
    return [&impl, n, b = Buffers(n)]() mutable { impl.decode(n, b.e.packed.data(), b.e.absmax.data(), b.out.data(), &kParams); };
  });
  if (std::string_view(impl.name) == "reference") return;
  auto& t = bench::targets();
  t.push_back({fmt::format("nf4 encode f32 b64 {} 16Mi vs memcpy", impl.name), at(encode_name(impl.name), kMemory), at("BM_memcpy", kMemory), 0.6});
  t.push_back({fmt::format("nf4 encode f32 b64 {} 64Ki vs reference", impl.name), at(encode_name(impl.name), kCache),
               at(encode_name("reference"), kCache), 5.0});
  t.push_back({fmt::format("nf4 decode f32 b64 {} 16Mi vs memcpy", impl.name), at(decode_name(impl.name), kMemory), at("BM_memcpy", kMemory), 0.8});
}

void register_api() {
  bench::api_codec(
      "nf4 b64 f32", encode_name, decode_name, kernels::best<nf4::Impl>().name, sizeof(float),
      [](std::size_t n) {
        return [b = Buffers(n)]() mutable { nf4::encode(std::span<const float>(b.values), std::span(b.e.packed), std::span(b.e.absmax)); };
      },
      [](std::size_t n) { return [b = Buffers(n)]() mutable { nf4::decode(b.e.packed, b.e.absmax, std::span(b.out)); }; });
}

// nf4::double_quantize of the 64 Ki absmax of a 4 Mi-element encode (items: absmax values) with the
// lowbit and bnb-cpu profiles, and the lowbit profile's reference (what the public call ran before
// it had its own search: a multiprecision one, on 1 Ki values).
std::string double_quantize_name(std::string_view what) { return fmt::format("BM_nf4_double_quantize_{}", what); }

void register_double_quantize() {
  const auto add = [](std::string_view what, std::int64_t n, auto run) {
    benchmark::RegisterBenchmark(double_quantize_name(what).c_str(), [run](benchmark::State& s) {
      const std::vector<float> absmax = nf4::encode(std::span<const float>(bench::normal_floats(64 * s.range(0)))).absmax;
      for (auto _ : s) benchmark::DoNotOptimize(run(absmax));
      s.SetItemsProcessed(s.iterations() * s.range(0));
    })->Arg(n);
  };
  for (const char* p : {"lowbit", "bnb-cpu"})
    add(p, kCache, [o = nf4::Options{.profile = nf4::profile(p)}](const std::vector<float>& a) { return nf4::double_quantize(a, o); });
  add("lowbit_reference", 1 << 10,
      [](const std::vector<float>& a) { return ref::nf4_double_quantize(a, nf4::Nested::exact_nearest_even, nf4::dynamic_map()); });
  bench::targets().push_back({"nf4 double quantize lowbit vs bnb-cpu (64Ki absmax)", at(double_quantize_name("lowbit"), kCache),
                              at(double_quantize_name("bnb-cpu"), kCache), 1.0});
}

const bool registered = [] {
  for (const nf4::Impl& impl : kernels::list<nf4::Impl>())
    if (kernels::available(impl)) register_nf4(impl);
  register_api();
  register_double_quantize();
  return true;
}();

}  // namespace
