// The NF4/FP4 conformance suite: any implementation against the bitsandbytes golden data
// (conformance/golden/nf4, read through its manifest) and against the reference.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lowbit/conformance/block_suite.hpp"
#include "lowbit/conformance/golden.hpp"
#include "lowbit/conformance/report.hpp"
#include "lowbit/formats/nf4.hpp"

namespace lowbit::conformance {

// manifest.tsv: (case, semantics, quantity) -> file (+ dtype, elements, bytes, sha256).
class Nf4Manifest {
 public:
  struct Entry {
    std::string file, dtype, sha;
    std::size_t elements = 0, bytes = 0;
  };
  explicit Nf4Manifest(const GoldenDir& dir);

  const std::map<std::string, Entry>& entries() const { return entries_; }
  const std::vector<std::string>& cases() const { return cases_; }
  bool has(const std::string& c, const std::string& sem, const std::string& q) const;
  std::vector<std::uint8_t> u8(const std::string& c, const std::string& sem, const std::string& q) const;
  std::vector<std::uint32_t> f32(const std::string& c, const std::string& sem, const std::string& q) const;
  const GoldenDir& dir() const { return dir_; }

 private:
  GoldenDir dir_;
  std::map<std::string, Entry> entries_;
  std::vector<std::string> cases_;
};

// Golden semantics and the lowbit profile that reproduces it.
inline constexpr std::pair<const char*, const char*> kNf4GoldenSemantics[] = {
    {"bnbcpu", "bnb-cpu"}, {"bnbdefault", "bnb-torch"}, {"cudasem", "bnb-cuda"}};

std::vector<Check> run_nf4_suite(const nf4::Impl& impl, const GoldenDir& golden, const BlockSuiteOptions& o);

}  // namespace lowbit::conformance
