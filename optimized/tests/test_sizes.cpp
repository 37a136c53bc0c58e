// Sizes across the public API: counts derived from huge element counts are exact or a clear
// lowbit::Error (never a wrapped count that a buffer check would accept), zero-length inputs are
// fine, and odd lengths and block sizes that do not divide them have the documented counts.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "lowbit/formats/sizes.hpp"
#include "lowbit/formats/weak.hpp"
#include "lowbit/fp8.hpp"
#include "lowbit/gse.hpp"
#include "lowbit/nf4.hpp"
#include "lowbit/qeft.hpp"

namespace {

using namespace lowbit;
constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
using u128 = unsigned __int128;

// The message of the lowbit::Error that f throws ("" when it throws none).
template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Sizes, CountsAreExactUpToSizeMax) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{63}, std::size_t{64}, std::size_t{65}, kMax / 2, kMax - 64,
                        kMax - 1, kMax}) {
    for (std::size_t d : {1u, 2u, 3u, 32u, 64u, 256u, 4096u})
      EXPECT_EQ(u128{ceil_div(n, d)}, (u128{n} + d - 1) / d) << n << " / " << d;
    EXPECT_EQ(u128{nf4::packed_bytes(n)}, (u128{n} + 1) / 2) << n;
    EXPECT_EQ(u128{nf4::blocks(n, 64)}, (u128{n} + 63) / 64) << n;
    gse::Format f;
    f.group = 256;
    EXPECT_EQ(u128{f.groups(n)}, (u128{n} + 255) / 256) << n;
  }
  EXPECT_EQ(checked_mul(kMax, 1), kMax);
  EXPECT_EQ(checked_mul(std::size_t{1} << 32, std::size_t{1} << 31), std::size_t{1} << 63);
  EXPECT_FALSE(checked_mul(std::size_t{1} << 32, std::size_t{1} << 32));
  EXPECT_FALSE(checked_mul(kMax, 2));
  EXPECT_EQ(checked_mul(0, kMax), 0u);
}

TEST(Sizes, GsePackedBytesIsExactOrAnError) {
  for (int bits : {4, 5, 8})
    for (int group : {16, 32, 256})
      for (int exp_bits : {5, 8}) {
        gse::Format f;
        f.bits = bits;
        f.group = group;
        f.exp_bits = exp_bits;
        f.exp_bias = exp_bits == 5 ? 15 : 127;
        for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{17}, std::size_t{1000003},
                              kMax / 16, kMax / 9, kMax / 8, kMax / 4, kMax - 1, kMax}) {
          const u128 total_bits = u128{f.groups(n)} * static_cast<unsigned>(exp_bits) + u128{n} * static_cast<unsigned>(bits);
          const u128 want = (total_bits + 7) / 8;
          if (want > kMax) {
            EXPECT_NE(error_of([&] { (void)gse::packed_bytes(n, f); }).find("do not fit"), std::string::npos) << n;
          } else {
            EXPECT_EQ(u128{gse::packed_bytes(n, f)}, want) << bits << " " << group << " " << exp_bits << " " << n;
          }
        }
      }
}

// Shapes whose products wrap to the (empty) buffers' sizes: refused before any kernel runs.
TEST(Sizes, WrappingShapesAreRefused) {
  const gse::Format f;
  const gse::GemmOperand empty{{}, {}, f};
  std::vector<float> c;
  const std::size_t big = std::size_t{1} << 33, wide = std::size_t{1} << 31;  // big * wide = 2^64 -> 0
  EXPECT_NE(error_of([&] { gse::gemm(big, 0, wide, empty, empty, c); }).find("A codes: 8589934592 x 2147483648 elements overflow size_t"),
            std::string::npos);
  EXPECT_NE(error_of([&] { gse::gemm(0, big, wide, empty, empty, c); }).find("overflow size_t"), std::string::npos);
  EXPECT_NE(error_of([&] { gse::gemm(big, big / 4, 0, empty, empty, c); }).find("C: "), std::string::npos);
  EXPECT_NE(error_of([&] { (void)gse::encode_rows(big, wide, {}, {}, {}, {}); }).find("overflow size_t"), std::string::npos);

  qeft::Matrix w;
  w.oc = 8;
  w.ic = 64;
  w.group = 64;
  const std::vector<std::int16_t> qweight(2 * 64);
  const std::vector<std::uint16_t> scales(8), zeros(8);
  w.qweight = qweight.data();
  w.scales = scales.data();
  w.scaled_zeros = zeros.data();
  EXPECT_NE(error_of([&] { qeft::matmul(w, {}, {}, std::size_t{1} << 58); }).find("overflow size_t"), std::string::npos);
  qeft::Matrix huge = w;
  huge.oc = std::size_t{1} << 40;
  huge.ic = std::size_t{1} << 30;
  huge.group = huge.ic;
  EXPECT_NE(error_of([&] { qeft::validate(huge); }).find("overflows size_t"), std::string::npos);
  EXPECT_EQ(weak::shape_error(weak::Layout::owq, std::size_t{1} << 40, std::size_t{1} << 30, 0, {}), "OC x IC overflows size_t");
}

TEST(Sizes, ZeroLengthInputsAreFine) {
  std::vector<float> none;
  std::vector<std::uint8_t> codes;
  fp8::encode(std::span<const float>(none), codes);
  fp8::decode(codes, std::span<float>(none));
  std::vector<std::int8_t> gcodes;
  std::vector<std::uint8_t> exps;
  const gse::Options go;
  EXPECT_EQ(gse::encode(std::span<const float>(none), gcodes, exps, go).groups, 0u);
  gse::decode(gcodes, exps, std::span<float>(none), go);
  EXPECT_EQ(gse::packed_bytes(0, go.format), 0u);
  std::vector<float> absmax;
  nf4::encode(none, codes, absmax);
  nf4::decode(codes, absmax, none);
  // k = 0: every output is the empty sum, +0.
  std::vector<float> c(6, 1.0f);
  const gse::GemmOperand a{{}, {}, go.format}, b{{}, {}, go.format};
  gse::gemm(2, 3, 0, a, b, c);
  for (float v : c) EXPECT_EQ(std::bit_cast<std::uint32_t>(v), 0u);
  gse::gemm(0, 0, 5, a, b, std::span<float>());
}

// Lengths that are not a multiple of the block: the last block is short and has its own scale; a
// buffer one element too short or too long is refused.
TEST(Sizes, OddLengthsAndNonDividingBlocks) {
  for (std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{31}, std::size_t{33}, std::size_t{65}, std::size_t{257}}) {
    std::vector<float> in(n);
    for (std::size_t i = 0; i < n; ++i) in[i] = static_cast<float>(i % 7) - 3.0f;
    nf4::Options no;
    no.block = 32;
    std::vector<std::uint8_t> packed(nf4::packed_bytes(n));
    std::vector<float> absmax(nf4::blocks(n, 32)), out(n);
    nf4::encode(in, packed, absmax, no);
    nf4::decode(packed, absmax, out, no);
    if (n % 2) {  // the pad nibble codes a 0.0 (docs/formats/nf4.md): NF4's code 7
      EXPECT_EQ(packed.back() & 0x0F, 7);
    }
    std::vector<std::uint8_t> short_packed(packed.size() - 1), long_packed(packed.size() + 1);
    EXPECT_FALSE(error_of([&] { nf4::encode(in, short_packed, absmax, no); }).empty()) << n;
    EXPECT_FALSE(error_of([&] { nf4::encode(in, long_packed, absmax, no); }).empty()) << n;
    std::vector<float> few(absmax.size() - 1);
    EXPECT_FALSE(error_of([&] { nf4::decode(packed, few, out, no); }).empty()) << n;

    gse::Options go;
    go.format.group = 16;
    std::vector<std::int8_t> gcodes(n);
    std::vector<std::uint8_t> exps(go.format.groups(n));
    EXPECT_EQ(gse::encode(std::span<const float>(in), gcodes, exps, go).groups, exps.size());
    std::vector<float> back(n);
    gse::decode(gcodes, exps, std::span<float>(back), go);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(back[i], in[i]) << "small integers are exact";
    std::vector<std::uint8_t> more_exps(exps.size() + 1);
    EXPECT_NE(error_of([&] { (void)gse::encode(std::span<const float>(in), gcodes, more_exps, go); }).find("exps has"), std::string::npos);
    std::vector<std::uint8_t> gpacked(gse::packed_bytes(n, go.format));
    gse::pack(gcodes, exps, go.format, gpacked);
    std::vector<std::int8_t> ucodes(n);
    std::vector<std::uint8_t> uexps(exps.size());
    gse::unpack(gpacked, go.format, ucodes, uexps);
    EXPECT_EQ(ucodes, gcodes);
    EXPECT_EQ(uexps, exps);

    std::vector<std::uint8_t> fp8(n + 1);
    EXPECT_FALSE(error_of([&] { fp8::encode(std::span<const float>(in), fp8); }).empty()) << n;
  }
}

}  // namespace
