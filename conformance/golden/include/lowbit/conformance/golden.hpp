// Reading the golden data shipped in conformance/golden/ (formats described in each README).
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace lowbit::conformance {

// One run of a .runs file: inputs [start, next start) all map to `out`.
struct Run {
  std::uint32_t start;
  std::uint8_t out;
};

// One record of a .vec file.
struct F64Case {
  std::uint64_t bits;
  std::uint8_t out;
};

class GoldenDir {
 public:
  explicit GoldenDir(std::filesystem::path root);
  static GoldenDir from_env();  // $LOWBIT_GOLDEN, else the copy in the source tree

  const std::filesystem::path& root() const { return root_; }
  bool has(const std::string& rel) const;
  std::vector<std::uint8_t> bytes(const std::string& rel) const;  // throws if missing
  std::vector<Run> runs(const std::string& rel) const;
  std::vector<F64Case> vec(const std::string& rel) const;
  template <class T> std::vector<T> array(const std::string& rel) const;  // little-endian words

  // The rows of a tab-separated file after its header line, each split into its fields.
  std::vector<std::vector<std::string>> tsv(const std::string& rel) const;

  // "<sha256>  <name>" lines of `sums` (relative path), e.g. fp8/SHA256SUMS.
  std::map<std::string, std::string> sums(const std::string& rel) const;

 private:
  std::filesystem::path root_;
};

// The output a run list gives for input `bits`.
std::uint8_t lookup(const std::vector<Run>& runs, std::uint32_t bits);

}  // namespace lowbit::conformance
