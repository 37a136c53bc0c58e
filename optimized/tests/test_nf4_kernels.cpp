// Every NF4/FP4 kernel of the table against the reference, bit for bit: packed codes, absmax and
// dequantized values, for every profile x table x block size, every length 0 .. 2 * block + 1
// (blocks up to 256; larger blocks a fixed set of lengths around the block edges), long streams,
// unaligned offsets, each input ending exactly at the end of its heap buffer (ASan sees any read
// past it) and guard bytes after every output (any write past it fails here). Values are drawn to
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

#include "lowbit/conformance/cases.hpp"
#include "lowbit/conformance/golden.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/nf4.hpp"

namespace {

using namespace lowbit;
constexpr std::uint8_t kGuard = 0xA5;
constexpr std::size_t kGuardBytes = 16;
constexpr int kBlocks[] = {32, 64, 128, 256, 512, 1024, 2048, 4096};
constexpr nf4::Table kTables[] = {nf4::Table::nf4, nf4::Table::fp4};

std::vector<const nf4::Impl*> impls() {
  std::vector<const nf4::Impl*> v;
  for (const nf4::Impl& impl : kernels::list<nf4::Impl>())
    if (kernels::available(impl) && std::string_view(impl.name) != "reference") v.push_back(&impl);
  return v;
}

float f32(std::uint32_t b) { return std::bit_cast<float>(b); }
float step(float x, int ulps) {  // ulps steps along the f32 line (through zero), finite in, any out
  for (; ulps > 0; --ulps) x = std::nextafter(x, INFINITY);
  for (; ulps < 0; ++ulps) x = std::nextafter(x, -INFINITY);
  return x;
}

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

struct Gen {
  conformance::SplitMix64 rng;
  std::uint64_t next(std::uint64_t n) { return rng.next() % n; }
  int between(int lo, int hi) { return lo + static_cast<int>(next(static_cast<std::uint64_t>(hi - lo + 1))); }
  float sign(float v) { return next(2) ? -v : v; }
  float unit() { return static_cast<float>(rng.next() >> 40) * 0x1p-24f; }  // [0, 1)
};

float special(Gen& g) {
  static const std::uint32_t kSpecial[] = {
      0x7FC00000, 0xFFC00000, 0x7FC12345, 0x7F800001, 0xFFA00000, 0x7F800000, 0xFF800000, 0x00000000,
      0x80000000, 0x00000001, 0x80000001, 0x007FFFFF, 0x006CE3EE, 0x006CE3ED, 0x006CE3EF, 0x7F7FFFFF,
      0xFF7FFFFF, 0x00800000, 0x3F800000, 0xBF800000};
  return f32(kSpecial[g.next(std::size(kSpecial))]);
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

template <class T> ::testing::AssertionResult same(const char* what, const T* got, const T* want, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t a = 0, b = 0;
    std::memcpy(&a, got + i, sizeof(T));
    std::memcpy(&b, want + i, sizeof(T));
    if (a != b) {
      std::ostringstream m;
      m << what << "[" << i << "] got 0x" << std::hex << a << " want 0x" << b;
      return ::testing::AssertionFailure() << m.str();
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult guards_intact(const std::uint8_t* p) {
  for (std::size_t i = 0; i < kGuardBytes; ++i)
    if (p[i] != kGuard) return ::testing::AssertionFailure() << "guard byte " << i << " overwritten";
  return ::testing::AssertionSuccess();
}

std::string label(const nf4::Impl& impl, const nf4::Params& p, std::size_t n, std::size_t offset) {
  std::ostringstream s;
  s << impl.name << " " << p.profile.name << " " << name(p.table) << " block " << p.block << " n " << n << " offset "
    << offset;
  return s.str();
}

// Quantize x with impl and the reference (input at the end of its buffer, outputs at `offset`
// bytes with guards after them), compare; then dequantize the reference's output with both.
void check(const nf4::Impl& impl, const nf4::Params& p, const float* x, std::size_t n, std::size_t offset) {
  SCOPED_TRACE(label(impl, p, n, offset));
  const std::size_t bytes = nf4::packed_bytes(n), blocks = nf4::blocks(n, p.block);
  std::vector<float> in(n + offset % 4);
  std::copy_n(x, n, in.begin() + static_cast<std::ptrdiff_t>(offset % 4));
  const float* src = in.data() + offset % 4;  // ends at the end of the heap buffer

  std::vector<std::uint8_t> want_packed(bytes);
  std::vector<float> want_absmax(blocks);
  ref::nf4_quantize_ref(n, src, want_packed.data(), want_absmax.data(), &p);

  std::vector<std::uint8_t> packed(offset + bytes + kGuardBytes, kGuard);
  std::vector<std::uint8_t> absmax_buf(offset * 4 + blocks * 4 + kGuardBytes, kGuard);
  std::uint8_t* got_packed = packed.data() + offset;
  float* got_absmax = reinterpret_cast<float*>(absmax_buf.data() + offset * 4);
  impl.encode(n, src, got_packed, got_absmax, &p);
  ASSERT_TRUE(same("packed", got_packed, want_packed.data(), bytes));
  ASSERT_TRUE(same("absmax", got_absmax, want_absmax.data(), blocks));
  ASSERT_TRUE(guards_intact(got_packed + bytes));
  ASSERT_TRUE(guards_intact(reinterpret_cast<std::uint8_t*>(got_absmax + blocks)));

  // Dequantize: the packed input ends at the end of its buffer, the output has guards.
  std::vector<std::uint8_t> codes(want_packed);
  std::vector<float> want_out(n);
  ref::nf4_dequantize_ref(n, codes.data(), want_absmax.data(), want_out.data(), &p);
  std::vector<std::uint8_t> out_buf((offset % 4) * 4 + n * 4 + kGuardBytes, kGuard);
  float* got_out = reinterpret_cast<float*>(out_buf.data() + (offset % 4) * 4);
  impl.decode(n, codes.data(), want_absmax.data(), got_out, &p);
  ASSERT_TRUE(same("dequantized", got_out, want_out.data(), n));
  ASSERT_TRUE(guards_intact(reinterpret_cast<std::uint8_t*>(got_out + n)));
}

std::vector<std::size_t> lengths(int block) {
  std::vector<std::size_t> v;
  const std::size_t b = static_cast<std::size_t>(block);
  if (block <= 256) {
    for (std::size_t n = 0; n <= 2 * b + 1; ++n) v.push_back(n);
    return v;
  }
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{31},
                        std::size_t{32}, std::size_t{33}, std::size_t{63}, std::size_t{65}, b / 2 + 7, b - 33, b - 32,
                        b - 2, b - 1, b, b + 1, b + 2, b + 31, b + 32, b + 33, 2 * b - 1, 2 * b, 2 * b + 1})
    v.push_back(n);
  return v;
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
        for (std::size_t n : lengths(block))
          for (const nf4::Impl* impl : list) {
            check(*impl, p, x.data(), n, n % 7);
            if (::testing::Test::HasFatalFailure()) return;
          }
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
          for (const nf4::Impl* impl : list) {
            check(*impl, p, x.data(), n, 3);
            if (::testing::Test::HasFatalFailure()) return;
          }
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
        check(*impl, nf4::make_params(t, prof, 64), x.data(), x.size(), 0);
        check(*impl, nf4::make_params(t, prof, 64), x.data(), x.size() - 1, 1);
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
      std::vector<float> want(n), got(n + kGuardBytes / 4);
      std::memset(got.data() + n, kGuard, kGuardBytes);
      ref::nf4_dequantize_ref(n, packed.data(), absmax.data(), want.data(), &p);
      for (const nf4::Impl* impl : list) {
        SCOPED_TRACE(label(*impl, p, n, 0));
        impl->decode(n, packed.data(), absmax.data(), got.data(), &p);
        EXPECT_TRUE(same("dequantized", got.data(), want.data(), n));
        EXPECT_TRUE(guards_intact(reinterpret_cast<std::uint8_t*>(got.data() + n)));
      }
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
          for (const nf4::Impl* impl : list) {
            check(*impl, nf4::make_params(t, prof, block), x.data(), x.size(), 1);
            if (::testing::Test::HasFatalFailure()) return;
          }
  }
}

}  // namespace
