// Every NVFP4 kernel of the table but the reference against the reference (kernel_tester.hpp): codes and
// scales (linear, and swizzled with its padding), decoded values; 1-D and 2-D blocks, rne and sr, every
// row length 0 .. 2 * width + 1 (every block tail and every batch tail) and one past two chunks of 16
// batches, on 1, 2 and 17 rows, unaligned offsets, inputs and sr words ending exactly at the end of their
// buffers. Values are drawn per block to
// reach every rule: block maxima at the E4M3 scale's rounding boundaries, tiny and huge, E2M1 grid values
// and ties divided by the block's exact factor and their neighbours, the block maximum itself, +-0 and
// zero blocks, NaN and Inf; the tensor amax given as the true one, smaller (scales clamp to 448), 0,
// NaN, Inf, negative, tiny and FLT_MAX. Decoding: random codes under every scale byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <string>
#include <vector>

#include "flush_to_zero.hpp"
#include "kernel_rows.hpp"
#include "kernel_tester.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/nvfp4.hpp"
#include "random_cases.hpp"

namespace {

using namespace lowbit;
using test::Gen;

std::vector<const nvfp4::Impl*> impls() { return test::available_rows<nvfp4::Impl>(false); }

std::string label(const nvfp4::Impl& impl, const nvfp4::EncodeParams& p) {
  return std::string(" (") + impl.name + " " + std::to_string(p.rows) + "x" + std::to_string(p.cols) + " " +
         std::string(name(p.blocking)) + " " + std::string(name(p.layout)) + " " + std::string(name(p.rounding)) +
         " amax " + std::to_string(p.global_amax) + ")";
}

// A NaN amax meets a NaN scale (code 0x7F) in one product, where IEEE 754 leaves open which NaN comes
// out (compilers order the operands of a product as they like): any NaN then.
test::Nan nan_rule(float global_amax) { return std::isnan(global_amax) ? test::Nan::any : test::Nan::exact; }

// Encodes x with impl and the reference (x and the sr words at the end of their buffers, the outputs
// `offset` elements into guarded buffers), then decodes the reference's output with both.
::testing::AssertionResult check(const nvfp4::Impl& impl, nvfp4::EncodeParams p, std::span<const float> x,
                                 std::span<const std::uint32_t> words, std::size_t offset) {
  const std::size_t n = p.rows * p.cols, scales = nvfp4::scale_count(p.rows, p.cols, p.layout);
  const test::Placed<float> in{x.first(n), offset};
  const test::Placed<std::uint32_t> random{words.first(p.rows * nvfp4::sr_words_per_row(p.cols)), offset % 3};
  p.random = random.data();
  ::testing::AssertionResult e = test::same_as_reference<std::uint8_t, std::uint8_t>(
      impl.encode_f32, &ref::nvfp4_encode_ref, offset, {n, scales},
      [&](auto fn, std::uint8_t* codes, std::uint8_t* s) { fn(in.data(), codes, s, &p); });
  if (!e) return e << " encoding" << label(impl, p);
  std::vector<std::uint8_t> codes(n), s(scales);
  ref::nvfp4_encode_ref(in.data(), codes.data(), s.data(), &p);
  const test::Placed<std::uint8_t> c{codes, offset}, sc{s, offset % 2};
  const nvfp4::DecodeParams d{p.rows, p.cols, p.layout, p.global_amax};
  return test::same_as_reference<float>(impl.decode_f32, &ref::nvfp4_decode_ref, offset, {n},
                                        [&](auto fn, float* out) { fn(c.data(), sc.data(), out, &d); }, nan_rule(d.global_amax))
         << " decoding" << label(impl, p);
}

float e4m3_value(unsigned c) { return ref::nvfp4_scale_value(static_cast<std::uint8_t>(c)); }

// One block of len values (see the file comment); s_enc: the tensor's global encode scale.
void fill_block(Gen& g, float* x, std::size_t len, float s_enc) {
  static const float kE2m1Edges[] = {0.25f, 0.5f, 0.75f, 1, 1.25f, 1.5f, 1.75f, 2, 2.5f, 3, 3.5f, 4, 5, 6, 6.5f, 7};
  float a = std::ldexp(1.0f + g.unit(), g.between(-20, 20));
  switch (g.next(5)) {
    case 0: {  // d = a * S_enc / 6 at an E4M3 rounding boundary
      const unsigned c = static_cast<unsigned>(g.next(0x7E));
      const float mid = (e4m3_value(c) + e4m3_value(c + 1)) / 2 / (s_enc * (1.0f / 6.0f));
      if (std::isfinite(mid) && mid > 0) a = test::step(mid, g.between(-2, 2));
      break;
    }
    case 1: a = std::ldexp(1.0f + g.unit(), g.between(-149, -110)); break;
    case 2: a = std::ldexp(1.0f + g.unit(), g.between(100, 127)); break;
    default: break;
  }
  const float factor = ref::nvfp4_encode_scale(ref::nvfp4_scale_code(a, s_enc), s_enc);
  const int kind = static_cast<int>(g.next(10));
  for (std::size_t i = 0; i < len; ++i) {
    float v;
    switch (g.next(kind < 7 ? 4 : 5)) {
      case 0: v = g.unit() * a; break;
      case 1: v = kE2m1Edges[g.next(std::size(kE2m1Edges))] / factor, v = std::isfinite(v) ? test::step(v, g.between(-2, 2)) : v; break;
      case 2: v = 0; break;
      case 3: v = a; break;
      default: v = test::special(g); break;
    }
    x[i] = g.sign(v);
  }
  if (len == 0) return;
  switch (kind) {
    case 7: std::fill(x, x + len, g.sign(0.0f)); break;
    case 8: x[g.next(len)] = g.sign(NAN); break;
    case 9: x[g.next(len)] = g.sign(INFINITY); break;
    default: break;
  }
}

float amax(std::span<const float> x) {  // as nvfp4::amax: a NaN wins
  float m = 0;
  for (float v : x) m = std::isnan(v) || std::fabs(v) > m ? std::fabs(v) : m;
  return m;
}

// The tensor amax a case gives the kernels: its own, a quarter of it (scales clamp to 448), or a fixed one.
enum class Amax { own, quarter, zero, inf, nan, negative, tiny, max };
constexpr Amax kAmaxKinds[] = {Amax::own, Amax::quarter, Amax::zero, Amax::inf, Amax::nan, Amax::negative, Amax::tiny, Amax::max};

float fixed_amax(Amax kind) {
  switch (kind) {
    case Amax::zero: return 0;
    case Amax::inf: return INFINITY;
    case Amax::nan: return NAN;
    case Amax::negative: return -1;
    case Amax::tiny: return 1e-38f;
    case Amax::max: return FLT_MAX;
    default: return 1000;  // a guess the blocks are drawn for
  }
}

struct Tensor {
  std::vector<float> x;
  float global_amax;
};

// A rows x cols tensor of blocks drawn for the global encode scale of its amax.
Tensor tensor(std::uint64_t seed, std::size_t rows, std::size_t cols, Amax kind) {
  Gen g{conformance::SplitMix64{seed}};
  const float s_enc = ref::nvfp4_global_encode_scale(fixed_amax(kind));
  Tensor t{std::vector<float>(rows * cols), fixed_amax(kind)};
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; c += nvfp4::kBlock) fill_block(g, t.x.data() + r * cols + c, std::min(nvfp4::kBlock, cols - c), s_enc);
  if (kind == Amax::own || kind == Amax::quarter) t.global_amax = amax(t.x) / (kind == Amax::quarter ? 4 : 1);
  return t;
}

std::vector<std::uint32_t> words(std::uint64_t seed, std::size_t n) {
  Gen g{conformance::SplitMix64{seed}};
  std::vector<std::uint32_t> w(n);
  for (std::uint32_t& v : w) v = static_cast<std::uint32_t>(g.rng.next());
  return w;
}

TEST(Nvfp4Kernels, EveryRowLengthBlockingLayoutRounding) {
  const auto list = impls();
  if (list.empty()) GTEST_SKIP() << "no SIMD NVFP4 kernel on this CPU";
  std::uint64_t seed = 1;
  for (const nvfp4::Impl* impl : list)
    for (std::size_t cols : test::tail_lengths(impl->width, {4 * impl->width + 16 * 3 + 5, 33 * impl->width + 21}))
      for (std::size_t rows : {1, 2, 17})
        for (nvfp4::Blocking blocking : {nvfp4::Blocking::d1, nvfp4::Blocking::d2})
          for (Rounding r : {Rounding::rne, Rounding::sr}) {
            const Tensor t = tensor(seed, rows, cols, kAmaxKinds[seed % std::size(kAmaxKinds)]);
            const nvfp4::EncodeParams p{rows, cols, blocking, seed % 3 ? nvfp4::ScaleLayout::linear : nvfp4::ScaleLayout::swizzled, r,
                                        t.global_amax, nullptr};
            ASSERT_TRUE(check(*impl, p, t.x, words(seed, rows * nvfp4::sr_words_per_row(cols)), seed % 4));
            ++seed;
          }
}

// Every kind of global amax on a larger tensor.
void every_global_amax(const std::vector<const nvfp4::Impl*>& list) {
  std::uint64_t seed = 1000;
  for (Amax kind : kAmaxKinds)
    for (nvfp4::Blocking blocking : {nvfp4::Blocking::d1, nvfp4::Blocking::d2})
      for (nvfp4::ScaleLayout layout : {nvfp4::ScaleLayout::linear, nvfp4::ScaleLayout::swizzled})
        for (Rounding r : {Rounding::rne, Rounding::sr}) {
          const std::size_t rows = 37, cols = 1000;
          const Tensor t = tensor(seed, rows, cols, kind);
          const nvfp4::EncodeParams p{rows, cols, blocking, layout, r, t.global_amax, nullptr};
          for (const nvfp4::Impl* impl : list) ASSERT_TRUE(check(*impl, p, t.x, words(seed, rows * nvfp4::sr_words_per_row(cols)), 1));
          ++seed;
        }
}

TEST(Nvfp4Kernels, EveryGlobalAmax) {
  const auto list = impls();
  if (list.empty()) GTEST_SKIP() << "no SIMD NVFP4 kernel on this CPU";
  every_global_amax(list);
}

// The reference computes in f32 as TE does, and so do the kernels, operation for operation: under
// flush-to-zero both flush the same products.
TEST(Nvfp4Kernels, UnderFlushToZero) {
  const auto list = impls();
  if (list.empty()) GTEST_SKIP() << "no SIMD NVFP4 kernel on this CPU";
  const test::FlushToZero ftz;
  every_global_amax(list);
}

// Random codes under every scale byte, every kind of global amax.
TEST(Nvfp4Kernels, DecodeEveryScale) {
  const auto list = impls();
  if (list.empty()) GTEST_SKIP() << "no SIMD NVFP4 kernel on this CPU";
  Gen g{conformance::SplitMix64{5}};
  for (nvfp4::ScaleLayout layout : {nvfp4::ScaleLayout::linear, nvfp4::ScaleLayout::swizzled})
    for (Amax kind : kAmaxKinds) {
      const std::size_t rows = 130, cols = 16 * 40 + 9;
      std::vector<std::uint8_t> codes(rows * cols), scales(nvfp4::scale_count(rows, cols, layout));
      for (std::uint8_t& c : codes) c = static_cast<std::uint8_t>(g.next(16));
      for (std::size_t i = 0; i < scales.size(); ++i) scales[i] = static_cast<std::uint8_t>(i);
      const nvfp4::DecodeParams d{rows, cols, layout, fixed_amax(kind)};
      for (const nvfp4::Impl* impl : list)
        EXPECT_TRUE(test::same_as_reference<float>(impl->decode_f32, &ref::nvfp4_decode_ref, 2, {rows * cols},
                                                   [&](auto fn, float* out) { fn(codes.data(), scales.data(), out, &d); },
                                                   nan_rule(d.global_amax)))
            << impl->name << " " << name(layout) << " amax " << d.global_amax;
    }
}

}  // namespace
