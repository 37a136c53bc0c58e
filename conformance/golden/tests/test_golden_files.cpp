// The golden data shipped in the repository is intact: every file listed in SHA256SUMS matches.
#include <gtest/gtest.h>

#include <filesystem>

#include "lowbit/conformance/golden.hpp"
#include "lowbit/conformance/sha256.hpp"

namespace {

using namespace lowbit::conformance;

// Each folder's SHA256SUMS lists every data file in it (all but the README and the digest lists).
void expect_sums_cover(const std::string& folder, std::size_t at_least) {
  const GoldenDir g = GoldenDir::from_env();
  const auto sums = g.sums(folder + "/SHA256SUMS");
  std::size_t data_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(g.root() / folder))
    data_files += e.path().extension() != ".md" && e.path().extension() != ".sha256" && e.path().filename() != "SHA256SUMS";
  EXPECT_EQ(sums.size(), data_files) << folder;
  EXPECT_GE(sums.size(), at_least) << folder;
  for (const auto& [name, digest] : sums) EXPECT_EQ(sha256_hex(g.bytes(folder + "/" + name)), digest) << folder << "/" << name;
}

TEST(GoldenFiles, Sha256Sums) {
  expect_sums_cover("fp8", 53);
  expect_sums_cover("minifloat", 110);  // 11 formats x (decode + 3 sources x 3 modes)
  expect_sums_cover("llvm", 26);
  expect_sums_cover("p3109", 182);       // 14 formats x (decode + 3 sources x 4 modes)
  expect_sums_cover("p3109-spec", 985);  // 30 formats x decode, 16-bit tables of every mode, f64 vectors (README)
}

TEST(GoldenFiles, Sha256OfKnownInput) {  // FIPS 180-2 example "abc"
  const std::uint8_t abc[] = {'a', 'b', 'c'};
  EXPECT_EQ(sha256_hex(abc), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
