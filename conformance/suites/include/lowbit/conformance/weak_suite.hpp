// The OWQ / QEFT conformance suite: the reference quantizer and packers against the golden
// buffers of xvyaward/qeft and xvyaward/owq (conformance/golden/{qeft,owq}, read through their
// manifests), unpacking against the golden dequantized weights, and any QEFT matvec
// implementation against the golden weights and the reference.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "lowbit/conformance/block_suite.hpp"
#include "lowbit/conformance/golden.hpp"
#include "lowbit/conformance/report.hpp"
#include "lowbit/formats/weak.hpp"
#include "lowbit/formats/weak.hpp"

namespace lowbit::conformance {

struct WeakGoldenCase {
  std::string name;  // e.g. q_rand_128x256_k64, o3_edge_128x256_k8
  weak::Layout layout;
  weak::QuantOptions options;  // every shipped case is the repos' minmax (RTN) path
  std::size_t oc = 0, ic = 0, k = 0;
};

// manifest.tsv of golden/qeft or golden/owq: case, file, dtype, shape, bytes, sha256.
class WeakGolden {
 public:
  struct Entry {
    std::string file, dtype, shape, sha;
    std::size_t bytes = 0;
  };
  WeakGolden(const GoldenDir& dir, weak::Layout layout);

  const std::vector<WeakGoldenCase>& cases() const { return cases_; }
  const std::map<std::string, Entry>& entries() const { return entries_; }  // key: file name
  bool has(const std::string& c, const std::string& quantity) const;
  template <class T> std::vector<T> read(const std::string& c, const std::string& quantity) const;
  std::string folder() const { return folder_; }
  const GoldenDir& dir() const { return dir_; }

 private:
  const Entry& entry(const std::string& c, const std::string& quantity) const;
  GoldenDir dir_;
  std::string folder_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> by_quantity_;  // "case/quantity" -> file
  std::vector<WeakGoldenCase> cases_;
};

// A QEFT layer with random buffers (every qweight bit pattern; fp16 scales, zeros and weak
// columns over many binades, some subnormal) for checking kernels: oc x ic, k weak, `group`
// columns per group.
struct RandomQeft {
  std::size_t oc, ic, k, group;
  std::vector<std::int16_t> qweight;
  std::vector<std::uint16_t> scales, scaled_zeros, oweight;
  qeft::Matrix view() const { return {oc, ic, k, group, qweight.data(), scales.data(), scaled_zeros.data(), oweight.empty() ? nullptr : oweight.data()}; }
};
RandomQeft random_qeft(std::uint64_t seed, std::size_t oc, std::size_t ic, std::size_t k, std::size_t group);
std::vector<float> random_activations(std::uint64_t seed, std::size_t n);

// The reference's golden checks (pack, unpack) when `impl` is the reference; for every impl its
// matvec on the golden layers (against the 8-lane fma sum of the golden weights) and, for an
// optimized impl, on random layers against the reference.
std::vector<Check> run_weak_suite(const qeft::Impl& impl, const GoldenDir& golden, const BlockSuiteOptions& o);

}  // namespace lowbit::conformance
