// The public NVFP4 API (lowbit/nvfp4.hpp): the reference kernel through the calls, the matrix shape and
// scale counts of each layout, quantize = decode(encode), sr reproducible from its seed and index, a
// given amax, every kernel row equal to the reference, and errors with their codes.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "error_code.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/nvfp4.hpp"
#include "lowbit/reference/nvfp4.hpp"
#include "lowbit/reference/philox.hpp"

namespace {

using namespace lowbit;

std::vector<float> values(std::size_t n) {
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = std::ldexp(std::sin(0.37f * static_cast<float>(i)), static_cast<int>(i / 16 % 9) - 4);
  return x;
}

TEST(Nvfp4Api, CallsTheReferenceKernel) {
  const std::vector<float> x = values(48 * 40);
  nvfp4::Options o;
  o.cols = 40;
  o.blocking = nvfp4::Blocking::d2;
  o.rounding = Rounding::sr;
  o.seed = 9;
  o.index0 = 5;
  const nvfp4::Encoded e = nvfp4::encode(x, o);
  EXPECT_EQ(e.global_amax, nvfp4::amax(x));
  std::vector<std::uint32_t> words(48 * 10);
  for (std::size_t i = 0; i < words.size(); ++i) words[i] = ref::philox_word(9, 5 + i);
  std::vector<std::uint8_t> codes(x.size()), scales(48 * 3);
  const nvfp4::EncodeParams p{48, 40, nvfp4::Blocking::d2, nvfp4::ScaleLayout::linear, Rounding::sr, e.global_amax, words.data()};
  ref::nvfp4_encode_ref(x.data(), codes.data(), scales.data(), &p);
  EXPECT_EQ(e.codes, codes);
  EXPECT_EQ(e.scales, scales);
  for (const nvfp4::Impl& impl : kernels::list<nvfp4::Impl>()) {
    o.impl = &impl;
    const nvfp4::Encoded k = nvfp4::encode(x, o);
    EXPECT_EQ(k.codes, e.codes) << impl.name;
    EXPECT_EQ(nvfp4::decode(k, o), nvfp4::decode(e, o)) << impl.name;
  }
  o.seed = 10;
  EXPECT_NE(nvfp4::encode(x, o).codes, e.codes);
}

TEST(Nvfp4Api, ShapesAndScaleCounts) {
  nvfp4::Options o;
  EXPECT_EQ(nvfp4::shape(100, o).rows, 1u);
  EXPECT_EQ(nvfp4::scales(100, o), 7u);
  o.cols = 20;
  EXPECT_EQ(nvfp4::shape(100, o).rows, 5u);
  EXPECT_EQ(nvfp4::scales(100, o), 10u);
  o.layout = nvfp4::ScaleLayout::swizzled;
  EXPECT_EQ(nvfp4::scales(100, o), 128u * 4);
  EXPECT_EQ(nvfp4::scales(0, o), 0u);
}

TEST(Nvfp4Api, QuantizeIsDecodeOfEncodeInEveryLayout) {
  const std::vector<float> x = values(33 * 48);
  for (const nvfp4::ScaleLayout l : {nvfp4::ScaleLayout::linear, nvfp4::ScaleLayout::swizzled})
    for (const nvfp4::Blocking b : {nvfp4::Blocking::d1, nvfp4::Blocking::d2}) {
      nvfp4::Options o;
      o.cols = 48;
      o.layout = l;
      o.blocking = b;
      std::vector<float> y = x;
      nvfp4::quantize(y, std::span(y), o);  // in place
      EXPECT_EQ(y, nvfp4::decode(nvfp4::encode(x, o), o));
    }
}

// A given amax replaces max |x| (TE's delayed or reduced amax): twice the amax halves S_enc.
TEST(Nvfp4Api, GivenAmax) {
  const std::vector<float> x = values(64);
  nvfp4::Options o;
  o.global_amax = 2 * nvfp4::amax(x);
  const nvfp4::Encoded e = nvfp4::encode(x, o);
  EXPECT_EQ(e.global_amax, *o.global_amax);
  EXPECT_NE(e.scales, nvfp4::encode(x).scales);
  EXPECT_TRUE(std::isnan(nvfp4::amax(std::vector<float>{1, NAN, 2})));
}

// Packed codes are the unpacked ones two per byte, element 2j in the low nibble (CUDA's fp4x2), for every
// shape: an odd count (a padding nibble) and rows of odd length (a byte across two rows); and back.
TEST(Nvfp4Api, PackedRoundTrip) {
  for (const auto& [n, cols] : {std::pair<std::size_t, std::size_t>{64, 0}, {63, 0}, {7 * 33, 33}, {0, 0}}) {
    const std::vector<float> x = values(n);
    nvfp4::Options o;
    o.cols = cols;
    const nvfp4::Encoded u = nvfp4::encode(x, o);
    const std::vector<float> y = nvfp4::decode(u, o);
    o.packed = true;
    const nvfp4::Encoded p = nvfp4::encode(x, o);
    ASSERT_EQ(p.codes.size(), (n + 1) / 2) << n;
    EXPECT_EQ(nvfp4::code_bytes(n, o), (n + 1) / 2);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ((p.codes[i / 2] >> (i % 2 * 4)) & 0xF, u.codes[i]) << n << " " << i;
    if (n % 2) {
      EXPECT_EQ(p.codes.back() >> 4, 0) << "the padding nibble";
    }
    EXPECT_EQ(p.scales, u.scales);
    EXPECT_EQ(p.elements, n);
    EXPECT_EQ(nvfp4::decode(p, o), y);
    EXPECT_EQ(nvfp4::quantize(x, o), y);
  }
  nvfp4::Options o;
  o.packed = true;
  nvfp4::Encoded e = nvfp4::encode(values(63), o);
  e.codes.back() |= 0x10;  // a padding nibble set
  EXPECT_EQ(error_code([&] { nvfp4::decode(e, o); }), Errc::data);
  e.codes.pop_back();
  EXPECT_EQ(error_code([&] { nvfp4::decode(e, o); }), Errc::invalid);
}

// Given random words replace Philox's: the words Philox would draw give the same codes.
TEST(Nvfp4Api, GivenRandomWords) {
  const std::vector<float> x = values(8 * 24);
  nvfp4::Options o;
  o.cols = 24;
  o.rounding = Rounding::sr;
  o.seed = 3;
  o.index0 = 11;
  std::vector<std::uint32_t> words(nvfp4::random_words(x.size(), o));
  ASSERT_EQ(words.size(), 8u * 6);
  for (std::size_t i = 0; i < words.size(); ++i) words[i] = ref::philox_word(3, 11 + i);
  const nvfp4::Encoded philox = nvfp4::encode(x, o);
  o.seed = 0;
  o.random_bits = words;
  EXPECT_EQ(nvfp4::encode(x, o).codes, philox.codes);
  o.random_bits = std::span(words).first(5);
  EXPECT_EQ(error_code([&] { nvfp4::encode(x, o); }), Errc::invalid);
  o.random_bits = words;
  o.rounding = Rounding::rne;
  EXPECT_EQ(error_code([&] { nvfp4::encode(x, o); }), Errc::invalid);  // words without sr
}

TEST(Nvfp4Api, Errors) {
  const std::vector<float> x = values(64);
  nvfp4::Options o;
  o.cols = 24;
  EXPECT_EQ(error_code([&] { nvfp4::encode(x, o); }), Errc::invalid);
  o.cols = 0;
  o.rounding = Rounding::rna;
  EXPECT_EQ(error_code([&] { nvfp4::encode(x, o); }), Errc::unsupported);
  o.rounding = Rounding::rne;
  std::vector<std::uint8_t> codes(64), scales(3);
  EXPECT_EQ(error_code([&] { nvfp4::encode(x, codes, scales, o); }), Errc::invalid);
  nvfp4::Encoded e = nvfp4::encode(x, o);
  e.codes[3] = 0x10;
  EXPECT_EQ(error_code([&] { nvfp4::decode(e, o); }), Errc::data);
}

}  // namespace
