// lowbit gen / lowbit verify: golden test vectors as .npy files (or one .safetensors) + manifest.json, and the
// TestFloat-style comparison of a vendor's outputs with them (lowbit/conformance/golden_gen.hpp).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "lowbit/formats/gse.hpp"

namespace lowbit::cli {

struct GenArgs {
  std::string format;               // e4m3 | e4m3fn | e5m2 | gse | nf4 | fp4 | an MX format (mxfp8-e4m3, ...)
  gse::Format gse;                    // format gse: main fills it from the GSE options (gse_format)
  int block = 64;                   // nf4 / fp4: block size
  bool double_quant = false;        // nf4 / fp4: add the double-quantization arrays and tests
  std::string profile;              // FP8 or NF4 profile; empty: ml_dtypes (FP8), lowbit (NF4)
  std::string rounding;             // empty: the format's default (rne; MX nearest)
  std::string level = "quick";      // boundary | quick (lowbit/conformance/level.hpp)
  std::uint64_t seed = 1;           // random cases (quick) and the Philox key of sr
  std::size_t n = 100000;           // random cases at quick
  std::string out;                  // -o DIR
  std::string container = "npy";    // npy (a file per array) | safetensors (one golden.safetensors)
  // qeft / owq (main copies --bits / --group, shared with the GSE options, when given)
  std::optional<int> weak_bits, weak_group;  // default: 4; qeft 128, owq 0
  std::string tuning = "mse";                // as lowbit pack: minmax | mse
  std::optional<int> grid;                   // mse: weak::default_grid
  bool sym = false;
  std::size_t weak = 32, rows = 16, cols = 256;
  // gse-gemm (the format in gse)
  std::size_t gemm_m = 5, gemm_n = 17, gemm_k = 0;  // k = 0: 4 N + 3
  std::string accumulate = "exact";          // exact | fp32
};

struct VerifyArgs {
  std::string format;               // as GenArgs::format
  std::string golden;               // --golden DIR
  std::string actual;               // --actual FILE|DIR
  std::size_t errors = 20;          // --errors N: mismatches listed
  bool tolerance = false;           // --tolerance: use the set's per-element bounds (gse-gemm fp32)
  bool json = false;
};

int run_gen(const GenArgs& a);       // 0 on success
int run_verify(const VerifyArgs& a); // 0: no errors; 1: a mismatch (errors thrown as exceptions)

}  // namespace lowbit::cli
