// Philox-4x32-10 known-answer vectors (Random123 kat_vectors, philox4x32_10).
#include <gtest/gtest.h>

#include "lowbit/reference/philox.hpp"

namespace {
using lowbit::ref::philox4x32_10;
using lowbit::ref::PhiloxBlock;

TEST(Philox, KnownAnswerVectors) {
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}),
            (PhiloxBlock{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
            (PhiloxBlock{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
            (PhiloxBlock{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(Philox, ElementWordsFollowTheDocumentedCounter) {
  const std::uint64_t seed = 0x0123456789abcdefull;
  for (std::uint64_t i : {0ull, 1ull, 3ull, 4ull, 7ull, 1000001ull, (1ull << 34) + 5}) {
    const std::uint64_t block = i / 4;
    const PhiloxBlock b = philox4x32_10(
        {static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32), 0, 0},
        {0x89abcdef, 0x01234567});
    EXPECT_EQ(lowbit::ref::philox_word(seed, i), b[i % 4]) << i;
  }
}

}  // namespace
