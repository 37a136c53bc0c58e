// fp8::pack / unpack (lowbit/formats/packing.hpp): the worked examples of docs/formats/fp6-fp4.md,
// "Packed storage", bit for bit; every tail length against the layout's rule written independently
// (stream bit k = bit k % 8 of byte k / 8); and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "error_code.hpp"
#include "lowbit/fp8.hpp"

namespace {

using namespace lowbit;
using Bytes = std::vector<std::uint8_t>;

struct Example {
  fp8::Format format;
  Bytes codes;
  std::vector<float> values;  // what the codes decode to (the page's table)
  Bytes packed;
};

// docs/formats/fp6-fp4.md, "Worked examples of packing": the same codes, values and bytes.
const Example kExamples[] = {
    {fp8::Format::e2m1, {0x2, 0xF, 0x1}, {1.0f, -6.0f, 0.5f}, {0xF2, 0x01}},
    {fp8::Format::e2m3, {0x08, 0x3F, 0x01, 0x14, 0x28}, {1.0f, -7.5f, 0.125f, 3.0f, -1.0f}, {0xC8, 0x1F, 0x50, 0x28}},
    {fp8::Format::e3m2, {0x0C, 0x3F, 0x01, 0x04, 0x20, 0x0D}, {1.0f, -28.0f, 0.0625f, 0.25f, -0.0f, 1.25f},
     {0xCC, 0x1F, 0x10, 0x60, 0x03}},
};

TEST(PackingApi, WorkedExamplesOfTheDocs) {
  for (const Example& e : kExamples) {
    SCOPED_TRACE(traits(e.format).name);
    fp8::Options o;
    o.format = e.format;
    const std::vector<float> v = fp8::decode<float>(e.codes, o);
    for (std::size_t i = 0; i < v.size(); ++i) {
      EXPECT_EQ(v[i], e.values[i]) << i;
      EXPECT_EQ(std::signbit(v[i]), std::signbit(e.values[i])) << i;
    }
    EXPECT_EQ(fp8::pack(e.codes, e.format), e.packed);
    EXPECT_EQ(fp8::unpack(e.packed, e.codes.size(), e.format), e.codes);
  }
}

bool stream_bit(const Bytes& b, std::size_t k) { return (b[k / 8] >> (k % 8)) & 1; }

TEST(PackingApi, EveryTailFollowsTheBitStreamRule) {
  std::mt19937 rng(20261207);
  for (fp8::Format f : fp8::kFormats) {
    const int w = traits(f).width();
    for (std::size_t n = 0; n <= 65; ++n) {
      SCOPED_TRACE(testing::Message() << traits(f).name << " n=" << n);
      Bytes codes(n);
      for (auto& c : codes) c = static_cast<std::uint8_t>(rng() & ((1u << w) - 1));
      const Bytes packed = fp8::pack(codes, f);
      ASSERT_EQ(packed.size(), (n * w + 7) / 8);
      for (std::size_t k = 0; k < packed.size() * 8; ++k) {
        const bool want = k < n * w && ((codes[k / w] >> (k % w)) & 1);  // past n*w: zero padding
        ASSERT_EQ(stream_bit(packed, k), want) << "bit " << k;
      }
      EXPECT_EQ(fp8::unpack(packed, n, f), codes);
      Bytes back(n);
      fp8::unpack(packed, std::span(back), f);
      EXPECT_EQ(back, codes);
    }
  }
}

TEST(PackingApi, RejectsBadSizesCodesAndPadding) {
  const Bytes fp4{0x2, 0xF, 0x1};
  Bytes out(1);
  EXPECT_EQ(error_code([&] { fp8::pack(fp4, std::span(out), fp8::Format::e2m1); }), Errc::invalid);  // 3 codes: 2 bytes
  EXPECT_EQ(error_code([&] { fp8::unpack(Bytes{0xF2}, 3, fp8::Format::e2m1); }), Errc::invalid);
  EXPECT_EQ(error_code([&] { fp8::unpack(Bytes{0xF2, 0x01, 0x00}, 3, fp8::Format::e2m1); }), Errc::invalid);
  EXPECT_EQ(error_code([&] { fp8::unpack(Bytes{0xC8, 0x1F}, 4, fp8::Format::e2m3); }), Errc::invalid);
  // A code wider than the format, and a set padding bit, are malformed data.
  EXPECT_EQ(error_code([&] { fp8::pack(Bytes{0x2, 0x10}, fp8::Format::e2m1); }), Errc::data);
  EXPECT_EQ(error_code([&] { fp8::pack(Bytes{0x40}, fp8::Format::e3m2); }), Errc::data);
  EXPECT_EQ(error_code([&] { fp8::unpack(Bytes{0xF2, 0x11}, 3, fp8::Format::e2m1); }), Errc::data);
  EXPECT_EQ(error_code([&] { fp8::unpack(Bytes{0x28 | 0x40}, 1, fp8::Format::e2m3); }), Errc::data);
  try {
    fp8::pack(Bytes{0x2, 0x10}, fp8::Format::e2m1);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("code 1 is 0x10"), std::string::npos) << e.what();
  }
}

}  // namespace
