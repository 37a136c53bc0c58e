// lowbit gen / verify commands (conformance/cli/golden_commands.cpp), called directly. Not named
// test_*.cpp: CMake adds it to lowbit_tests together with golden_commands.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "golden_commands.hpp"
#include "lowbit/conformance/golden_gen.hpp"
#include "lowbit/conformance/npy.hpp"

namespace fs = std::filesystem;
namespace npy = lowbit::conformance::npy;
using namespace lowbit;
using namespace lowbit::conformance;

namespace {

std::string temp_dir(const std::string& name) {
  const fs::path p = fs::path(::testing::TempDir()) / ("lowbit_golden_cmd_" + name);
  fs::remove_all(p);
  return p.string();
}

}  // namespace

TEST(GoldenCommands, Fp8) {
  const std::string dir = temp_dir("cli");
  cli::GenArgs g;
  g.format = "e4m3fn";
  g.profile = "ml_dtypes-sat";
  g.rounding = "rtz";
  g.level = 2;
  g.n = 100;
  g.out = dir;
  EXPECT_EQ(cli::run_gen(g), 0);
  cli::VerifyArgs v;
  v.format = "e4m3";
  v.golden = dir;
  v.actual = dir + "/expected.npy";
  EXPECT_EQ(cli::run_verify(v), 0);
  auto codes = npy::read(v.actual).values<std::uint8_t>();
  codes[0] ^= 1;
  v.actual = temp_dir("cli_actual.npy");
  npy::write(v.actual, npy::make_array("|u1", codes));
  v.json = true;
  EXPECT_EQ(cli::run_verify(v), 1);
  v.format = "e5m2";
  EXPECT_THROW(cli::run_verify(v), std::runtime_error);
  g.profile = "nope";
  EXPECT_THROW(cli::run_gen(g), std::runtime_error);
  g.profile = "ml_dtypes";
  g.level = 3;
  EXPECT_THROW(cli::run_gen(g), std::runtime_error);
}


TEST(GoldenCommands, Gse) {
  const std::string dir = temp_dir("gse"), actual = temp_dir("gse_actual");
  GseGenOptions o;
  gen_gse(o, dir);
  fs::create_directories(actual);
  auto exps = npy::read(dir + "/expected_exps.npy").values<std::uint8_t>();
  exps[0] = static_cast<std::uint8_t>(exps[0] + 1);
  npy::write(actual + "/expected_exps.npy", npy::make_array("|u1", exps));
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
  g.level = 1;
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
