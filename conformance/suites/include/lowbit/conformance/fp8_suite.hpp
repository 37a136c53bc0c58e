// The minifloat (FP8 family) conformance suite: runs against any implementation (a kernel-table entry
// or a plugin) and checks it, for every format and every profile that applies to it, against the
// golden data of the peers (golden/minifloat: ml_dtypes' tables of every format in rne, sat and rtz;
// golden/fp8: the f32 run lists and stream digests, CUDA's tables) and against the reference.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "lowbit/conformance/golden.hpp"
#include "lowbit/conformance/level.hpp"
#include "lowbit/conformance/report.hpp"
#include "lowbit/formats/fp8.hpp"

namespace lowbit::conformance {

struct Fp8SuiteOptions {
  // quick: every f16/bf16 input, all 2^width codes, the f64 vectors, a structured + random f32 sample;
  // full: quick, plus all 2^32 f32 inputs: the stream digests (rne, fp8_f32_stream_digest) of every
  // format and profile, and, for an implementation other than the reference, rtz against the reference.
  Level level = Level::quick;
  // full within CI's budget (the exhaustive tests): the stream of each format's default profile only.
  bool ci_budget = false;
  unsigned threads = 1;
  std::size_t max_errors = 8;
  std::uint64_t seed = 1;          // random cases and the Philox key of the sr checks
  std::size_t random_cases = 1 << 18;
  std::vector<fp8::Format> formats{fp8::kFormats.begin(), fp8::kFormats.end()};
  std::vector<const fp8::Profile*> profiles = all_profiles();  // each run on the formats it applies to
  // The roundings of the encode checks (the golden ones are rne); decode checks always run.
  std::vector<Rounding> roundings{kMinifloatRoundings.begin(), kMinifloatRoundings.end()};

  static std::vector<const fp8::Profile*> all_profiles();
};

std::vector<Check> run_fp8_suite(const fp8::Impl& impl, const GoldenDir& golden,
                                 const Fp8SuiteOptions& options);

// Names of a profile's files in golden/fp8, e.g. ("cuda-nosat", e4m3, "f16", "u8") ->
// "fp8/cuda_nosat_f16_to_e4m3.u8", ("ml_dtypes", e2m1, "f32", "runs") -> "fp8/f32_to_e2m1fn.runs".
std::string fp8_golden_encode_file(const fp8::Profile& p, fp8::Format f, std::string_view source,
                                   std::string_view ext);
// The SHA-256 of the 2^32 f32 encodings (rne) and the list it comes from: the peers'
// (fp8/f32_streams.sha256) where the golden data has one, else lowbit's reference digest
// (reference/f32_streams.sha256, scripts/reference-digests); none if neither lists the stream.
struct StreamDigest {
  std::string sha256, source;
};
std::optional<StreamDigest> fp8_f32_stream_digest(const GoldenDir& g, const fp8::Profile& p, fp8::Format f);

}  // namespace lowbit::conformance
