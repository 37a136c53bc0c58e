// The golden data shipped in the repository is intact: every file listed in SHA256SUMS matches.
#include <gtest/gtest.h>

#include <filesystem>

#include "lowbit/conformance/golden.hpp"
#include "lowbit/conformance/sha256.hpp"

namespace {

using namespace lowbit::conformance;

TEST(GoldenFiles, Sha256Sums) {
  const GoldenDir g = GoldenDir::from_env();
  const auto sums = g.sums("fp8/SHA256SUMS");
  std::size_t data_files = 0;  // everything but the README and the two digest lists
  for (const auto& e : std::filesystem::directory_iterator(g.root() / "fp8"))
    data_files += e.path().extension() != ".md" && e.path().extension() != ".sha256" && e.path().filename() != "SHA256SUMS";
  EXPECT_EQ(sums.size(), data_files);
  EXPECT_GE(sums.size(), 53u);
  for (const auto& [name, digest] : sums) EXPECT_EQ(sha256_hex(g.bytes("fp8/" + name)), digest) << name;
}

TEST(GoldenFiles, Sha256OfKnownInput) {  // FIPS 180-2 example "abc"
  const std::uint8_t abc[] = {'a', 'b', 'c'};
  EXPECT_EQ(sha256_hex(abc), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
