// lowbit gen / verify commands (conformance/tool/golden_commands.cpp), called directly. Not named
// test_*.cpp: CMake adds it to lowbit_tests together with golden_commands.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "golden_commands.hpp"
#include "lowbit/conformance/golden_gen.hpp"
#include "lowbit/io/npy.hpp"
#include "stream.hpp"
#include "testing/temp_dir.hpp"

namespace fs = std::filesystem;
namespace npy = lowbit::io::npy;
using namespace lowbit;
using namespace lowbit::conformance;

namespace {

std::string temp_dir(const std::string& name) { return fresh_temp_path("lowbit_golden_cmd_" + name); }

}  // namespace

TEST(GoldenCommands, Fp8) {
  const std::string dir = temp_dir("cli");
  cli::GenArgs g;
  g.format = "e4m3fn";
  g.profile = "ml_dtypes-sat";
  g.rounding = "rtz";
  g.level = "quick";
  g.n = 100;
  g.out = dir;
  EXPECT_EQ(cli::run_gen(g), 0);
  cli::VerifyArgs v;
  v.format = "e4m3";
  v.golden = dir;
  v.actual = dir + "/expected.npy";
  EXPECT_EQ(cli::run_verify(v), 0);
  auto codes = io::npy::read(v.actual).values<std::uint8_t>();
  codes[0] ^= 1;
  v.actual = temp_dir("cli_actual.npy");
  io::npy::write(v.actual, io::npy::make_array("|u1", codes));
  v.json = true;
  EXPECT_EQ(cli::run_verify(v), 1);
  v.format = "e5m2";
  EXPECT_THROW(cli::run_verify(v), std::runtime_error);
  g.profile = "nope";
  EXPECT_THROW(cli::run_gen(g), std::runtime_error);
  g.profile = "ml_dtypes";
  g.level = "full";
  EXPECT_THROW(cli::run_gen(g), std::runtime_error);
}


TEST(GoldenCommands, Gse) {
  const std::string dir = temp_dir("gse"), actual = temp_dir("gse_actual");
  GseGenOptions o;
  gen_gse(o, dir);
  fs::create_directories(actual);
  auto exps = io::npy::read(dir + "/expected_exps.npy").values<std::uint8_t>();
  exps[0] = static_cast<std::uint8_t>(exps[0] + 1);
  io::npy::write(actual + "/expected_exps.npy", io::npy::make_array("|u1", exps));
  cli::VerifyArgs v;
  v.format = "gse";
  v.golden = dir;
  v.actual = dir;
  EXPECT_EQ(cli::run_verify(v), 0);
  v.actual = actual;
  EXPECT_EQ(cli::run_verify(v), 1);
  cli::GenArgs g;
  g.format = "gse";
  g.gse.bits = 9;
  g.out = temp_dir("gse_bad");
  EXPECT_THROW(cli::run_gen(g), std::runtime_error);
}

TEST(GoldenCommands, Nf4) {
  cli::GenArgs g;
  g.format = "fp4";
  g.block = 128;
  g.level = "boundary";
  g.out = temp_dir("nf4");
  EXPECT_EQ(cli::run_gen(g), 0);
  cli::VerifyArgs v;
  v.format = "fp4";
  v.golden = g.out;
  v.actual = g.out;
  EXPECT_EQ(cli::run_verify(v), 0);
  g.block = 100;
  EXPECT_THROW(cli::run_gen(g), std::runtime_error);
  g.block = 64;
  g.rounding = "sr";
  EXPECT_THROW(cli::run_gen(g), std::runtime_error);
  g.rounding = "rne";
  g.profile = "ml_dtypes";
  EXPECT_THROW(cli::run_gen(g), std::runtime_error);
}

TEST(GoldenCommands, MxAndNf4DoubleQuant) {
  cli::GenArgs g;  // MX: the rounding defaults to 'nearest'
  g.format = "mxfp6-e2m3";
  g.level = "quick";
  g.n = 200;
  g.out = temp_dir("mx");
  EXPECT_EQ(cli::run_gen(g), 0);
  EXPECT_EQ(GoldenSet(g.out).manifest()["rounding"], "nearest");
  cli::VerifyArgs v;
  v.format = "mxfp6-e2m3";
  v.golden = g.out;
  v.actual = g.out;
  EXPECT_EQ(cli::run_verify(v), 0);
  auto scales = io::npy::read(g.out + "/expected_scales.npy").values<std::uint8_t>();
  scales.back() = static_cast<std::uint8_t>(scales.back() - 1);
  v.actual = temp_dir("mx_actual.npy");
  io::npy::write(v.actual, io::npy::make_array("|u1", scales));
  EXPECT_EQ(cli::run_verify(v), 1);  // a mismatch: exit 1
  v.format = "mxfp6-e3m2";
  EXPECT_THROW(cli::run_verify(v), cli::UsageError);  // another MX format's set
  g.profile = "ml_dtypes";
  EXPECT_THROW(cli::run_gen(g), cli::UsageError);
  g.profile.clear();
  g.rounding = "up";
  EXPECT_THROW(cli::run_gen(g), cli::UsageError);
  g.rounding.clear();
  g.double_quant = true;
  EXPECT_THROW(cli::run_gen(g), cli::UsageError);

  g.format = "nf4";
  g.profile = "bnb-cpu";
  g.level = "boundary";
  g.out = temp_dir("nf4dq");
  EXPECT_EQ(cli::run_gen(g), 0);
  EXPECT_EQ(GoldenSet(g.out).manifest()["double_quant"], true);
  v.format = "nf4";
  v.golden = g.out;
  v.actual = g.out;
  EXPECT_EQ(cli::run_verify(v), 0);
  auto q = io::npy::read(g.out + "/expected_qabsmax.npy").values<std::uint8_t>();
  q[0] ^= 1;
  v.actual = temp_dir("nf4dq_actual");
  fs::create_directories(v.actual);
  io::npy::write(v.actual + "/expected_qabsmax.npy", io::npy::make_array("|u1", q));
  EXPECT_EQ(cli::run_verify(v), 1);
  g.rounding = "sr";
  EXPECT_THROW(cli::run_gen(g), cli::UsageError);
}

TEST(GoldenCommands, WeakPackingAndGseGemm) {
  const std::string q = temp_dir("qeft"), o = temp_dir("owq"), gm = temp_dir("gemm");
  cli::GenArgs g;
  g.format = "qeft";
  g.tuning = "minmax";
  g.level = "boundary";
  g.out = q;
  EXPECT_EQ(cli::run_gen(g), 0);
  g.format = "owq";
  g.weak_bits = 3;
  g.out = o;
  EXPECT_EQ(cli::run_gen(g), 0);
  cli::VerifyArgs v;
  v.format = "qeft";
  v.golden = q;
  v.actual = q;
  EXPECT_EQ(cli::run_verify(v), 0);
  v.format = "owq";
  EXPECT_THROW(cli::run_verify(v), std::runtime_error);  // the set holds qeft cases
  v.golden = v.actual = o;
  EXPECT_EQ(cli::run_verify(v), 0);
  auto zeros = io::npy::read(o + "/expected_zeros.npy").values<std::uint8_t>();
  zeros[1] ^= 0x10;
  v.actual = temp_dir("owq_zeros.npy");
  io::npy::write(v.actual, io::npy::make_array("|u1", zeros));
  EXPECT_EQ(cli::run_verify(v), 1);
  for (auto bad : {+[](cli::GenArgs& a) { a.weak_group = 128; },  // OWQ is per channel
                   +[](cli::GenArgs& a) { a.rows = 7; }, +[](cli::GenArgs& a) { a.tuning = "best"; },
                   +[](cli::GenArgs& a) { a.grid = 4; }, +[](cli::GenArgs& a) { a.rounding = "rtz"; }}) {
    cli::GenArgs b = g;
    bad(b);
    EXPECT_THROW(cli::run_gen(b), cli::UsageError);
  }

  g = {};
  g.format = "gse-gemm";
  g.accumulate = "fp32";
  g.out = gm;
  EXPECT_EQ(cli::run_gen(g), 0);
  v = {};
  v.format = "gse-gemm";
  v.golden = gm;
  v.actual = gm + "/expected.npy";
  EXPECT_EQ(cli::run_verify(v), 0);
  v.tolerance = true;
  EXPECT_EQ(cli::run_verify(v), 0);
  auto c = io::npy::read(v.actual).values<std::uint32_t>();
  c[0] ^= 0x40000000u;  // far beyond any bound
  v.actual = temp_dir("gemm_actual.npy");
  io::npy::write(v.actual, io::npy::make_array("<u4", c));
  EXPECT_EQ(cli::run_verify(v), 1);
  g.accumulate = "exact";
  g.out = temp_dir("gemm_exact");
  EXPECT_EQ(cli::run_gen(g), 0);
  v.golden = g.out;
  EXPECT_THROW(cli::run_verify(v), std::runtime_error);  // --tolerance on a set without bounds
  g.accumulate = "fp64";
  EXPECT_THROW(cli::run_gen(g), cli::UsageError);
  g.accumulate = "exact";
  g.gemm_m = 0;
  EXPECT_THROW(cli::run_gen(g), cli::UsageError);
}
