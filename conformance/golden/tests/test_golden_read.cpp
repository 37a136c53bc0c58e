// Reading a golden folder that lies (issue 13, items 4-9): whatever the manifest or the folder holds,
// GoldenSet refuses it with one lowbit::Error naming the file, reads only regular files inside the
// folder, never more than the manifest declares, and the verifier's distances and JSON are defined
// for every dtype and string.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lowbit/conformance/golden.hpp"
#include "lowbit/conformance/golden_gen.hpp"
#include "lowbit/conformance/sha256.hpp"
#include "lowbit/error.hpp"
#include "lowbit/io/npy.hpp"
#include "testing/temp_dir.hpp"

namespace fs = std::filesystem;
namespace npy = lowbit::io::npy;
using namespace lowbit;
using namespace lowbit::conformance;
using nlohmann::json;

namespace {

// A three-element FP8-like set: inputs <u4, expected |u1, classes |u1, one test.
std::string small_set(const std::string& name, npy::Array expected = npy::make_array("|u1", std::vector<std::uint8_t>{0x38, 0x40, 0xb8})) {
  const std::string dir = fresh_temp_path("lowbit_golden_read_" + name);
  GoldenWriter w(dir, Container::npy);
  const std::size_t n = expected.size();
  w.put("inputs", npy::make_array("<u4", std::vector<std::uint32_t>(n, 0x3f800000)), "f32 bits");
  w.put("expected", std::move(expected), "codes");
  w.put("classes", npy::make_array("|u1", std::vector<std::uint8_t>(n, 0)), "class of each case");
  w.test({"encode", "f32 -> e4m3", "inputs", "expected", "classes", {"exact"}});
  w.write({{"kind", "fp8"}, {"format", "e4m3"}});
  return dir;
}

json manifest(const std::string& dir) {
  std::ifstream in(fs::path(dir) / "manifest.json");
  return json::parse(in);
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::trunc);
  out << text;
}

void write_manifest(const std::string& dir, const json& m) { write_text(fs::path(dir) / "manifest.json", m.dump(2)); }

// The message of the lowbit::Error that reading `dir` (and its tests) throws; "" when it reads.
std::string read_error(const std::string& dir) {
  try {
    const GoldenSet g(dir);
    (void)g.tests();
    return "";
  } catch (const lowbit::Error& e) {
    return e.what();
  }
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string path_of(const std::string& dir, const std::string& file) { return (fs::path(dir) / file).string(); }

}  // namespace

TEST(GoldenRead, SmallSetReads) {
  const std::string dir = small_set("ok");
  EXPECT_EQ(read_error(dir), "");
  EXPECT_TRUE(verify_golden(dir, dir, 5).passed());
}

// Item 4: a `tests` entry nested 10^5 deep was copied recursively until the stack ran out.
TEST(GoldenRead, DeepNestingIsRefusedWhileParsing) {
  const std::string dir = small_set("deep");
  json m = manifest(dir);
  m["tests"][0]["deep"] = "DEEP";  // a field of a test: GoldenTest::extra copies it
  std::string text = m.dump();
  text.replace(text.find("\"DEEP\""), 6, std::string(100000, '[') + std::string(100000, ']'));
  write_text(fs::path(dir) / "manifest.json", text);
  const std::string e = read_error(dir);
  EXPECT_TRUE(contains(e, path_of(dir, "manifest.json"))) << e;
  EXPECT_TRUE(contains(e, "levels deep")) << e;
}

// Item 5: only regular files inside the folder, of exactly the declared size, read no further. A FIFO
// (a listed file or the manifest itself) is refused without blocking on it.
TEST(GoldenRead, FifoIsRefusedWithoutBlocking) {
  for (const std::string file : {"classes.npy", "manifest.json"}) {
    const std::string dir = small_set("fifo");
    fs::remove(fs::path(dir) / file);
    ASSERT_EQ(::mkfifo(path_of(dir, file).c_str(), 0600), 0);
    const std::string e = read_error(dir);
    EXPECT_TRUE(contains(e, path_of(dir, file) + ": not a regular file (a FIFO)")) << e;
  }
}

TEST(GoldenRead, SymlinkToDeviceIsRefusedUnopened) {  // a device is out of the folder: refused before opening it
  const std::string dir = small_set("dev");
  fs::remove(fs::path(dir) / "expected.npy");
  fs::create_symlink("/dev/null", fs::path(dir) / "expected.npy");
  const std::string e = read_error(dir);
  EXPECT_TRUE(contains(e, path_of(dir, "expected.npy") + ": a symbolic link out of the golden folder (to /dev/null)")) << e;
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
}

TEST(GoldenRead, SymlinkLeavingTheFolderIsRefused) {
  const std::string dir = small_set("leave"), outside = fresh_temp_path("lowbit_golden_read_outside.npy");
  fs::rename(fs::path(dir) / "expected.npy", outside);  // the same bytes: only where it lies is wrong
  fs::create_symlink(outside, fs::path(dir) / "expected.npy");
  const std::string e = read_error(dir);
  EXPECT_TRUE(contains(e, path_of(dir, "expected.npy") + ": a symbolic link out of the golden folder")) << e;
  fs::remove(outside);
}

TEST(GoldenRead, SymlinkInsideTheFolderReads) {
  const std::string dir = small_set("inside");
  fs::create_directory(fs::path(dir) / "data");
  fs::rename(fs::path(dir) / "expected.npy", fs::path(dir) / "data" / "expected.npy");
  fs::create_symlink("data/expected.npy", fs::path(dir) / "expected.npy");
  EXPECT_EQ(read_error(dir), "");
}

TEST(GoldenRead, DeclaredBytesMustBeTheFileSize) {
  const std::string dir = small_set("bytes");
  json m = manifest(dir);
  const std::uint64_t real = m["files"]["expected.npy"]["bytes"];
  m["files"]["expected.npy"]["bytes"] = real - 1;
  write_manifest(dir, m);
  std::string e = read_error(dir);
  EXPECT_TRUE(contains(e, path_of(dir, "expected.npy") + fmt::format(": holds {} bytes, manifest.json declares {}", real, real - 1)))
      << e;
  m["files"]["expected.npy"].erase("bytes");
  write_manifest(dir, m);
  e = read_error(dir);
  EXPECT_TRUE(contains(e, path_of(dir, "manifest.json")) && contains(e, "expected.npy") && contains(e, "bytes")) << e;
}

// Item 6: the manifest's shape and dtype of each array are those of its file.
TEST(GoldenRead, ShapeAndDtypeMustMatchTheFiles) {
  const std::string dir = small_set("shape");
  json m = manifest(dir);
  m["arrays"]["expected"]["shape"] = {std::uint64_t{1} << 62};
  write_manifest(dir, m);
  std::string e = read_error(dir);
  EXPECT_TRUE(contains(e, path_of(dir, "manifest.json") + ": array expected has shape [4611686018427387904], its file expected.npy [3]"))
      << e;
  m["arrays"]["expected"]["shape"] = {3};
  m["arrays"]["expected"]["dtype"] = "<u4";
  write_manifest(dir, m);
  e = read_error(dir);
  EXPECT_TRUE(contains(e, path_of(dir, "manifest.json") + ": array expected has dtype <u4, its file expected.npy |u1")) << e;
}

// Item 9: every error names its file; a file named "" or "." named the folder itself.
TEST(GoldenRead, FileNamesMustBePlain) {
  for (const std::string bad : {"", ".", "..", "a/b", "a\\b"}) {
    const std::string dir = small_set("names");
    json m = manifest(dir);
    m["files"][bad] = m["files"]["expected.npy"];
    write_manifest(dir, m);
    const std::string e = read_error(dir);
    EXPECT_TRUE(contains(e, path_of(dir, "manifest.json") + ": golden file name " + json(bad).dump() + " is not a plain file name")) << e;
  }
}

TEST(GoldenRead, ArrayErrorsNameTheirFile) {
  const std::string dir = small_set("corrupt");
  const std::vector<std::uint8_t> cut(5, 0x93);  // not a .npy, with the SHA-256 the manifest declares
  npy::write_bytes(path_of(dir, "expected.npy"), cut);
  json m = manifest(dir);
  m["files"]["expected.npy"] = {{"sha256", sha256_hex(cut)}, {"bytes", cut.size()}};
  write_manifest(dir, m);
  const std::string e = read_error(dir);
  EXPECT_TRUE(contains(e, path_of(dir, "expected.npy") + ": npy")) << e;
}

TEST(GoldenRead, MalformedManifestNamesItsFile) {
  for (const std::string text : {"", "{", "[]", "{\"kind\": \"fp8\", \"arrays\": {}, \"files\": [], \"tests\": []}",
                                 "{\"kind\": \"fp8\", \"arrays\": {}, \"files\": {}, \"tests\": [7]}"}) {
    const std::string dir = small_set("malformed");
    write_text(fs::path(dir) / "manifest.json", text);
    const std::string e = read_error(dir);
    EXPECT_TRUE(contains(e, path_of(dir, "manifest.json") + ": ")) << text << ": " << e;
  }
}

// Item 7: distances of 64-bit codes, in every order, without overflow.
TEST(GoldenRead, DistanceOfF8Extremes) {
  const std::uint64_t max = 0x7FEFFFFFFFFFFFFF, min_sub = 1, neg = std::uint64_t{1} << 63;
  const std::string dir = small_set("f8", npy::make_array("<f8", std::vector<std::uint64_t>{max, min_sub, neg | max}));
  const std::string actual = fresh_temp_path("lowbit_golden_read_f8_actual.npy");
  npy::write(actual, npy::make_array("<f8", std::vector<std::uint64_t>{neg | max, neg | min_sub, max}));
  const VerifyResult r = verify_golden(dir, actual, 5);
  ASSERT_EQ(r.examples.size(), 3u);
  EXPECT_EQ(r.examples[0].distance, 2 * max);
  EXPECT_EQ(r.examples[1].distance, 2u);
  EXPECT_EQ(r.examples[2].distance, 2 * max);
  EXPECT_EQ(r.distance, (std::map<std::uint64_t, std::uint64_t>{{2, 1}, {std::numeric_limits<std::uint64_t>::max(), 2}}));
  EXPECT_TRUE(contains(verify_text(r), "9223372036854775809-18446744073709551615: 2")) << verify_text(r);
}

TEST(GoldenRead, CodeDistanceInEveryOrder) {
  const std::uint64_t top = std::uint64_t{1} << 63;
  EXPECT_EQ(code_distance("sign-magnitude", top - 1, top | (top - 1), 8), 2 * (top - 1));
  EXPECT_EQ(code_distance("sign-magnitude", 0, top, 8), 0u);  // -0 and +0: one position
  EXPECT_EQ(code_distance("sign-magnitude", 0x01, 0x81, 1), 2u);
  EXPECT_EQ(code_distance("sign-magnitude-4", 0x1, 0x9, 1), 2u);
  EXPECT_EQ(code_distance("sign-magnitude-6", 0x1F, 0x3F, 1), 62u);
  EXPECT_EQ(code_distance("twos-complement", 0x7F, 0x80, 1), 255u);
  EXPECT_EQ(code_distance("twos-complement", 0x7FFFFFFF, 0x80000000, 4), 0xFFFFFFFFu);
  EXPECT_EQ(code_distance("twos-complement", top - 1, top, 8), ~std::uint64_t{0});
  EXPECT_EQ(code_distance("unsigned", 0, ~std::uint64_t{0}, 8), ~std::uint64_t{0});
  EXPECT_EQ(code_distance("unsigned", 7, 3, 1), 4u);
}

TEST(GoldenRead, UnknownOrderIsRefused) {
  const std::string dir = small_set("order");
  json m = manifest(dir);
  m["tests"][0]["order"] = "sign-magnitude-5";
  write_manifest(dir, m);
  const std::string e = read_error(dir);
  EXPECT_TRUE(contains(e, path_of(dir, "manifest.json") + ": test encode: unknown order \"sign-magnitude-5\"")) << e;
}

// Item 9: JSON output replaces invalid UTF-8 instead of throwing.
TEST(GoldenRead, JsonOutputReplacesInvalidUtf8) {
  VerifyResult r;
  r.format = "e4m3\xff";
  r.tests = 1;
  std::string out;
  ASSERT_NO_THROW(out = verify_json(r));
  EXPECT_EQ(json::parse(out)["format"], "e4m3\xef\xbf\xbd");
}

// Item 8: a set above the documented limits is refused before anything is allocated.
TEST(GoldenRead, GenLimits) {
  Fp8GenOptions o;
  o.random = std::numeric_limits<std::size_t>::max();
  try {
    gen_fp8(o, fresh_temp_path("lowbit_golden_read_never"));
    ADD_FAILURE() << "gen_fp8 took random = 2^64 - 1";
  } catch (const lowbit::Error& e) {
    EXPECT_TRUE(contains(e.what(), "at most 16777216 random cases")) << e.what();
  }
  GseGemmGenOptions g;
  g.format = gse::Format{};
  g.m = std::size_t{1} << 32;
  try {
    gen_gse_gemm(g, fresh_temp_path("lowbit_golden_read_never"));
    ADD_FAILURE() << "gen_gse_gemm took m = 2^32";
  } catch (const lowbit::Error& e) {
    EXPECT_TRUE(contains(e.what(), "at most 67108864")) << e.what();
  }
  o.random = kMaxGenRandom;  // the limit itself is allowed (checked without generating: boundary ignores it)
  o.level = Level::boundary;
  EXPECT_NO_THROW(gen_fp8(o, fresh_temp_path("lowbit_golden_read_limit")));
}

// The shipped golden data (GoldenDir, `conform --golden DIR`): a name that is no regular file is refused
// naming it, without blocking on a FIFO (a folder gave basic_filebuf's message, without the name).
TEST(GoldenRead, GoldenDirReadsRegularFilesOnly) {
  const fs::path root = fresh_temp_path("lowbit_golden_read_dir");
  fs::create_directories(root / "sub");
  const GoldenDir g(root);
  for (const std::string rel : {"sub", "", "fifo"}) {
    if (rel == "fifo") {
      ASSERT_EQ(::mkfifo((root / rel).c_str(), 0600), 0);
    }
    try {
      (void)g.bytes(rel);
      ADD_FAILURE() << "read '" << rel << "'";
    } catch (const lowbit::Error& e) {
      EXPECT_TRUE(contains(e.what(), (root / rel).string() + ": not a regular file")) << e.what();
    }
  }
}
