// lowbit gen / verify for NVFP4: the reference's own outputs verify in every blocking, scale layout and
// rounding; the sets hold the docs' vectors with their documented bytes, every tie at every block scale,
// tails and the random tensors asked for; a corrupted output is reported in its class.
#include <gtest/gtest.h>

#include <bit>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lowbit/conformance/golden_gen.hpp"
#include "lowbit/conformance/nvfp4_cases.hpp"
#include "lowbit/io/npy.hpp"
#include "testing/temp_dir.hpp"

namespace npy = lowbit::io::npy;
using namespace lowbit;
using namespace lowbit::conformance;

namespace {

template <class T> std::vector<T> arr(const std::string& dir, const std::string& name) { return npy::read(dir + "/" + name + ".npy").values<T>(); }

TEST(GoldenGenNvfp4, ReferenceVerifiesInEveryBlockingLayoutAndRounding) {
  for (const nvfp4::Blocking b : {nvfp4::Blocking::d1, nvfp4::Blocking::d2})
    for (const nvfp4::ScaleLayout l : {nvfp4::ScaleLayout::linear, nvfp4::ScaleLayout::swizzled})
      for (const Rounding r : {Rounding::rne, Rounding::sr}) {
        const std::string what = fmt::format("{} {} {}", name(b), name(l), name(r));
        const std::string dir = fresh_temp_path("lowbit_golden_nvfp4");
        Nvfp4GenOptions o;
        o.blocking = b;
        o.layout = l;
        o.rounding = r;
        o.random = 3000;
        const GenSummary s = gen_nvfp4(o, dir);
        const std::vector<Nvfp4GenTensor> tensors = nvfp4_gen_tensors(o);
        std::size_t elements = 0, scales = 0;
        for (const Nvfp4GenTensor& t : tensors) {
          elements += t.rows * t.cols;
          scales += nvfp4::scale_count(t.rows, t.cols, l);
        }
        EXPECT_EQ(s.cases, elements) << what;
        EXPECT_GE(s.counts.at("random"), 3000u) << what;
        EXPECT_EQ(arr<std::uint32_t>(dir, "tensors").size(), 2 * tensors.size()) << what;
        EXPECT_EQ(arr<std::uint32_t>(dir, "amax").size(), tensors.size()) << what;
        EXPECT_EQ(arr<std::uint8_t>(dir, "expected_scales").size(), scales) << what;
        const VerifyResult v = verify_golden(dir, dir, 8);
        EXPECT_TRUE(v.passed()) << what << verify_text(v);
        EXPECT_EQ(v.tests, 2 * elements + scales) << what;
        EXPECT_EQ(v.format, "nvfp4");
        EXPECT_EQ(v.rounding, name(r));
        // Every element value, tie and near tie at every block scale 2^-9 .. 2^8: scales 0x01 .. 0x58.
        if (r == Rounding::rne) {
          EXPECT_GE(v.classes.at("codes ties").tests, 18u * 32) << what;
        }
      }
}

// The docs' worked example keeps its documented bytes in a set of its options; a corrupted code is one error of
// its class, the operand and both codes shown.
TEST(GoldenGenNvfp4, DocumentedBytesAndACorruptedCode) {
  const std::string dir = fresh_temp_path("lowbit_golden_nvfp4_docs");
  Nvfp4GenOptions o;
  o.level = Level::boundary;
  gen_nvfp4(o, dir);
  const Nvfp4Fixed worked = nvfp4_fixed_vectors().front();
  std::vector<std::uint8_t> codes = arr<std::uint8_t>(dir, "expected_codes");
  const std::vector<std::uint8_t> scales = arr<std::uint8_t>(dir, "expected_scales");
  EXPECT_EQ(std::vector<std::uint8_t>(codes.begin(), codes.begin() + 32), worked.codes);
  EXPECT_EQ(std::vector<std::uint8_t>(scales.begin(), scales.begin() + 2), worked.scales);
  EXPECT_EQ(arr<std::uint32_t>(dir, "amax")[0], std::bit_cast<std::uint32_t>(2688.0f));
  codes[1] ^= 1;  // 1120 ties to 2 (code 4): 5 is 3
  const std::string actual = fresh_temp_path("lowbit_golden_nvfp4_actual");
  std::filesystem::create_directories(actual);
  npy::write(actual + "/expected_codes.npy", npy::make_array("|u1", codes));
  const VerifyResult v = verify_golden(dir, actual, 8);
  EXPECT_EQ(v.errors, 1u);
  EXPECT_EQ(v.classes.at("codes docs").errors, 1u);
  ASSERT_EQ(v.examples.size(), 1u);
  EXPECT_EQ(v.examples[0].index, 1u);
  EXPECT_EQ(v.examples[0].input, std::bit_cast<std::uint32_t>(1120.0f));
  EXPECT_EQ(v.examples[0].got, 5u);
  EXPECT_EQ(v.examples[0].expected, 4u);
  EXPECT_THROW(gen_nvfp4([] {
                 Nvfp4GenOptions bad;
                 bad.rounding = Rounding::rna;
                 return bad;
               }(),
                         fresh_temp_path("lowbit_golden_nvfp4_rna")),
               std::runtime_error);
}

}  // namespace
