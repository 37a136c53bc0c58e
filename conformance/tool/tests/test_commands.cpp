// The registered commands, run as `lowbit ARGS...` (cli::run): gen and verify of every family with
// their exit statuses (0 success, 1 mismatches, 2 usage or input error), and the stream layer that
// recognises an input by its first bytes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "lowbit/conformance/golden_gen.hpp"
#include "lowbit/io/npy.hpp"
#include "lowbit/io/safetensors.hpp"
#include "registry.hpp"
#include "stream.hpp"
#include "testing/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace lowbit;
using namespace lowbit::conformance;
using lowbit::cli::run;

namespace {

std::string temp(const std::string& name) { return fresh_temp_path("lowbit_commands_" + name); }

template <class T> void write_npy(const std::string& path, std::string_view descr, const std::vector<T>& v,
                                  std::vector<std::uint64_t> shape = {}) {
  io::npy::write(path, io::npy::make_array(descr, v, std::move(shape)));
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST(Commands, EveryVerbListsItsFormatsAndEveryFormatHasTheCommonVerbs) {
  std::map<std::string, std::vector<std::string>> formats;
  for (const cli::Command& c : cli::registry().commands()) formats[c.verb].push_back(c.format);
  for (const char* verb : {"encode", "decode", "quantize", "gen", "verify"})
    for (const char* f : {"e4m3", "e5m2", "gse", "mxint8", "mxfp4-e2m1", "nf4", "fp4", "qeft", "owq"})
      EXPECT_NE(std::find(formats[verb].begin(), formats[verb].end(), f), formats[verb].end()) << verb << " " << f;
  std::vector<std::string> minifloats;  // every format of the descriptor table, in its order
  for (const fp8::Traits& t : fp8::kTraits) minifloats.emplace_back(t.name);
  EXPECT_EQ(formats["sweep"], minifloats);
  for (const char* verb : {"encode", "decode", "quantize", "gen", "verify"})
    for (const std::string& f : minifloats)
      EXPECT_NE(std::find(formats[verb].begin(), formats[verb].end(), f), formats[verb].end()) << verb << " " << f;
  for (const std::string& f : minifloats)  // convert writes checkpoints, which ship OCP FP8 only
    EXPECT_EQ(std::find(formats["convert"].begin(), formats["convert"].end(), f) != formats["convert"].end(),
              f == "e4m3" || f == "e5m2") << f;
  EXPECT_EQ(formats["gemm"], (std::vector<std::string>{"gse"}));
  for (const char* verb : {"gen", "verify"})
    EXPECT_NE(std::find(formats[verb].begin(), formats[verb].end(), "gse-gemm"), formats[verb].end());
  for (const char* verb : {"list", "conform", "weak-columns", "train-check", "finetune"})
    EXPECT_EQ(formats[verb], (std::vector<std::string>{""})) << verb;
}

// ml_dtypes' names verbatim; a sub-byte format's golden set has 2^width decode cases; decode of a byte
// with bits above the width, and a profile that does not apply, are input errors.
TEST(Commands, MinifloatFamilyNamesGenVerifyAndErrors) {
  const std::string dir = temp("e2m1");
  EXPECT_EQ(run({"gen", "float4_e2m1fn", "--level", "boundary", "-o", dir}), 0);
  EXPECT_EQ(io::npy::read(dir + "/decode_inputs.npy").values<std::uint8_t>().size(), 16u);
  EXPECT_EQ(run({"verify", "e2m1", "--golden", dir, "--actual", dir}), 0);
  EXPECT_EQ(run({"gen", "e2m1", "--profile", "cuda-nosat", "-o", temp("e2m1_cuda")}), 2);  // CUDA's profiles: OCP FP8 only
  const std::string codes = temp("e2m1_codes"), out = temp("e2m1_out");
  write_bytes(codes, {0x07, 0x0f, 0x08});
  EXPECT_EQ(run({"decode", "e2m1", "--to", "f32", "-i", codes, "-o", out}), 0);
  EXPECT_EQ(fs::file_size(out), 12u);
  write_bytes(codes, {0x07, 0x17});
  EXPECT_EQ(run({"decode", "e2m1", "--to", "f32", "-i", codes, "-o", out}), 2);
  EXPECT_EQ(run({"decode", "float8_e4m3fnuz", "--to", "f32", "-i", codes, "-o", out}), 0);  // every byte is an 8-bit code
  EXPECT_EQ(run({"gen", "float8_e8m0fnu", "--level", "boundary", "-o", temp("e8m0")}), 0);
}

TEST(Commands, Fp8GenAndVerifyExitStatuses) {
  const std::string dir = temp("fp8");
  EXPECT_EQ(run({"gen", "e4m3fn", "--profile", "ml_dtypes-sat", "--rounding", "rtz", "-n", "100", "-o", dir}), 0);
  EXPECT_EQ(GoldenSet(dir).manifest()["level"], "quick");  // the default
  EXPECT_EQ(run({"verify", "e4m3", "--golden", dir, "--actual", dir + "/expected.npy"}), 0);
  auto codes = io::npy::read(dir + "/expected.npy").values<std::uint8_t>();
  codes[0] ^= 1;
  const std::string actual = temp("fp8_actual.npy");
  write_npy(actual, "|u1", codes);
  EXPECT_EQ(run({"verify", "e4m3", "--golden", dir, "--actual", actual, "--json"}), 1);   // a mismatch
  EXPECT_EQ(run({"verify", "e5m2", "--golden", dir, "--actual", actual}), 2);             // another format's set
  codes.pop_back();
  write_npy(actual, "|u1", codes);
  EXPECT_EQ(run({"verify", "e4m3", "--golden", dir, "--actual", actual}), 2);             // a wrong size: could not run
  EXPECT_EQ(run({"verify", "e4m3", "--golden", temp("none"), "--actual", actual}), 2);    // no golden set
  EXPECT_EQ(run({"gen", "e4m3", "--profile", "nope", "-o", dir}), 2);
  EXPECT_EQ(run({"gen", "e4m3", "--level", "full", "-o", dir}), 2);
  EXPECT_EQ(run({"gen", "e4m3", "--level", "2", "-o", dir}), 2);  // the old spelling is gone
  EXPECT_EQ(run({"gen", "e4m3", "--rounding", "nearest", "-o", dir}), 2);  // MX's word, not FP8's
}

TEST(Commands, BlockFormatsGenAndVerify) {
  const std::string gse_dir = temp("gse"), gse_actual = temp("gse_actual");
  EXPECT_EQ(run({"gen", "gse", "--level", "boundary", "-o", gse_dir}), 0);
  EXPECT_EQ(run({"verify", "gse", "--golden", gse_dir, "--actual", gse_dir}), 0);
  auto exps = io::npy::read(gse_dir + "/expected_exps.npy").values<std::uint8_t>();
  exps[0] = static_cast<std::uint8_t>(exps[0] + 1);
  fs::create_directories(gse_actual);
  write_npy(gse_actual + "/expected_exps.npy", "|u1", exps);
  EXPECT_EQ(run({"verify", "gse", "--golden", gse_dir, "--actual", gse_actual}), 1);
  EXPECT_EQ(run({"gen", "gse", "--bits", "9", "-o", temp("gse_bad")}), 2);

  const std::string nf4 = temp("fp4");
  EXPECT_EQ(run({"gen", "fp4", "--block", "128", "--level", "boundary", "-o", nf4}), 0);
  EXPECT_EQ(run({"verify", "fp4", "--golden", nf4, "--actual", nf4}), 0);
  EXPECT_EQ(run({"gen", "fp4", "--block", "100", "-o", nf4}), 2);
  EXPECT_EQ(run({"gen", "fp4", "--rounding", "sr", "-o", nf4}), 2);  // NF4 has no rounding option
  EXPECT_EQ(run({"gen", "fp4", "--profile", "ml_dtypes", "-o", nf4}), 2);

  const std::string mx = temp("mx");  // MX: the rounding defaults to 'nearest'
  EXPECT_EQ(run({"gen", "mxfp6-e2m3", "-n", "200", "-o", mx}), 0);
  EXPECT_EQ(GoldenSet(mx).manifest()["rounding"], "nearest");
  EXPECT_EQ(run({"verify", "mxfp6-e2m3", "--golden", mx, "--actual", mx}), 0);
  auto scales = io::npy::read(mx + "/expected_scales.npy").values<std::uint8_t>();
  scales.back() = static_cast<std::uint8_t>(scales.back() - 1);
  const std::string mx_actual = temp("mx_actual.npy");
  write_npy(mx_actual, "|u1", scales);
  EXPECT_EQ(run({"verify", "mxfp6-e2m3", "--golden", mx, "--actual", mx_actual}), 1);
  EXPECT_EQ(run({"verify", "mxfp6-e3m2", "--golden", mx, "--actual", mx_actual}), 2);  // another MX format's set
  EXPECT_EQ(run({"gen", "mxfp6-e2m3", "--profile", "ml_dtypes", "-o", mx}), 2);
  EXPECT_EQ(run({"gen", "mxfp6-e2m3", "--rounding", "up", "-o", mx}), 2);
  EXPECT_EQ(run({"gen", "mxfp6-e2m3", "--double-quant", "-o", mx}), 2);

  const std::string dq = temp("nf4dq"), dq_actual = temp("nf4dq_actual");
  EXPECT_EQ(run({"gen", "nf4", "--profile", "bnb-cpu", "--double-quant", "--level", "boundary", "-o", dq}), 0);
  EXPECT_EQ(GoldenSet(dq).manifest()["double_quant"], true);
  EXPECT_EQ(run({"verify", "nf4", "--golden", dq, "--actual", dq}), 0);
  auto q = io::npy::read(dq + "/expected_qabsmax.npy").values<std::uint8_t>();
  q[0] ^= 1;
  fs::create_directories(dq_actual);
  write_npy(dq_actual + "/expected_qabsmax.npy", "|u1", q);
  EXPECT_EQ(run({"verify", "nf4", "--golden", dq, "--actual", dq_actual}), 1);
}

TEST(Commands, WeakPackingAndGseGemmGenAndVerify) {
  const std::string q = temp("qeft"), o = temp("owq"), gm = temp("gemm");
  EXPECT_EQ(run({"gen", "qeft", "--tuning", "minmax", "--level", "boundary", "-o", q}), 0);
  EXPECT_EQ(run({"gen", "owq", "--tuning", "minmax", "--bits", "3", "--level", "boundary", "-o", o}), 0);
  EXPECT_EQ(run({"verify", "qeft", "--golden", q, "--actual", q}), 0);
  EXPECT_EQ(run({"verify", "owq", "--golden", q, "--actual", q}), 2);  // the set holds qeft cases
  EXPECT_EQ(run({"verify", "owq", "--golden", o, "--actual", o}), 0);
  auto zeros = io::npy::read(o + "/expected_zeros.npy").values<std::uint8_t>();
  zeros[1] ^= 0x10;
  const std::string zeros_actual = temp("owq_zeros.npy");
  write_npy(zeros_actual, "|u1", zeros);
  EXPECT_EQ(run({"verify", "owq", "--golden", o, "--actual", zeros_actual}), 1);
  for (std::vector<std::string> bad : {std::vector<std::string>{"owq", "--group", "128"},  // OWQ is per channel
                                       {"owq", "--rows", "7"},
                                       {"owq", "--tuning", "best"},
                                       {"owq", "--tuning", "minmax", "--grid", "4"},
                                       {"owq", "--rounding", "rtz"},
                                       {"qeft", "--bits", "3"}}) {  // QEFT is 4-bit only: it has no --bits
    bad.insert(bad.begin(), "gen");
    bad.insert(bad.end(), {"-o", temp("weak_bad")});
    EXPECT_EQ(run(bad), 2) << bad[1] << " " << bad[2];
  }

  EXPECT_EQ(run({"gen", "gse-gemm", "--accumulate", "fp32", "-n", "500", "-o", gm}), 0);
  EXPECT_EQ(run({"verify", "gse-gemm", "--golden", gm, "--actual", gm + "/expected.npy"}), 0);
  EXPECT_EQ(run({"verify", "gse-gemm", "--tolerance", "--golden", gm, "--actual", gm + "/expected.npy"}), 0);
  auto c = io::npy::read(gm + "/expected.npy").values<std::uint32_t>();
  c[0] ^= 0x40000000u;  // far beyond any bound
  const std::string c_actual = temp("gemm_actual.npy");
  write_npy(c_actual, "<u4", c);
  EXPECT_EQ(run({"verify", "gse-gemm", "--tolerance", "--golden", gm, "--actual", c_actual}), 1);
  const std::string exact = temp("gemm_exact");
  EXPECT_EQ(run({"gen", "gse-gemm", "--level", "boundary", "-o", exact}), 0);
  EXPECT_EQ(run({"verify", "gse-gemm", "--tolerance", "--golden", exact, "--actual", c_actual}), 2);  // no bounds in the set
  EXPECT_EQ(run({"verify", "qeft", "--tolerance", "--golden", q, "--actual", q}), 2);  // only gse-gemm has --tolerance
  EXPECT_EQ(run({"gen", "gse-gemm", "--accumulate", "fp64", "-o", exact}), 2);
  EXPECT_EQ(run({"gen", "gse-gemm", "--m", "0", "-o", exact}), 2);
}

TEST(Stream, AnInputIsRecognisedByItsFirstBytes) {
  using cli::FileKind;
  using cli::sniff;
  const auto bytes = [](std::string_view s) { return std::vector<std::uint8_t>(s.begin(), s.end()); };
  EXPECT_EQ(sniff(bytes("\x93NUMPY\x01\x00")), FileKind::npy);
  EXPECT_EQ(sniff(bytes(std::string("LBGS\x01", 5))), FileKind::gse);
  EXPECT_EQ(sniff(bytes(std::string("\x20\0\0\0\0\0\0\0{\"weight\"", 17))), FileKind::safetensors);
  EXPECT_EQ(sniff(bytes(std::string("\x08\0\0\0\0\0\0\0{}      ", 16))), FileKind::safetensors);
  EXPECT_EQ(sniff(bytes(std::string("\0\0\x80\x3f\0\0\0\x40", 8))), FileKind::raw);       // 1.0f, 2.0f
  EXPECT_EQ(sniff(bytes(std::string("\0\0\0\0\0\0\0\0{\"", 10))), FileKind::raw);          // a zero length is no header
  EXPECT_EQ(sniff(bytes(std::string("LBGS\x07", 5))), FileKind::raw);                      // no .gse version 7
  EXPECT_EQ(sniff({}), FileKind::raw);

  // A container given to a command that reads values is refused by name; so is a .npy of another dtype.
  const std::string st = temp("w.safetensors");
  const std::vector<io::safetensors::Tensor> tensors{io::safetensors::make_tensor("weight", "F32", {2}, std::vector<float>{1, 2})};
  write_bytes(st, io::safetensors::write(tensors));
  EXPECT_EQ(run({"encode", "nf4", "-i", st, "-o", temp("never")}), 2);
  EXPECT_FALSE(fs::exists(temp("never")));
  try {
    cli::InputStream in(st, cli::kF32);
    ADD_FAILURE() << "a .safetensors file read as values";
  } catch (const cli::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("is a .safetensors file, not a raw f32 stream"), std::string::npos) << e.what();
  }
  const std::string u4 = temp("u4.npy");
  write_npy(u4, "<u4", std::vector<std::uint32_t>{0x3f800000u, 0x40000000u});
  EXPECT_THROW(cli::InputStream(u4, cli::kF32), cli::UsageError);  // integers are no floats without the flag
  const cli::Values<float> v = cli::read_values<float>(u4, cli::kF32, /*bits_as_float=*/true);
  EXPECT_EQ(v.values, (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(v.shape, (std::vector<std::uint64_t>{2}));
  const std::string f2 = temp("f2.npy");
  write_npy(f2, "<f2", std::vector<std::uint16_t>{0x3c00});
  EXPECT_THROW(cli::InputStream(f2, cli::kBf16, true), cli::UsageError);  // f16 values are not bf16 bit patterns
  const std::string i4 = temp("idx.npy");
  write_npy(i4, "<i4", std::vector<std::int32_t>{3, 7, 9});
  EXPECT_EQ(cli::read_values<std::int32_t>(i4, cli::kI32).values, (std::vector<std::int32_t>{3, 7, 9}));
}
