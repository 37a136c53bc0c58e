// The public FP8 API (lowbit/fp8.hpp): argument errors, and stochastic rounding that is independent
// of chunking.
#include <gtest/gtest.h>

#include <vector>

#include "lowbit/fp8.hpp"
#include "lowbit/reference/philox.hpp"

namespace {

using namespace lowbit;

TEST(Fp8Api, RejectsMismatchedSizes) {
  std::vector<float> in(4);
  std::vector<std::uint8_t> out(3);
  EXPECT_THROW(fp8::encode(std::span<const float>(in), std::span(out)), Error);
  std::vector<float> back(5);
  EXPECT_THROW(fp8::decode(std::span<const std::uint8_t>(out), std::span(back)), Error);
}

TEST(Fp8Api, RejectsUnknownProfileWithTheValidNames) {
  std::vector<float> in(1);
  std::vector<std::uint8_t> out(1);
  try {
    fp8::profile("cuda");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda-satfinite"), std::string::npos) << e.what();
  }
}

TEST(Fp8Api, RejectsMisusedRandomBits) {
  std::vector<float> in(4, 1.1f);
  std::vector<std::uint8_t> out(4);
  std::vector<std::uint32_t> words(3);
  fp8::Options o;
  o.rounding = Rounding::sr;
  o.random_bits = words;
  EXPECT_THROW(fp8::encode(std::span<const float>(in), std::span(out), o), Error);  // 3 words, 4 elements
  words.resize(4);
  o.random_bits = words;
  o.rounding = Rounding::rne;
  EXPECT_THROW(fp8::encode(std::span<const float>(in), std::span(out), o), Error);  // words without sr
}

TEST(Fp8Api, EmptySpansAreFine) {
  fp8::Options o;
  EXPECT_NO_THROW(fp8::encode(std::span<const float>(), std::span<std::uint8_t>(), o));
}

std::vector<float> ramp(std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = 0.37f * static_cast<float>(i) - 100.f;
  return v;
}

TEST(Fp8Api, StochasticRoundingDoesNotDependOnChunking) {
  const std::vector<float> in = ramp(1001);
  fp8::Options o;
  o.rounding = Rounding::sr;
  o.seed = 0xfeedfacecafebeefull;
  std::vector<std::uint8_t> whole(in.size()), parts(in.size());
  fp8::encode(std::span<const float>(in), std::span(whole), o);
  for (std::size_t begin = 0; begin < in.size(); begin += 333) {
    const std::size_t n = std::min<std::size_t>(333, in.size() - begin);
    o.index0 = begin;
    fp8::encode(std::span<const float>(in).subspan(begin, n), std::span(parts).subspan(begin, n), o);
  }
  EXPECT_EQ(whole, parts);
}

TEST(Fp8Api, ExplicitRandomWordsEqualPhilox) {
  const std::vector<float> in = ramp(257);
  fp8::Options o;
  o.rounding = Rounding::sr;
  o.seed = 99;
  std::vector<std::uint8_t> philox(in.size()), given(in.size());
  fp8::encode(std::span<const float>(in), std::span(philox), o);
  std::vector<std::uint32_t> words(in.size());
  for (std::size_t i = 0; i < words.size(); ++i) words[i] = ref::philox_word(99, i);
  o.random_bits = words;
  o.seed = 0;  // ignored when words are given
  fp8::encode(std::span<const float>(in), std::span(given), o);
  EXPECT_EQ(philox, given);
  std::size_t differ = 0;  // and sr is not rne in disguise
  fp8::Options rne;
  std::vector<std::uint8_t> nearest(in.size());
  fp8::encode(std::span<const float>(in), std::span(nearest), rne);
  for (std::size_t i = 0; i < in.size(); ++i) differ += nearest[i] != given[i];
  EXPECT_GT(differ, 10u);
}

}  // namespace
