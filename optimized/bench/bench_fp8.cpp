// FP8 benchmarks: every kernel of the table, the reference included, for every source and
// destination type, at 64 Ki (cache) and 16 Mi (memory) elements.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <bit>
#include <vector>

#include "bench.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/binary_float.hpp"

namespace {

using namespace lowbit;
using bench::kCache;
using bench::kMemory;
using bench::at;

// Values like weights or activations (a few beyond the E4M3 range), in each source type.
template <class T> std::vector<T> inputs(std::size_t n) {
  const std::vector<float> f = bench::normal_floats(n);
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = ref::convert_nearest<T>(f[i]);
  return v;
}

template <class In> void register_encode(const fp8::Impl& impl, fp8::Format f) {
  const fp8::EncodeParams p = fp8::encode_params(f, fp8::default_profile(), FloatTraits<In>::type);
  auto run = [impl, p](benchmark::State& s) {
    const std::size_t n = s.range(0);
    const std::vector<In> in = inputs<In>(n);
    std::vector<std::uint8_t> out(n);
    for (auto _ : s) {
      fp8::encode_kernel<In>(impl)(n, in.data(), out.data(), &p);
      benchmark::DoNotOptimize(out.data());
    }
    s.SetItemsProcessed(s.iterations() * n);
    s.SetBytesProcessed(s.iterations() * n * sizeof(In));  // input bytes
  };
  const std::string name = fmt::format("BM_encode_{}_{}_{}", lowbit::name(FloatTraits<In>::type), traits(f).name, impl.name);
  benchmark::RegisterBenchmark(name.c_str(), run)->Arg(kCache)->Arg(kMemory);
}

template <class Out> void register_decode(const fp8::Impl& impl, fp8::Format f) {
  const fp8::DecodeParams p = fp8::decode_params(f, fp8::default_profile());
  auto run = [impl, f, p](benchmark::State& s) {
    const std::size_t n = s.range(0);
    const std::vector<float> values = inputs<float>(n);
    std::vector<std::uint8_t> codes(n);
    const fp8::EncodeParams ep = fp8::encode_params(f, fp8::default_profile(), FloatType::f32);
    fp8::encode_kernel<float>(impl)(n, values.data(), codes.data(), &ep);
    std::vector<Out> out(n);
    for (auto _ : s) {
      fp8::decode_kernel<Out>(impl)(n, codes.data(), out.data(), &p);
      benchmark::DoNotOptimize(out.data());
    }
    s.SetItemsProcessed(s.iterations() * n);
    s.SetBytesProcessed(s.iterations() * n * sizeof(Out));  // output bytes
  };
  const std::string name = fmt::format("BM_decode_{}_{}_{}", traits(f).name, lowbit::name(FloatTraits<Out>::type), impl.name);
  benchmark::RegisterBenchmark(name.c_str(), run)->Arg(kCache)->Arg(kMemory);
}

void register_fp8() {
  for (const fp8::Impl& impl : kernels::list<fp8::Impl>()) {
    if (!kernels::available(impl)) continue;
    for (fp8::Format f : fp8::kFormats) {
      register_encode<float>(impl, f);
      register_encode<double>(impl, f);
      register_encode<f16>(impl, f);
      register_encode<bf16>(impl, f);
      register_decode<float>(impl, f);
      register_decode<f16>(impl, f);
      register_decode<bf16>(impl, f);
      if (std::string_view(impl.name) == "reference") continue;
      const std::string fn(traits(f).name), enc = fmt::format("BM_encode_f32_{}_", fn), dec = fmt::format("BM_decode_{}_f32_", fn);
      bench::targets().push_back({fmt::format("encode f32->{} {} 16Mi vs memcpy", fn, impl.name), at(enc + impl.name, kMemory), at("BM_memcpy", kMemory), 0.8});
      bench::targets().push_back({fmt::format("encode f32->{} {} 64Ki vs reference", fn, impl.name), at(enc + impl.name, kCache), at(enc + "reference", kCache), 10});
      bench::targets().push_back({fmt::format("decode {}->f32 {} 16Mi vs memcpy", fn, impl.name), at(dec + impl.name, kMemory), at("BM_memcpy", kMemory), 0.8});
      bench::targets().push_back({fmt::format("decode {}->f32 {} 64Ki vs reference", fn, impl.name), at(dec + impl.name, kCache), at(dec + "reference", kCache), 10});
    }
  }
}

const bool registered = (register_fp8(), true);

}  // namespace
