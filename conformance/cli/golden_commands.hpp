// lowbit gen / lowbit verify: golden test vectors as .npy files (or one .safetensors) + manifest.json, and the
// TestFloat-style comparison of a vendor's outputs with them (lowbit/conformance/golden_gen.hpp).
#pragma once
#include <cstdint>
#include <string>

#include "lowbit/formats/gse.hpp"

namespace lowbit::cli {

struct GenArgs {
  std::string format;               // e4m3 | e4m3fn | e5m2 | gse | nf4 | fp4
  GseFormat gse;                    // format gse: main fills it from the GSE options (gse_format)
  int block = 64;                   // nf4 / fp4: block size
  std::string profile;              // FP8 or NF4 profile; empty: ml_dtypes (FP8), lowbit (NF4)
  std::string rounding = "rne";
  int level = 1;
  std::uint64_t seed = 1;           // random cases (level 2) and the Philox key of sr
  std::size_t n = 100000;           // random cases at level 2
  std::string out;                  // -o DIR
  std::string container = "npy";    // npy (a file per array) | safetensors (one golden.safetensors)
};

struct VerifyArgs {
  std::string format;               // e4m3 | e4m3fn | e5m2 | gse | nf4 | fp4
  std::string golden;               // --golden DIR
  std::string actual;               // --actual FILE|DIR
  std::size_t errors = 20;          // --errors N: mismatches listed
  bool json = false;
};

int run_gen(const GenArgs& a);       // 0 on success
int run_verify(const VerifyArgs& a); // 0: no errors; 1: a mismatch (errors thrown as exceptions)

}  // namespace lowbit::cli
