// QEFT matvec benchmarks: y = W x on a packed layer of OC = IC = N (4-bit groups of 128 columns,
// k = 128 fp16 weak columns), for every kernel of the table (the reference at N = 1024, each SIMD
// kernel at N = 4096), and two baselines over the same layer:
//   BM_qeft_stream_read/N  a streaming read (sum of 64-bit words) of as many bytes as the packed
//                          buffers hold (qweight + scales + scaled_zeros + oweight): the speed a
//                          memory-bound kernel can reach;
//   BM_qeft_dequant_f32_matvec/N  the unfused way: each call dequantizes every row from the packed
//                          buffers to f32 (a 16-entry table per group, a nibble lookup per weight)
//                          and then runs a plain 8-lane f32 dot product (mul + add, default compiler
//                          flags; a speed baseline, not bit-exact).
// BM_qeft_matvec_api/N is qeft::matvec (the public call, which runs the best kernel) on the same layer.
// One 4096 x 4096 layer is 9.5 MiB and stays in this machine's L3 between iterations, so those
// rates are L3 rates. The `_layers/16` pair runs the same over 16 copies of the layer (152 MiB, one
// copy per iteration, in turn): each call then reads from DRAM, as when a model's layers stream by.
// Bytes/s count the packed bytes. The layer is a realistic RTN one: scales fp16 in [0.002, 0.02],
// scaled_zeros -fp16(zero * scale) for an integer zero point 0..15, random codes, fp16 weak columns.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "bench.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/qeft.hpp"
#include "lowbit/reference/weak.hpp"

namespace {

using namespace lowbit;
using bench::at;

constexpr std::int64_t kLarge = 4096, kSmall = 1024;  // N: SIMD kernels / the reference
constexpr std::size_t kWeak = 128, kGroup = 128;

struct Layer {
  std::size_t n;
  std::vector<std::int16_t> qweight;
  std::vector<std::uint16_t> scales, scaled_zeros, oweight;
  std::vector<float> x;
  qeft::Matrix view() const { return {n, n, kWeak, kGroup, qweight.data(), scales.data(), scaled_zeros.data(), oweight.data()}; }
  std::size_t bytes() const {
    return qweight.size() * 2 + scales.size() * 2 + scaled_zeros.size() * 2 + oweight.size() * 2;
  }
};

const Layer& layer(std::size_t n) {
  static std::vector<std::unique_ptr<Layer>> cache;
  for (const auto& l : cache)
    if (l->n == n) return *l;
  std::mt19937_64 rng(n);
  auto l = std::make_unique<Layer>();
  l->n = n;
  l->qweight.resize(n / 4 * n);
  for (auto& q : l->qweight) q = static_cast<std::int16_t>(rng());
  const std::size_t groups = n / kGroup;
  l->scales.resize(groups * n);
  l->scaled_zeros.resize(groups * n);
  std::uniform_real_distribution<float> scale(0.002f, 0.02f);
  for (std::size_t i = 0; i < groups * n; ++i) {
    const float s = ref::f16_to_f32(ref::f32_to_f16(scale(rng)));
    l->scales[i] = ref::f32_to_f16(s);
    l->scaled_zeros[i] = ref::f32_to_f16(static_cast<float>(rng() % 16) * s) ^ 0x8000;
  }
  std::normal_distribution<float> normal(0.0f, 0.05f);
  l->oweight.resize(n * kWeak);
  for (auto& w : l->oweight) w = ref::f32_to_f16(normal(rng));
  l->x = bench::normal_floats(n);
  cache.push_back(std::move(l));
  return *cache.back();
}

constexpr std::int64_t kLayers = 16;

const std::vector<Layer>& layer_copies() {
  static const std::vector<Layer> copies(kLayers, layer(kLarge));
  return copies;
}

std::uint64_t sum_words(const std::uint64_t* p, std::size_t words) {
  std::uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (std::size_t i = 0; i + 4 <= words; i += 4) {
    a0 += p[i];
    a1 += p[i + 1];
    a2 += p[i + 2];
    a3 += p[i + 3];
  }
  return a0 + a1 + a2 + a3;
}

void BM_qeft_stream_read(benchmark::State& s) {
  const Layer& l = layer(static_cast<std::size_t>(s.range(0)));
  const std::size_t words = l.bytes() / 8;
  std::vector<std::uint64_t> buf(words, 0x0101010101010101ull);
  for (auto _ : s) benchmark::DoNotOptimize(sum_words(buf.data(), words));
  s.SetBytesProcessed(s.iterations() * static_cast<std::int64_t>(words * 8));
}
BENCHMARK(BM_qeft_stream_read)->Arg(kLarge);

void BM_qeft_stream_read_layers(benchmark::State& s) {  // one layer's bytes an iteration, from DRAM
  const std::size_t words = layer(kLarge).bytes() / 8, count = static_cast<std::size_t>(s.range(0));
  std::vector<std::uint64_t> buf(words * count, 0x0101010101010101ull);
  std::size_t i = 0;
  for (auto _ : s) {
    benchmark::DoNotOptimize(sum_words(buf.data() + i * words, words));
    i = (i + 1) % count;
  }
  s.SetBytesProcessed(s.iterations() * static_cast<std::int64_t>(words * 8));
}
BENCHMARK(BM_qeft_stream_read_layers)->Arg(kLayers);

// binary16 rounding (ties to even) of a value in binary16's normal range, and binary16 -> f32 for
// finite values: the speed baseline's own helpers (the realistic layer has nothing else).
float round_f16(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, 4);
  b = (b + 0xFFFu + ((b >> 13) & 1u)) & ~0x1FFFu;
  std::memcpy(&v, &b, 4);
  return v;
}
float f16_value(std::uint16_t h) {
  const std::uint32_t e = (h >> 10) & 31u, m = h & 1023u;
  const float mag = e ? std::ldexp(static_cast<float>(m | 1024u), static_cast<int>(e) - 25)
                      : std::ldexp(static_cast<float>(m), -24);
  return h & 0x8000 ? -mag : mag;
}

void BM_qeft_dequant_f32_matvec(benchmark::State& s) {
  const Layer& l = layer(static_cast<std::size_t>(s.range(0)));
  const std::size_t n = l.n, nonweak = n - kWeak;
  std::vector<float> y(n), row(n);
  for (auto _ : s) {
    for (std::size_t o = 0; o < n; ++o) {
      // Dequantize row o from the packed buffers: a 16-entry f32 table per group, a nibble per code.
      const std::int16_t* q = l.qweight.data() + o / 4 * n + 16 * (o % 4);
      for (std::size_t g = 0; g < n / kGroup; ++g) {
        const float sc = f16_value(l.scales[g * n + o]), z = f16_value(l.scaled_zeros[g * n + o]);
        float table[16];
        for (int c = 0; c < 16; ++c) table[c] = round_f16(static_cast<float>(c) * sc + z);
        const std::size_t end = std::min((g + 1) * kGroup, nonweak);
        for (std::size_t j = g * kGroup; j < end; ++j) {
          const auto word = static_cast<std::uint16_t>(q[j / 64 * 64 + (j % 64) / 32 * 8 + j % 8]);
          row[j] = table[(word >> (4 * ((j % 32) / 8))) & 15u];
        }
      }
      for (std::size_t j = nonweak; j < n; ++j) row[j] = f16_value(l.oweight[o * kWeak + j - nonweak]);
      // A plain f32 dot product in 8 lanes.
      float a[8] = {};
      for (std::size_t j = 0; j < n; j += 8)
        for (int t = 0; t < 8; ++t) a[t] += row[j + t] * l.x[j + t];
      y[o] = ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
    }
    benchmark::DoNotOptimize(y.data());
  }
  s.SetBytesProcessed(s.iterations() * static_cast<std::int64_t>(l.bytes()));
}
BENCHMARK(BM_qeft_dequant_f32_matvec)->Arg(kLarge);

void register_qeft(const qeft::Impl& impl) {
  const bool reference = std::string_view(impl.name) == "reference";
  const std::string name = fmt::format("BM_qeft_matvec_{}", impl.name);
  benchmark::RegisterBenchmark(name.c_str(), [impl](benchmark::State& s) {
    const Layer& l = layer(static_cast<std::size_t>(s.range(0)));
    const qeft::Matrix w = l.view();
    std::vector<float> y(l.n);
    for (auto _ : s) {
      impl.matvec(&w, l.x.data(), y.data());
      benchmark::DoNotOptimize(y.data());
    }
    s.SetItemsProcessed(s.iterations() * static_cast<std::int64_t>(l.n * l.n));  // multiply-adds
    s.SetBytesProcessed(s.iterations() * static_cast<std::int64_t>(l.bytes()));
  })->Arg(reference ? kSmall : kLarge);
  if (reference) return;
  const std::string layers = fmt::format("BM_qeft_matvec_{}_layers", impl.name);
  benchmark::RegisterBenchmark(layers.c_str(), [impl](benchmark::State& s) {
    const std::vector<Layer>& copies = layer_copies();
    std::vector<float> y(kLarge);
    std::size_t i = 0;
    for (auto _ : s) {
      const qeft::Matrix w = copies[i].view();
      impl.matvec(&w, copies[i].x.data(), y.data());
      benchmark::DoNotOptimize(y.data());
      i = (i + 1) % copies.size();
    }
    s.SetItemsProcessed(s.iterations() * kLarge * kLarge);
    s.SetBytesProcessed(s.iterations() * static_cast<std::int64_t>(copies[0].bytes()));
  })->Arg(kLayers);
  auto& t = bench::targets();
  t.push_back({fmt::format("qeft matvec 4096x4096 k128 g128 {} vs streaming read", impl.name), at(name, kLarge),
               at("BM_qeft_stream_read", kLarge), 0.7});
  t.push_back({fmt::format("qeft matvec 4096x4096 k128 g128 {} vs dequant + f32 matvec", impl.name), at(name, kLarge),
               at("BM_qeft_dequant_f32_matvec", kLarge), 1.0});
  t.push_back({fmt::format("qeft matvec {} 16 layers (DRAM) vs streaming read", impl.name), at(layers, kLayers),
               at("BM_qeft_stream_read_layers", kLayers), 0.7});
}

// qeft::matvec as users call it, on the same layer.
void BM_qeft_matvec_api(benchmark::State& s) {
  const Layer& l = layer(static_cast<std::size_t>(s.range(0)));
  const qeft::Matrix w = l.view();
  std::vector<float> y(l.n);
  for (auto _ : s) {
    qeft::matvec(w, l.x, y);
    benchmark::DoNotOptimize(y.data());
  }
  s.SetItemsProcessed(s.iterations() * static_cast<std::int64_t>(l.n * l.n));
  s.SetBytesProcessed(s.iterations() * static_cast<std::int64_t>(l.bytes()));
}
BENCHMARK(BM_qeft_matvec_api)->Arg(kLarge);

const bool registered = [] {
  for (const qeft::Impl& impl : kernels::list<qeft::Impl>())
    if (kernels::available(impl)) register_qeft(impl);
  const std::string best = kernels::best<qeft::Impl>().name;
  if (best != "reference")  // the reference runs at kSmall only
    bench::api_target("qeft matvec 4096x4096", "BM_qeft_matvec_api", fmt::format("BM_qeft_matvec_{}", best), kLarge);
  return true;
}();

}  // namespace
