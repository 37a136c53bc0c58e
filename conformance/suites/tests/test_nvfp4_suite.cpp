// The NVFP4 suite passes on every kernel row and on a kernel that is not the reference's function (so
// that its random tensors run against the reference), and it catches each of five broken kernels.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "lowbit/conformance/block_suite.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/nvfp4.hpp"

namespace {

using namespace lowbit;
using namespace lowbit::conformance;

std::string describe(const Check& c) {
  return c.impl + " " + c.name + ": " + std::to_string(c.errors) + " errors in " + std::to_string(c.cases) + " cases" +
         (c.first_errors.empty() ? "" : ", first: " + c.first_errors.front());
}

std::vector<Check> suite(const nvfp4::Impl& impl, std::vector<Rounding> roundings = {Rounding::rne, Rounding::sr}) {
  BlockSuiteOptions o;
  o.groups = 400;  // 20 tensors per blocking and layout
  o.roundings = std::move(roundings);
  return run_nvfp4_suite(impl, GoldenDir::from_env(), o);
}

TEST(Nvfp4Conformance, EveryKernelRowPasses) {
  for (const nvfp4::Impl& impl : kernels::list<nvfp4::Impl>()) {
    if (!kernels::available(impl)) continue;
    const std::vector<Check> checks = run_nvfp4_suite(impl, GoldenDir::from_env(), {});
    ASSERT_FALSE(checks.empty());
    for (const Check& c : checks) EXPECT_TRUE(c.passed()) << describe(c);
    if (std::string(impl.name) == "reference") {
      EXPECT_EQ(checks.size(), 3u + 2);  // fixed vectors rne, sr, decode; the two golden conversions
      EXPECT_EQ(checks.back().name, "f32 sample block scales -> fp8/mld_sat_f32_to_e4m3fn.runs");
    }
  }
}

// The reference behind other function pointers: the suite takes it for another kernel and checks its
// random tensors against the reference, which they must equal.
void wrapped_encode(const float* in, std::uint8_t* codes, std::uint8_t* scales, const nvfp4::EncodeParams* p) {
  ref::nvfp4_encode_ref(in, codes, scales, p);
}
void wrapped_decode(const std::uint8_t* codes, const std::uint8_t* scales, float* out, const nvfp4::DecodeParams* p) {
  ref::nvfp4_decode_ref(codes, scales, out, p);
}
nvfp4::Impl kernel(const char* name, nvfp4::EncodeFn encode = wrapped_encode, nvfp4::DecodeFn decode = wrapped_decode) {
  return {name, 1, 0, encode, decode};
}

TEST(Nvfp4Conformance, ARightKernelPassesTheRandomTensors) {
  const std::vector<Check> checks = suite(kernel("wrapped"));
  ASSERT_EQ(checks.size(), 3u + 4);  // fixed vectors; random tensors per blocking and scale layout
  for (const Check& c : checks) {
    EXPECT_TRUE(c.passed()) << describe(c);
    EXPECT_EQ(c.format, "nvfp4");
    EXPECT_EQ(c.profile, "transformer-engine");
  }
  EXPECT_EQ(checks[3].name, "random 1d linear tensors encode+decode -> reference");
  EXPECT_GT(checks[6].cases, 20u * 16);
  // --rounding scopes the encode checks; decode runs whatever the scope.
  const std::vector<Check> sr_only = suite(kernel("wrapped"), {Rounding::sr});
  EXPECT_EQ(sr_only.size(), 2u + 4);
  EXPECT_EQ(sr_only[0].name, "fixed vectors sr -> docs/formats/nvfp4.md");
}

// Faults: each fails the checks that can see it, and only those.
void ties_away(const float* in, std::uint8_t* codes, std::uint8_t* scales, const nvfp4::EncodeParams* p) {
  ref::nvfp4_encode_ref(in, codes, scales, p);
  if (p->rounding != Rounding::rne) return;
  const float s_enc = ref::nvfp4_global_encode_scale(p->global_amax);
  for (std::size_t r = 0; r < p->rows; ++r)
    for (std::size_t c = 0; c < p->cols; ++c) {
      const float enc = ref::nvfp4_encode_scale(scales[nvfp4::scale_index(r, c / 16, p->cols, p->layout)], s_enc);
      const float y = std::fabs(in[r * p->cols + c] * enc);
      for (int k = 0; k < 7; ++k)  // a tie between codes k and k + 1: round up
        if (y == (ref::nvfp4_element_value(static_cast<std::uint8_t>(k)) + ref::nvfp4_element_value(static_cast<std::uint8_t>(k + 1))) / 2)
          codes[r * p->cols + c] = static_cast<std::uint8_t>((codes[r * p->cols + c] & 8) | (k + 1));
    }
}
void linear_always(const float* in, std::uint8_t* codes, std::uint8_t* scales, const nvfp4::EncodeParams* p) {
  nvfp4::EncodeParams q = *p;
  q.layout = nvfp4::ScaleLayout::linear;
  std::fill(scales, scales + nvfp4::scale_count(p->rows, p->cols, p->layout), std::uint8_t{0});
  ref::nvfp4_encode_ref(in, codes, scales, &q);
}
void one_d_always(const float* in, std::uint8_t* codes, std::uint8_t* scales, const nvfp4::EncodeParams* p) {
  nvfp4::EncodeParams q = *p;
  q.blocking = nvfp4::Blocking::d1;
  ref::nvfp4_encode_ref(in, codes, scales, &q);
}
// sr bytes taken from the top of each word down.
void sr_bytes_reversed(const float* in, std::uint8_t* codes, std::uint8_t* scales, const nvfp4::EncodeParams* p) {
  std::vector<std::uint32_t> words(p->random ? p->rows * nvfp4::sr_words_per_row(p->cols) : 0);
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::uint32_t w = p->random[i];
    words[i] = (w >> 24) | ((w >> 8) & 0xFF00) | ((w << 8) & 0xFF0000) | (w << 24);
  }
  nvfp4::EncodeParams q = *p;
  q.random = words.data();
  ref::nvfp4_encode_ref(in, codes, scales, &q);
}
// amax / 2688 where TE multiplies by f32(1 / 2688).
void divides_by_2688(const std::uint8_t* codes, const std::uint8_t* scales, float* out, const nvfp4::DecodeParams* p) {
  for (std::size_t r = 0; r < p->rows; ++r)
    for (std::size_t c = 0; c < p->cols; ++c) {
      const float s = ref::nvfp4_scale_value(scales[nvfp4::scale_index(r, c / 16, p->cols, p->layout)]) * (p->global_amax / 2688.0f);
      out[r * p->cols + c] = ref::nvfp4_element_value(codes[r * p->cols + c]) * s;
    }
}

// The names of the failed checks.
std::vector<std::string> failed(const std::vector<Check>& checks) {
  std::vector<std::string> out;
  for (const Check& c : checks)
    if (c.failed()) out.push_back(c.name);
  return out;
}

TEST(Nvfp4Conformance, BrokenKernelsAreCaught) {
  using V = std::vector<std::string>;
  const std::string fixed_rne = "fixed vectors rne -> docs/formats/nvfp4.md", fixed_sr = "fixed vectors sr -> docs/formats/nvfp4.md";
  const std::string d1l = "random 1d linear tensors encode+decode -> reference", d1s = "random 1d swizzled tensors encode+decode -> reference",
                    d2l = "random 2d linear tensors encode+decode -> reference", d2s = "random 2d swizzled tensors encode+decode -> reference";
  EXPECT_EQ(failed(suite(kernel("ties-away", ties_away))), (V{fixed_rne, d1l, d1s, d2l, d2s}));
  EXPECT_EQ(failed(suite(kernel("linear-always", linear_always))), (V{fixed_rne, d1s, d2s}));
  EXPECT_EQ(failed(suite(kernel("1d-always", one_d_always))), (V{fixed_rne, d2l, d2s}));
  EXPECT_EQ(failed(suite(kernel("sr-bytes-reversed", sr_bytes_reversed))), (V{fixed_sr, d1l, d1s, d2l, d2s}));
  // Decode only; its fixed vector is the FLT_MAX tensor, 448 * (FLT_MAX / 2688) finite where TE's factor is Inf.
  EXPECT_EQ(failed(suite(kernel("divides-by-2688", wrapped_encode, divides_by_2688))),
            (V{"fixed vectors decode -> docs/formats/nvfp4.md", d1l, d1s, d2l, d2s}));
  // The mismatch names the tensor, the element and both codes.
  const std::vector<Check> ties = suite(kernel("ties-away", ties_away));
  ASSERT_FALSE(ties[0].first_errors.empty());
  EXPECT_NE(ties[0].first_errors[0].find("worked example: element (0, 1) (0x448c0000) => code 0x5 expected 0x4"), std::string::npos)
      << ties[0].first_errors[0];
}

}  // namespace
