// GSE-INT GEMM benchmarks: every GEMM kernel of the table on GSE-INT8 operands (8-bit codes,
// groups of 32, 5-bit exponents) of shape m=256, n=512, k=4096 (a 256-row slice of a 4096 x 4096
// layer), single thread, in both accumulation modes; the reference only at a small shape; the public
// gse::gemm (`api`) at both. Beside them a plain f32 GEMM of the same shape. Items are multiply-adds
// (m * n * k).
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "bench.hpp"
#include "lowbit/gse.hpp"
#include "lowbit/kernels.hpp"

namespace {

using namespace lowbit;

constexpr std::int64_t kM = 256, kN = 512, kK = 4096;
constexpr std::int64_t kSmallM = 8, kSmallN = 16, kSmallK = 1024;  // the reference's shape

gse::Format int8_g32() {
  gse::Format f;
  f.bits = 8;
  f.group = 32;
  f.exp_bits = 5;
  f.exp_bias = 15;
  return f;
}

// Activations (sigma 64) and weights (sigma 0.02), encoded once per shape.
struct Operands {
  std::vector<float> a, b;  // f32 originals, for the f32 GEMM
  std::vector<std::int8_t> a_codes, b_codes;
  std::vector<std::uint8_t> a_exps, b_exps;
};

const Operands& operands(std::size_t m, std::size_t n, std::size_t k) {
  static std::map<std::tuple<std::size_t, std::size_t, std::size_t>, Operands> cache;
  auto [it, fresh] = cache.try_emplace({m, n, k});
  Operands& o = it->second;
  if (!fresh) return o;
  const std::vector<float> values = bench::normal_floats(m * k + n * k);
  o.a.assign(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(m * k));
  o.b.assign(values.begin() + static_cast<std::ptrdiff_t>(m * k), values.end());
  for (float& x : o.b) x *= 0.02f / 64;
  const gse::Format f = int8_g32();
  o.a_codes.resize(m * k);
  o.b_codes.resize(n * k);
  o.a_exps.resize(m * f.groups(k));
  o.b_exps.resize(n * f.groups(k));
  gse::Options opt;
  opt.format = f;
  gse::encode_rows(m, k, o.a, o.a_codes, o.a_exps, opt);
  gse::encode_rows(n, k, o.b, o.b_codes, o.b_exps, opt);
  return o;
}

std::string gemm_name(gse::Accumulate mode, std::string_view impl) {
  return fmt::format("BM_gse_gemm_int8_g32_{}_{}", mode == gse::Accumulate::exact ? "exact" : "fp32", impl);
}

// impl: a kernel of the list, or null for gse::gemm (the public call, which runs the best kernel).
void register_gemm(const gse::GemmImpl* impl, gse::Accumulate mode, std::int64_t m, std::int64_t n, std::int64_t k) {
  auto run = [impl, mode](benchmark::State& s) {
    const std::size_t m = s.range(0), n = s.range(1), k = s.range(2);
    const Operands& o = operands(m, n, k);
    const gse::Format f = int8_g32();
    const gse::GemmParams p{f, f, mode};
    std::vector<float> c(m * n);
    for (auto _ : s) {
      if (impl) impl->gemm(m, n, k, o.a_codes.data(), o.a_exps.data(), o.b_codes.data(), o.b_exps.data(), c.data(), &p);
      else gse::gemm(m, n, k, {o.a_codes, o.a_exps, f}, {o.b_codes, o.b_exps, f}, c, {.accumulate = mode});
      benchmark::DoNotOptimize(c.data());
      benchmark::ClobberMemory();
    }
    s.SetItemsProcessed(s.iterations() * static_cast<std::int64_t>(m * n * k));
  };
  const std::string name = gemm_name(mode, impl ? impl->name : "api");
  benchmark::RegisterBenchmark(name.c_str(), run)->Args({m, n, k})->Unit(benchmark::kMillisecond);
}

// A simple baseline, not BLAS: C = A B^T in f32, cache-blocked, written so that the compiler
// vectorizes the innermost loop along a row of C with the project's default flags (SSE2 on
// x86-64: no AVX2, no FMA). B is transposed to k x n inside the timed call.
void sgemm_baseline(std::size_t m, std::size_t n, std::size_t k, const float* a, const float* b, float* c,
                    std::vector<float>& bt) {
  constexpr std::size_t kBlockJ = 256, kBlockK = 128, kRows = 4;
  bt.resize(k * n);
  for (std::size_t j = 0; j < n; ++j)
    for (std::size_t t = 0; t < k; ++t) bt[t * n + j] = b[j * k + t];
  std::fill(c, c + m * n, 0.0f);
  for (std::size_t j0 = 0; j0 < n; j0 += kBlockJ) {
    const std::size_t jn = std::min(kBlockJ, n - j0);
    for (std::size_t k0 = 0; k0 < k; k0 += kBlockK) {
      const std::size_t kn = std::min(kBlockK, k - k0);
      std::size_t i = 0;
      for (; i + kRows <= m; i += kRows) {
        float* __restrict c0 = c + i * n + j0;
        float* __restrict c1 = c0 + n;
        float* __restrict c2 = c1 + n;
        float* __restrict c3 = c2 + n;
        for (std::size_t t = k0; t < k0 + kn; ++t) {
          const float a0 = a[i * k + t], a1 = a[(i + 1) * k + t], a2 = a[(i + 2) * k + t], a3 = a[(i + 3) * k + t];
          const float* __restrict bk = bt.data() + t * n + j0;
          for (std::size_t j = 0; j < jn; ++j) {
            c0[j] += a0 * bk[j];
            c1[j] += a1 * bk[j];
            c2[j] += a2 * bk[j];
            c3[j] += a3 * bk[j];
          }
        }
      }
      for (; i < m; ++i)
        for (std::size_t t = k0; t < k0 + kn; ++t) {
          const float ai = a[i * k + t];
          const float* bk = bt.data() + t * n + j0;
          for (std::size_t j = 0; j < jn; ++j) c[i * n + j0 + j] += ai * bk[j];
        }
    }
  }
}

void BM_sgemm_baseline(benchmark::State& s) {
  const std::size_t m = s.range(0), n = s.range(1), k = s.range(2);
  const Operands& o = operands(m, n, k);
  std::vector<float> c(m * n), bt;
  for (auto _ : s) {
    sgemm_baseline(m, n, k, o.a.data(), o.b.data(), c.data(), bt);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  s.SetItemsProcessed(s.iterations() * static_cast<std::int64_t>(m * n * k));
}

void register_gse_gemm() {
  benchmark::RegisterBenchmark("BM_sgemm_baseline", BM_sgemm_baseline)->Args({kM, kN, kK})->Unit(benchmark::kMillisecond);
  const std::string shape = fmt::format("{}/{}/{}", kM, kN, kK);
  for (const gse::GemmImpl& impl : kernels::list<gse::GemmImpl>()) {
    if (!kernels::available(impl)) continue;
    const bool reference = std::string_view(impl.name) == "reference";
    for (gse::Accumulate mode : {gse::Accumulate::exact, gse::Accumulate::fp32}) {
      register_gemm(&impl, mode, kSmallM, kSmallN, kSmallK);
      if (!reference) register_gemm(&impl, mode, kM, kN, kK);
    }
    if (reference) continue;
    bench::targets().push_back({fmt::format("GSE int8 GEMM fp32-acc {} vs f32 GEMM", impl.name),
                                fmt::format("BM_gse_gemm_int8_g32_fp32_{}/{}", impl.name, shape),
                                fmt::format("BM_sgemm_baseline/{}", shape), 1.0});  // informative
  }
  const std::string best = kernels::best<gse::GemmImpl>().name;
  for (gse::Accumulate mode : {gse::Accumulate::exact, gse::Accumulate::fp32}) {  // its code check is O(mk + nk)
    register_gemm(nullptr, mode, kSmallM, kSmallN, kSmallK);
    register_gemm(nullptr, mode, kM, kN, kK);
    const std::string what = fmt::format("GSE int8 GEMM {}-acc", mode == gse::Accumulate::exact ? "exact" : "fp32");
    bench::targets().push_back({what + " 8x16x1024 public API vs its kernel", fmt::format("{}/{}/{}/{}", gemm_name(mode, "api"), kSmallM, kSmallN, kSmallK),
                                fmt::format("{}/{}/{}/{}", gemm_name(mode, best), kSmallM, kSmallN, kSmallK), 0.9});
  }
}

const bool registered = (register_gse_gemm(), true);

}  // namespace
