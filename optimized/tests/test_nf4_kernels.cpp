// Every NF4/FP4 kernel of the table against the reference, bit for bit (kernel_tester.hpp): packed
// codes, absmax and decoded values, for every profile x table x block size, every length 0 ..
// 2 * block + 1 (blocks up to 256; larger blocks a fixed set of lengths around the block edges and
// the kernel's tails), long streams, unaligned offsets, each input ending exactly at the end of its
// heap buffer and guard bytes around every output. Values are drawn to
// reach every rule: thresholds and midpoints (from the tables) times the block's absmax and their
// neighbours, NaN (quiet, signalling, negative), +-Inf, +-0, subnormals, huge values, the 1e-38
// clamp; plus the golden inputs of conformance/golden/nf4. Fixed seeds throughout.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "kernel_tester.hpp"
#include "lowbit/conformance/cases.hpp"
#include "lowbit/conformance/golden.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/nf4.hpp"
#include "random_cases.hpp"

namespace {

using namespace lowbit;
constexpr int kBlocks[] = {32, 64, 128, 256, 512, 1024, 2048, 4096};
constexpr nf4::Table kTables[] = {nf4::Table::nf4, nf4::Table::fp4};

std::vector<const nf4::Impl*> impls() {
  std::vector<const nf4::Impl*> v;
  for (const nf4::Impl& impl : kernels::list<nf4::Impl>())
    if (kernels::available(impl) && std::string_view(impl.name) != "reference") v.push_back(&impl);
  return v;
}

using test::f32;
using test::Gen;
using test::special;
using test::step;

// Every value at which some profile's code changes, normalized to [-1, 1]: the fp32 midpoints, the
// exact midpoints (rounded), CUDA's literals (NF4 and +-FP4), and the table values themselves.
std::vector<float> edges(nf4::Table t) {
  std::vector<float> e;
  for (float m : fp32_midpoints(t)) e.push_back(m);
  const auto order = sorted_codes(t);
  for (unsigned k = 0; k < 15; ++k)
    e.push_back(static_cast<float>((static_cast<double>(table_value(t, order[k])) + table_value(t, order[k + 1])) / 2));
  for (std::uint32_t b : nf4::kNf4CudaThresholdBits) e.push_back(f32(b));
  for (float th : nf4::kFp4CudaThresholds) {
    e.push_back(th);
    e.push_back(-th);
  }
  for (unsigned c = 0; c < 16; ++c) e.push_back(table_value(t, c));
  return e;
}

// One block of len values whose kind reaches one rule.
void fill_block(Gen& g, float* x, std::size_t len, const std::vector<float>& e) {
  const int kind = static_cast<int>(g.next(16));
  // The block maximum A: mostly ordinary, sometimes a power of two (exact midpoint products: ties),
  // tiny (subnormal products) or huge.
  float a = std::ldexp(1.0f + g.unit(), g.between(-10, 10));
  switch (g.next(6)) {
    case 0: a = std::ldexp(1.0f, g.between(-20, 20)); break;
    case 1: a = std::ldexp(1.0f + g.unit(), g.between(-149, -120)); break;
    case 2: a = std::ldexp(1.0f + g.unit(), g.between(120, 127)); break;
    default: break;
  }
  for (std::size_t i = 0; i < len; ++i) {
    float v;
    switch (kind < 10 ? g.next(4) : g.next(8)) {
      case 0: v = g.sign(g.unit() * a); break;
      case 1: {  // an edge times A, or that divided by fl(1 / A), and neighbours
        const float edge = e[g.next(e.size())];
        v = g.next(2) ? edge * a : edge / (1.0f / a);
        if (std::isfinite(v)) v = step(v, g.between(-2, 2));
        break;
      }
      case 2: v = 0.0f; break;
      case 3: v = e[g.next(e.size())] * a; break;
      default: v = special(g); break;
    }
    x[i] = v;
  }
  if (len == 0) return;
  const std::size_t at = g.next(len);
  switch (kind) {
    case 10: std::fill(x, x + len, g.sign(0.0f)); break;
    case 11: std::fill(x, x + len, g.next(2) ? f32(0x7FC00000) : f32(0xFFA00001)); break;  // all NaN
    case 12: x[at] = special(g); break;
    case 13: x[at] = g.sign(INFINITY); break;
    case 14: break;
    default: x[at] = g.sign(a); break;  // the block's maximum exactly
  }
}

std::vector<float> make_values(std::uint64_t seed, std::size_t n, int block, nf4::Table t) {
  Gen g{conformance::SplitMix64{seed}};
  const std::vector<float> e = edges(t);
  std::vector<float> x(n);
  for (std::size_t s = 0; s < n; s += static_cast<std::size_t>(block))
    fill_block(g, x.data() + s, std::min<std::size_t>(block, n - s), e);
  return x;
}

std::string label(const nf4::Impl& impl, const nf4::Params& p);

// Decodes (packed, absmax) with impl and the reference: inputs at the end of their buffers, the
// output `offset` elements into a guarded buffer.
::testing::AssertionResult check_decode(const nf4::Impl& impl, const nf4::Params& p, std::size_t n,
                                        std::span<const std::uint8_t> packed, std::span<const float> absmax, std::size_t offset) {
  const test::Placed<std::uint8_t> c{packed, offset % 3};
  const test::Placed<float> a{absmax, offset % 5};
  return test::same_as_reference<float>(impl.decode, &ref::nf4_dequantize_ref, offset % 4, {n},
                                        [&](auto fn, float* out) { fn(n, c.data(), a.data(), out, &p); })
         << " decoding" << label(impl, p);
}

std::string label(const nf4::Impl& impl, const nf4::Params& p) {
  std::ostringstream s;
  s << " (" << impl.name << " " << p.profile.name << " " << name(p.table) << " block " << p.block << ")";
  return s.str();
}

// Encodes x with impl and the reference (input at the end of its buffer, outputs `offset` elements
// into guarded buffers), compares; then decodes the reference's output with both.
::testing::AssertionResult check(const nf4::Impl& impl, const nf4::Params& p, std::span<const float> x, std::size_t offset) {
  const std::size_t n = x.size(), bytes = nf4::packed_bytes(n), blocks = nf4::blocks(n, p.block);
  const test::Placed<float> in{x, offset % 4};
  ::testing::AssertionResult r = test::same_as_reference<std::uint8_t, float>(
      impl.encode, &ref::nf4_quantize_ref, offset, {bytes, blocks},
      [&](auto fn, std::uint8_t* packed, float* absmax) { fn(n, in.data(), packed, absmax, &p); });
  if (!r) return r << " encoding" << label(impl, p);
  std::vector<std::uint8_t> packed(bytes);
  std::vector<float> absmax(blocks);
  ref::nf4_quantize_ref(n, in.data(), packed.data(), absmax.data(), &p);
  return check_decode(impl, p, n, packed, absmax, offset);
}

std::vector<std::size_t> lengths(const nf4::Impl& impl, int block) {
  const std::size_t b = static_cast<std::size_t>(block);
  if (block <= 256) return test::tail_lengths(b);  // past the kernel's tails too: width <= 32 < block
  return test::tail_lengths(impl.width, {63, 65, b / 2 + 7, b - 33, b - 32, b - 2, b - 1, b, b + 1, b + 2, b + 31, b + 32,
                                         b + 33, 2 * b - 1, 2 * b, 2 * b + 1});
}

TEST(Nf4Kernels, EveryProfileTableBlockLength) {
  const auto list = impls();
  if (list.empty()) GTEST_SKIP() << "no SIMD NF4 kernel on this CPU";
  std::uint64_t seed = 1;
  for (const nf4::Profile& prof : nf4::kProfiles)
    for (nf4::Table t : kTables)
      for (int block : kBlocks) {
        const nf4::Params p = nf4::make_params(t, prof, block);
        const std::vector<float> x = make_values(seed++, 2 * static_cast<std::size_t>(block) + 1, block, t);
        for (const nf4::Impl* impl : list)
          ASSERT_TRUE(test::every_tail(lengths(*impl, block), [&](std::size_t n, std::size_t offset) {
            return check(*impl, p, std::span(x).first(n), n % 7 + offset);
          }, {0, 1}));
      }
}

TEST(Nf4Kernels, LongStreams) {
  const auto list = impls();
  if (list.empty()) GTEST_SKIP() << "no SIMD NF4 kernel on this CPU";
  std::uint64_t seed = 1000;
  for (const nf4::Profile& prof : nf4::kProfiles)
    for (nf4::Table t : kTables)
      for (int block : {32, 64, 4096})
        for (std::size_t n : {std::size_t{100003}, std::size_t{65536}}) {
          const nf4::Params p = nf4::make_params(t, prof, block);
          const std::vector<float> x = make_values(seed++, n, block, t);
          for (const nf4::Impl* impl : list) ASSERT_TRUE(check(*impl, p, x, 3));
        }
}

// Each edge value normalized by absmax 1 and 2^k, every neighbour within 4 ulps, in one block.
TEST(Nf4Kernels, EdgesAndSpecialsInOneBlock) {
  const auto list = impls();
  if (list.empty()) GTEST_SKIP() << "no SIMD NF4 kernel on this CPU";
  for (nf4::Table t : kTables) {
    std::vector<float> x;
    for (float a : {1.0f, 0x1p-3f, 3.0f, 0x1p-140f, 0x1.fffffep127f})
      for (float e : edges(t)) {
        const std::size_t start = x.size();
        x.push_back(a);
        for (int u = -4; u <= 4; ++u) {
          x.push_back(step(e * a, u));
          x.push_back(step(e / (1.0f / a), u));
        }
        x.resize(start + 64, -0.0f);
      }
    for (const nf4::Profile& prof : nf4::kProfiles)
      for (const nf4::Impl* impl : list) {
        EXPECT_TRUE(check(*impl, nf4::make_params(t, prof, 64), x, 0));
        EXPECT_TRUE(check(*impl, nf4::make_params(t, prof, 64), std::span(x).first(x.size() - 1), 1));
      }
  }
}

// Random packed codes with absmax values of every kind: NaN payloads, +-Inf (0 * Inf), zeros.
TEST(Nf4Kernels, DequantizeSpecialAbsmax) {
  const auto list = impls();
  if (list.empty()) GTEST_SKIP() << "no SIMD NF4 kernel on this CPU";
  Gen g{conformance::SplitMix64{77}};
  for (nf4::Table t : kTables)
    for (int block : kBlocks) {
      const nf4::Params p = nf4::make_params(t, nf4::default_profile(), block);
      const std::size_t n = 5 * static_cast<std::size_t>(block) + 17;
      std::vector<std::uint8_t> packed(nf4::packed_bytes(n));
      for (auto& b : packed) b = static_cast<std::uint8_t>(g.rng.next());
      std::vector<float> absmax(nf4::blocks(n, block));
      for (auto& a : absmax) a = g.next(2) ? special(g) : g.sign(std::ldexp(1.0f + g.unit(), g.between(-149, 127)));
      for (const nf4::Impl* impl : list) EXPECT_TRUE(check_decode(*impl, p, n, packed, absmax, 1));
    }
}

TEST(Nf4Kernels, GoldenInputs) {
  const auto list = impls();
  if (list.empty()) GTEST_SKIP() << "no SIMD NF4 kernel on this CPU";
  const conformance::GoldenDir dir = conformance::GoldenDir::from_env();
  for (const char* c : {"normal", "uniform", "edge", "divergent", "divmul", "tail1", "tail63", "tail65", "tail127",
                        "tail357"}) {
    const std::vector<std::uint32_t> b = dir.array<std::uint32_t>(std::string("nf4/") + c + ".in.f32");
    std::vector<float> x(b.size());
    std::memcpy(x.data(), b.data(), b.size() * 4);
    for (const nf4::Profile& prof : nf4::kProfiles)
      for (nf4::Table t : kTables)
        for (int block : {32, 64, 256, 4096})
          for (const nf4::Impl* impl : list) ASSERT_TRUE(check(*impl, nf4::make_params(t, prof, block), x, 1));
  }
}

}  // namespace
