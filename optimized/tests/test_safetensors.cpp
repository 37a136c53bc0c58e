// The .safetensors reader/writer and bitsandbytes' Linear4bit checkpoint layout: the reference
// serializer's bytes, round trips, malformed files, a mutation fuzz loop, and the golden
// bitsandbytes quant_state JSON and tensors (conformance/golden/nf4).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "lowbit/io/bnb_checkpoint.hpp"
#include "lowbit/conformance/golden.hpp"
#include "lowbit/io/safetensors.hpp"
#include "lowbit/reference/nf4.hpp"

namespace st = lowbit::io::safetensors;
namespace bnb = lowbit::io::bnb;
using lowbit::conformance::GoldenDir;

namespace {

template <class T> std::vector<std::uint8_t> le_bytes(const std::vector<T>& v) {
  std::vector<std::uint8_t> b(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// A file with the given header text (no padding added) and buffer.
std::vector<std::uint8_t> file_with(std::string_view header, std::vector<std::uint8_t> buffer = {}) {
  std::vector<std::uint8_t> out(8 + header.size() + buffer.size());
  const std::uint64_t n = header.size();
  for (int b = 0; b < 8; ++b) out[b] = static_cast<std::uint8_t>(n >> (8 * b));
  std::copy(header.begin(), header.end(), out.begin() + 8);
  std::copy(buffer.begin(), buffer.end(), out.begin() + 8 + static_cast<std::ptrdiff_t>(header.size()));
  return out;
}

std::string error_of(std::span<const std::uint8_t> file) {
  try {
    st::read(file);
  } catch (const lowbit::Error& e) {
    EXPECT_EQ(e.code(), lowbit::Errc::data) << e.what();
    return e.what();
  }
  return "(no error)";
}

std::vector<st::Tensor> sample_tensors() {
  std::vector<st::Tensor> t;
  t.push_back({"b.bias", "F32", {3}, le_bytes(std::vector<float>{1.5f, -2.0f, 0.25f})});
  t.push_back({"a.codes", "U8", {2, 3}, {1, 2, 3, 4, 5, 6}});
  t.push_back({"c.half", "F16", {2}, {0x00, 0x3c, 0x00, 0xc0}});
  t.push_back({"d.wide", "I64", {1}, le_bytes(std::vector<std::int64_t>{-7})});
  t.push_back({"e.empty", "F32", {0, 4}, {}});
  t.push_back({"f.scalar", "I32", {}, le_bytes(std::vector<std::int32_t>{42})});
  t.push_back({"g.fp4", "F4", {2, 3}, {0x12, 0x34, 0x56}});
  t.push_back({"h.\xc3\xa9t\xc3\xa9 \"quoted\"", "BF16", {1}, {0x80, 0x3f}});
  return t;
}

const std::vector<std::string> kCases = {"normal", "uniform", "edge", "tail1", "tail63", "tail65", "tail127", "tail357", "divmul"};

std::vector<float> golden_f32(const GoldenDir& g, const std::string& rel) {
  const std::vector<std::uint8_t> b = g.bytes(rel);
  std::vector<float> v(b.size() / 4);
  if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

std::vector<std::uint32_t> bits(const std::vector<float>& v) {
  std::vector<std::uint32_t> out;
  for (float x : v) out.push_back(std::bit_cast<std::uint32_t>(x));
  return out;
}

// Float fields compared by bit pattern.
void expect_same_state(const lowbit::io::bnb::Bnb4bitState& a, const lowbit::io::bnb::Bnb4bitState& b) {
  EXPECT_EQ(a.quant_type, b.quant_type);
  EXPECT_EQ(a.blocksize, b.blocksize);
  EXPECT_EQ(a.dtype, b.dtype);
  EXPECT_EQ(a.shape, b.shape);
  EXPECT_EQ(a.packed, b.packed);
  EXPECT_EQ(bits(a.absmax), bits(b.absmax));
  EXPECT_EQ(bits(a.quant_map), bits(b.quant_map));
  ASSERT_EQ(a.nested.has_value(), b.nested.has_value());
  if (a.nested) {
    EXPECT_EQ(a.nested->codes, b.nested->codes);
    EXPECT_EQ(bits(a.nested->nested_absmax), bits(b.nested->nested_absmax));
    EXPECT_EQ(bits(a.nested->nested_map), bits(b.nested->nested_map));
    EXPECT_EQ(a.nested->nested_blocksize, b.nested->nested_blocksize);
    EXPECT_EQ(a.nested->nested_dtype, b.nested->nested_dtype);
    if (std::isnan(a.nested->offset)) EXPECT_TRUE(std::isnan(b.nested->offset));
    else EXPECT_EQ(std::bit_cast<std::uint32_t>(a.nested->offset), std::bit_cast<std::uint32_t>(b.nested->offset));
  }
}

// A golden case as a Bnb4bitState (blocksize 64, 1-D shape [n]).
lowbit::io::bnb::Bnb4bitState golden_state(const GoldenDir& g, const std::string& c, bool nested) {
  lowbit::io::bnb::Bnb4bitState s;
  s.packed = g.bytes("nf4/" + c + ".bnbcpu.nf4.u8");
  const std::uint64_t n = g.bytes("nf4/" + c + ".in.f32").size() / 4;
  s.shape = {n};
  s.quant_map = golden_f32(g, "nf4/table.nf4_code.f32");
  if (nested) {
    lowbit::io::bnb::Bnb4bitNested q;
    q.codes = g.bytes("nf4/" + c + ".bnbcpu.dq.qabsmax.u8");
    q.nested_absmax = golden_f32(g, "nf4/" + c + ".bnbcpu.dq.nested_absmax.f32");
    q.nested_map = golden_f32(g, "nf4/table.dynamic_map.f32");
    q.offset = golden_f32(g, "nf4/" + c + ".bnbcpu.dq.offset.f32").at(0);
    s.nested = q;
  } else {
    s.absmax = golden_f32(g, "nf4/" + c + ".bnbcpu.absmax.f32");
  }
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// safetensors

// The byte vectors of safetensors' own serializer tests (huggingface/safetensors, tensor.rs).
TEST(Safetensors, MatchesReferenceSerializerBytes) {
  const std::vector<float> v{0, 1, 2, 3, 4, 5};
  const st::Tensor attn{"attn.0", "F32", {1, 2, 3}, le_bytes(v)};
  const std::string header = R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
  ASSERT_EQ(header.size(), 64u);
  std::vector<std::uint8_t> want = file_with(header, le_bytes(v));
  EXPECT_EQ(st::write(std::vector{attn}), want);

  const st::Tensor attn0{"attn0", "F32", {1, 1, 2, 3}, le_bytes(v)};
  want = file_with(R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       )", le_bytes(v));
  EXPECT_EQ(st::write(std::vector{attn0}), want);  // padded with 7 spaces to 72

  EXPECT_EQ(st::write({}), file_with("{}      "));
  EXPECT_EQ(st::write({}, {{"framework", "pt"}}), file_with(R"({"__metadata__":{"framework":"pt"}}     )"));
}

TEST(Safetensors, RoundTripAndDeterministicOrder) {
  const std::vector<st::Tensor> t = sample_tensors();
  const st::Metadata meta{{"format", "pt"}, {"note", "lowbit \xe2\x9c\x93"}};
  const std::vector<std::uint8_t> file = st::write(t, meta);
  std::uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);
  EXPECT_EQ(n % 8, 0u);

  const st::File back = st::read(file);
  EXPECT_EQ(back.metadata, meta);
  ASSERT_EQ(back.tensors.size(), t.size());
  for (const st::Tensor& x : t) {
    const st::Tensor* y = back.find(x.name);
    ASSERT_NE(y, nullptr) << x.name;
    EXPECT_EQ(*y, x);
  }
  // Buffer order: dtype rank descending (I64, F32, I32, BF16, F16, U8, F4), then name.
  std::vector<std::string> names;
  for (const st::Tensor& x : back.tensors) names.push_back(x.name);
  EXPECT_EQ(names, (std::vector<std::string>{"d.wide", "b.bias", "e.empty", "f.scalar", "h.\xc3\xa9t\xc3\xa9 \"quoted\"", "c.half",
                                             "a.codes", "g.fp4"}));
  // Any input order gives the same bytes; rewriting what was read gives them too.
  std::vector<st::Tensor> reversed(t.rbegin(), t.rend());
  EXPECT_EQ(st::write(reversed, meta), file);
  EXPECT_EQ(st::write(back.tensors, back.metadata), file);
  EXPECT_THROW(back.at("nope"), lowbit::Error);
}

TEST(Safetensors, AcceptsWhatTheReferenceAccepts) {
  // Any key order, whitespace, tensors listed out of buffer order, empty metadata, zero-size tensors.
  const auto f = file_with(R"( { "b" : {"data_offsets":[2,4], "shape":[2], "dtype":"U8"},
      "a": {"dtype":"U8","shape":[2],"data_offsets":[0,2]}, "z": {"dtype":"F64","shape":[0],"data_offsets":[4,4]},
      "__metadata__": {} }   )",
                           {9, 8, 7, 6});
  const st::File r = st::read(f);
  ASSERT_EQ(r.tensors.size(), 3u);
  EXPECT_EQ(r.tensors[0].name, "a");
  EXPECT_EQ(r.tensors[0].bytes, (std::vector<std::uint8_t>{9, 8}));
  EXPECT_EQ(r.tensors[1].bytes, (std::vector<std::uint8_t>{7, 6}));
  EXPECT_TRUE(r.tensors[2].bytes.empty());
  EXPECT_TRUE(r.metadata.empty());
}

TEST(Safetensors, WriterRejectsBadTensors) {
  const auto throws = [](std::vector<st::Tensor> t, const std::string& what, st::Metadata m = {}) {
    try {
      st::write(t, m);
      ADD_FAILURE() << "no error for " << what;
    } catch (const lowbit::Error& e) {
      EXPECT_EQ(e.code(), lowbit::Errc::invalid) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  throws({{"x", "F33", {1}, {0, 0, 0, 0}}}, "unknown dtype 'F33'");
  throws({{"x", "F32", {2}, {0, 0, 0, 0}}}, "needs 8 bytes, it has 4");
  throws({{"x", "U8", {1}, {0}}, {"x", "U8", {1}, {0}}}, "two tensors are named 'x'");
  throws({{"__metadata__", "U8", {1}, {0}}}, "cannot be named __metadata__");
  throws({{"\xff", "U8", {1}, {0}}}, "not valid UTF-8");
  throws({{"x", "F4", {3}, {0, 0}}}, "does not fill whole bytes");
  throws({{"x", "U8", {1ull << 32, 1ull << 32}, {}}}, "more than 2^64 elements");
  throws({}, "__metadata__ string is not valid UTF-8", {{"k", "\xc0\x80"}});
}

TEST(Safetensors, MalformedFilesGiveClearErrors) {
  const std::string ok = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::vector<std::uint8_t> buf8(8, 0);
  std::vector<std::uint8_t> huge_len(16, ' ');
  std::memset(huge_len.data(), 0xff, 8);
  std::vector<std::uint8_t> over_limit(16, ' ');
  const std::uint64_t limit = st::kMaxHeader + 1;
  std::memcpy(over_limit.data(), &limit, 8);
  std::vector<std::uint8_t> past_end = file_with(ok, buf8);
  past_end[0] += 9;

  struct Case {
    const char* what;
    std::vector<std::uint8_t> file;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"empty file", {}, "file has 0 bytes, too short"},
      {"7 bytes", {1, 0, 0, 0, 0, 0, 0}, "file has 7 bytes, too short"},
      {"length 2^64-1", huge_len, "header length 18446744073709551615 is above the limit"},
      {"length above the limit", over_limit, "is above the limit of 100000000 bytes"},
      {"length past the end", past_end, "runs past the end of the file"},
      {"zero-length header", file_with(""), "header is not valid JSON"},
      {"not JSON", file_with("{\"w\":", buf8), "header is not valid JSON"},
      {"trailing garbage", file_with(ok + "x", buf8), "header is not valid JSON"},
      {"NUL padding", file_with(ok + std::string(3, '\0'), buf8), "header is not valid JSON"},
      {"invalid UTF-8", file_with("{\"\xff\":1}"), "header is not valid UTF-8 (byte 2"},
      {"overlong UTF-8", file_with("{\"\xc0\xaf\":1}"), "not valid UTF-8"},
      {"UTF-8 surrogate", file_with("{\"\xed\xa0\x80\":1}"), "not valid UTF-8"},
      {"truncated UTF-8", file_with("{\"\xe2\x9c"), "not valid UTF-8"},
      {"array header", file_with("[]"), "header must be a JSON object, not array"},
      {"duplicate name", file_with(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", {1}),
       "header repeats the key 'w'"},
      {"duplicate field", file_with(R"({"w":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}})", {1}), "repeats the key 'dtype'"},
      {"entry not an object", file_with(R"({"w":[1]})"), "tensor 'w': entry must be an object, not array"},
      {"missing dtype", file_with(R"({"w":{"shape":[1],"data_offsets":[0,1]}})", {1}), "tensor 'w': missing field 'dtype'"},
      {"missing offsets", file_with(R"({"w":{"dtype":"U8","shape":[1]}})", {1}), "missing field 'data_offsets'"},
      {"unknown field", file_with(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":0}})", {1}), "unknown field 'x'"},
      {"dtype not a string", file_with(R"({"w":{"dtype":8,"shape":[1],"data_offsets":[0,1]}})", {1}), "dtype must be a string, not number"},
      {"unknown dtype", file_with(R"({"w":{"dtype":"float32","shape":[1],"data_offsets":[0,4]}})", {1, 2, 3, 4}), "unknown dtype 'float32'"},
      {"shape not an array", file_with(R"({"w":{"dtype":"U8","shape":1,"data_offsets":[0,1]}})", {1}), "shape must be an array"},
      {"negative dim", file_with(R"({"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", {1}), "shape entry must be a non-negative integer, not -1"},
      {"fractional dim", file_with(R"({"w":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}})", {1}), "shape entry must be a non-negative integer, not 1.0"},
      {"dim above 2^64", file_with(R"({"w":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,1]}})", {1}), "non-negative integer"},
      {"element count overflow", file_with(R"({"w":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}})"),
       "tensor 'w': shape [4294967296, 4294967296] has more than 2^64 elements"},
      {"byte count overflow", file_with(R"({"w":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,0]}})"),
       "tensor 'w': shape [4611686018427387904] of F64 needs more than 2^64 bits"},
      {"sub-byte remainder", file_with(R"({"w":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}})", {1}), "does not fill whole bytes"},
      {"offsets not a pair", file_with(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}})", {1}), "data_offsets must be an array [begin, end]"},
      {"offsets reversed", file_with(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[1,0]}})", {1}), "end before they begin"},
      {"offset negative", file_with(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}})", {1}), "non-negative integer, not -1"},
      {"offset out of range", file_with(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", {1, 2, 3, 4}),
       "tensor 'w': data_offsets [0, 8] lie outside the 4-byte buffer"},
      {"huge offsets", file_with(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551614,18446744073709551615]}})", {1}),
       "lie outside the 1-byte buffer"},
      {"dtype/shape mismatch", file_with(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})", buf8),
       "tensor 'w': F32 x [1] needs 4 bytes, data_offsets [0, 8] hold 8"},
      {"overlap", file_with(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})", {1, 2, 3, 4, 5, 6}),
       "tensors 'a' and 'b' overlap (data_offsets [0, 4] and [2, 6])"},
      {"same range twice", file_with(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", {1, 2, 3, 4}),
       "tensors 'a' and 'b' overlap"},
      {"gap at start", file_with(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", {1, 2}),
       "buffer bytes [0, 1) before tensor 'w' belong to no tensor"},
      {"gap between", file_with(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}})", {1, 2, 3}),
       "buffer bytes [1, 2) before tensor 'b' belong to no tensor"},
      {"trailing bytes", file_with(ok, std::vector<std::uint8_t>(9, 0)), "buffer bytes [8, 9) after the last tensor belong to no tensor"},
      {"metadata not an object", file_with(R"({"__metadata__":"pt"})"), "__metadata__ must be an object, not string"},
      {"metadata value not a string", file_with(R"({"__metadata__":{"format":1}})"), "__metadata__ value of 'format' must be a string, not number"},
      {"nested shape", file_with(R"({"w":{"dtype":"U8","shape":[[1]],"data_offsets":[0,1]}})", {1}), "3 levels deep"},
      {"deep empty arrays", file_with("{\"w\":" + std::string(5000, '[') + std::string(5000, ']') + "}"), "3 levels deep"},
      {"huge value in a message", file_with(R"({"w":{"dtype":"U8","shape":[")" + std::string(10000, 'x') + R"("],"data_offsets":[0,1]}})", {1}),
       "not \"xxxxxxxxxx"},
  };
  for (const Case& c : cases) {
    const std::string got = error_of(c.file);
    EXPECT_NE(got.find(c.message), std::string::npos) << c.what << ": got \"" << got << "\", want \"" << c.message << "\"";
    EXPECT_EQ(got.rfind("safetensors: ", 0), 0u) << c.what << ": " << got;
    EXPECT_LT(got.size(), 300u) << c.what << ": messages quote values in short";
  }
}

// Random byte flips, truncations, extensions and header-length edits of valid files: every
// outcome is a parse or a lowbit::Error (the sanitizer builds catch anything worse).
TEST(Safetensors, MutationFuzzOnlyThrowsLowbitError) {
  std::vector<std::vector<std::uint8_t>> seeds = {st::write(sample_tensors(), {{"format", "pt"}})};
  {
    lowbit::io::bnb::Bnb4bitState s;
    s.shape = {5, 3};
    s.packed.assign(8, 0x5a);
    s.quant_map.assign(16, 0.5f);
    s.nested = lowbit::io::bnb::Bnb4bitNested{{7}, {2.0f}, std::vector<float>(256, 0.25f), 256, "float32", 0.125f};
    seeds.push_back(st::write(lowbit::io::bnb::to_tensors(s)));
  }
  std::mt19937_64 rng(20261124);
  const auto below = [&](std::uint64_t n) { return n ? rng() % n : 0; };
  int parsed = 0, rejected = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    std::vector<std::uint8_t> f = seeds[iter % seeds.size()];
    std::uint64_t header = 0;
    std::memcpy(&header, f.data(), 8);
    const int edits = 1 + static_cast<int>(below(4));
    for (int k = 0; k < edits; ++k) {
      switch (below(6)) {
        case 0:  // flip a byte anywhere
          f[below(f.size())] ^= static_cast<std::uint8_t>(1 + below(255));
          break;
        case 1:  // a byte of the header replaced by a JSON-ish character
          if (f.size() > 8) f[8 + below(std::min<std::uint64_t>(header, f.size() - 8))] = "{}[]\",:0123456789-e. \\"[below(22)];
          break;
        case 2:  // truncate
          f.resize(below(f.size() + 1));
          break;
        case 3:  // extend
          f.insert(f.begin() + static_cast<std::ptrdiff_t>(below(f.size() + 1)), static_cast<std::uint8_t>(rng()));
          break;
        case 4:  // change the header length
          if (f.size() >= 8) f[below(3)] = static_cast<std::uint8_t>(rng());
          break;
        default:  // a digit of an offset or a shape
          if (f.size() > 8) {
            const std::size_t at = 8 + below(std::min<std::uint64_t>(header, f.size() - 8));
            if (f[at] >= '0' && f[at] <= '9') f[at] = static_cast<std::uint8_t>('0' + below(10));
          }
      }
      if (f.empty()) break;
    }
    try {
      const st::File r = st::read(f);
      ++parsed;
      try {
        lowbit::io::bnb::from_tensors(r.tensors);
      } catch (const lowbit::Error&) {
      }
    } catch (const lowbit::Error&) {
      ++rejected;
    } catch (...) {
      FAIL() << "iteration " << iter << ": an exception other than lowbit::Error";
    }
  }
  EXPECT_GT(rejected, 2000);
  EXPECT_GT(parsed, 10);  // some edits (a digit of a padding-free name, ...) keep the file valid
}

// ---------------------------------------------------------------------------------------------
// bitsandbytes

TEST(BnbCheckpoint, PythonFloatRepr) {
  const struct {
    double x;
    const char* repr;
  } cases[] = {
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {1.0, "1.0"},
      {-2.5, "-2.5"},
      {129.625, "129.625"},
      {0.1, "0.1"},
      {1.0 / 3.0, "0.3333333333333333"},
      {0x1.1c37937e08000p+53, "1e+16"},
      {0x1.c6bf526340000p+49, "1000000000000000.0"},
      {0x1.1c37937e07fffp+53, "9999999999999998.0"},
      {0x1.4f8b588e368f1p-17, "1e-05"},
      {0x1.a36e2eb1c432dp-14, "0.0001"},
      {0x1.a36e2eb1c432cp-14, "9.999999999999999e-05"},
      {0x1.02e4b6ce5dc68p-13, "0.00012345"},
      {0x1.421f5f40d8376p-23, "1.5e-07"},
      {0x1.693d8e89df183p+332, "1.2345678901234567e+100"},
      {0x0.0000000000001p-1022, "5e-324"},
      {0x1.fffffffffffffp+1023, "1.7976931348623157e+308"},
      {0x1.b69b4ba630f35p+56, "1.2345678901234568e+17"},
      {0x1.0f0cf064dd592p+73, "1e+22"},
      {0x1.0p-149, "1.401298464324817e-45"},
      {0x1.fffffe0000000p+127, "3.4028234663852886e+38"},
      {0x1.78c29c0000000p+23, "12345678.0"},
      {100.0, "100.0"},
      {0x1.b38fb80000000p-127, "9.999999350456404e-39"},
      {0x1.99999a0000000p-4, "0.10000000149011612"},
      {0x1.2eeeee0000000p+1, "2.366666555404663"},
      {0x1.4f8b580000000p-17, "9.999999747378752e-06"},
      {0x1.bf08ec0000000p+34, "30000001024.0"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
      {std::numeric_limits<double>::infinity(), "Infinity"},
      {-std::numeric_limits<double>::infinity(), "-Infinity"},
  };
  for (const auto& c : cases) EXPECT_EQ(lowbit::io::bnb::python_float_repr(c.x), c.repr) << std::hexfloat << c.x;
}

TEST(BnbCheckpoint, GoldenQuantStateJsonByteForByte) {
  const GoldenDir g = GoldenDir::from_env();
  int checked = 0;
  for (const std::string& c : kCases)
    for (const std::string kind : {".bnbcpu.quant_state.json", ".bnbcpu.dq.quant_state.json"}) {
      const std::vector<std::uint8_t> raw = g.bytes("nf4/" + c + kind);
      const std::string text(raw.begin(), raw.end());
      const lowbit::io::bnb::QuantStateJson q = lowbit::io::bnb::decode_quant_state_json(text);
      EXPECT_EQ(lowbit::io::bnb::encode_quant_state_json(q), text) << c << kind;
      EXPECT_EQ(q.quant_type, "nf4");
      EXPECT_EQ(q.blocksize, 64u);
      EXPECT_EQ(q.dtype, "float32");
      EXPECT_EQ(q.shape, (std::vector<std::uint64_t>{g.bytes("nf4/" + c + ".in.f32").size() / 4}));
      ASSERT_EQ(q.nested.has_value(), kind.find(".dq.") != std::string::npos) << c << kind;
      if (q.nested) {
        EXPECT_EQ(q.nested->blocksize, 256u);
        EXPECT_EQ(q.nested->dtype, "float32");
        EXPECT_EQ(std::bit_cast<std::uint32_t>(q.nested->offset),
                  std::bit_cast<std::uint32_t>(golden_f32(g, "nf4/" + c + ".bnbcpu.dq.offset.f32").at(0)))
            << c;
      }
      ++checked;
    }
  EXPECT_EQ(checked, 18);
}

// Every golden bitsandbytes case, plain and double-quantized, as a checkpoint: written, read back
// bit for bit, the JSON equal to bitsandbytes' bytes, and the stored tensors dequantize to the
// golden values (absmax = nested_map[code] * nested_absmax + offset, x = quant_map[nibble] * absmax,
// fp32 products and sums as bitsandbytes' CPU path computes them).
TEST(BnbCheckpoint, GoldenTensorsAssembleIntoAFileThatReadsBackIdentically) {
  const GoldenDir g = GoldenDir::from_env();
  for (const std::string& c : kCases)
    for (const bool nested : {false, true}) {
      SCOPED_TRACE(c + (nested ? " (double quant)" : ""));
      const lowbit::io::bnb::Bnb4bitState s = golden_state(g, c, nested);
      const std::string prefix = "model.layers.0.mlp.down_proj.weight";
      const std::vector<std::uint8_t> file = st::write(lowbit::io::bnb::to_tensors(s, prefix), {{"format", "pt"}});
      const st::File r = st::read(file);
      EXPECT_EQ(r.tensors.size(), nested ? 6u : 4u);
      const st::Tensor& w = r.at(prefix);
      EXPECT_EQ(w.dtype, "U8");
      EXPECT_EQ(w.shape, (std::vector<std::uint64_t>{(s.shape[0] + 1) / 2, 1}));
      const st::Tensor& js = r.at(prefix + ".quant_state.bitsandbytes__nf4");
      EXPECT_EQ(js.bytes, g.bytes("nf4/" + c + (nested ? ".bnbcpu.dq.quant_state.json" : ".bnbcpu.quant_state.json")));
      EXPECT_EQ(r.at(prefix + ".absmax").dtype, nested ? "U8" : "F32");
      const lowbit::io::bnb::Bnb4bitState back = lowbit::io::bnb::from_tensors(r.tensors, prefix);
      expect_same_state(s, back);
      EXPECT_THROW(lowbit::io::bnb::from_tensors(r.tensors), lowbit::Error);  // nothing under "weight"

      std::vector<float> absmax = back.absmax;
      if (nested) {
        const lowbit::io::bnb::Bnb4bitNested& q = *back.nested;
        absmax.resize(q.codes.size());
        lowbit::nf4::DynamicMap map;
        std::copy(q.nested_map.begin(), q.nested_map.end(), map.begin());  // the stored map
        lowbit::ref::nf4_double_dequantize(q.codes, q.nested_absmax, q.offset, map, absmax);
        EXPECT_EQ(bits(absmax), bits(golden_f32(g, "nf4/" + c + ".bnbcpu.dq.absmax.f32")));
      }
      const std::uint64_t n = back.shape[0];
      std::vector<float> x(n);
      for (std::uint64_t j = 0; j < n; ++j) {
        const unsigned code = j % 2 ? back.packed[j / 2] & 15 : back.packed[j / 2] >> 4;
        x[j] = back.quant_map[code] * absmax[j / back.blocksize];
      }
      EXPECT_EQ(bits(x), bits(golden_f32(g, "nf4/" + c + (nested ? ".bnbcpu.dq.deq.f32" : ".bnbcpu.deq.f32"))));
    }
}

TEST(BnbCheckpoint, RoundTripIsLossless) {
  std::mt19937_64 rng(7);
  const auto f32 = [&] { return std::bit_cast<float>(static_cast<std::uint32_t>(rng())); };
  for (int variant = 0; variant < 8; ++variant) {
    lowbit::io::bnb::Bnb4bitState s;
    s.quant_type = variant % 2 ? "fp4" : "nf4";
    s.blocksize = variant < 4 ? 64 : 128;
    s.dtype = variant % 3 == 0 ? "bfloat16" : "float16";
    s.shape = variant == 5 ? std::vector<std::uint64_t>{} : variant % 2 ? std::vector<std::uint64_t>{7, 33} : std::vector<std::uint64_t>{301};
    if (variant == 6) s.shape = {0, 5};
    const std::uint64_t n = s.elements();
    for (std::uint64_t i = 0; i < (n + 1) / 2; ++i) s.packed.push_back(static_cast<std::uint8_t>(rng()));
    for (int i = 0; i < 16; ++i) s.quant_map.push_back(f32());
    const std::uint64_t nb = n == 0 ? 0 : (n - 1) / s.blocksize + 1;
    if (variant >= 2) {
      lowbit::io::bnb::Bnb4bitNested q;
      q.nested_blocksize = variant == 7 ? 2 : 256;
      for (std::uint64_t i = 0; i < nb; ++i) q.codes.push_back(static_cast<std::uint8_t>(rng()));
      for (std::uint64_t i = 0; i < (nb == 0 ? 0 : (nb - 1) / q.nested_blocksize + 1); ++i) q.nested_absmax.push_back(f32());
      for (int i = 0; i < 256; ++i) q.nested_map.push_back(f32());
      const float offsets[] = {f32(), -0.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                               0x1p-149f, -std::numeric_limits<float>::max()};
      q.offset = offsets[variant % 6];
      s.nested = q;
    } else {
      for (std::uint64_t i = 0; i < nb; ++i) s.absmax.push_back(f32());
    }
    SCOPED_TRACE(lowbit::io::bnb::encode_quant_state_json(lowbit::io::bnb::quant_state_json(s)));
    const std::vector<std::uint8_t> file = st::write(lowbit::io::bnb::to_tensors(s));
    const lowbit::io::bnb::Bnb4bitState back = lowbit::io::bnb::from_tensors(st::read(file).tensors);
    expect_same_state(s, back);
    EXPECT_EQ(st::write(lowbit::io::bnb::to_tensors(back)), file);
  }
}

TEST(BnbCheckpoint, QuantStateJsonDecoding) {
  // json.loads accepts any key order and whitespace, and json.dumps' non-finite tokens.
  const lowbit::io::bnb::QuantStateJson q = lowbit::io::bnb::decode_quant_state_json(
      R"({ "shape":[2,3],"nested_offset":-Infinity,"dtype":"bfloat16","quant_type":"fp4","blocksize":128,
           "nested_dtype":"float32","nested_blocksize":256 })");
  EXPECT_EQ(q.quant_type, "fp4");
  EXPECT_EQ(q.shape, (std::vector<std::uint64_t>{2, 3}));
  ASSERT_TRUE(q.nested);
  EXPECT_EQ(q.nested->offset, -std::numeric_limits<float>::infinity());
  EXPECT_EQ(lowbit::io::bnb::encode_quant_state_json(q),
            R"({"quant_type": "fp4", "blocksize": 128, "dtype": "bfloat16", "shape": [2, 3], "nested_blocksize": 256, )"
            R"("nested_dtype": "float32", "nested_offset": -Infinity})");
  EXPECT_TRUE(std::isnan(lowbit::io::bnb::decode_quant_state_json(R"({"quant_type": "nf4", "blocksize": 64, "dtype": "float32", "shape": [], )"
                                                      R"("nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": NaN})")
                             .nested->offset));
  // An integer offset, and one that is not an fp32 value (rounded to nearest, as torch.tensor does).
  const auto offset = [](const std::string& v) {
    return lowbit::io::bnb::decode_quant_state_json(R"({"quant_type": "nf4", "blocksize": 64, "dtype": "float32", "shape": [1], )"
                                        R"("nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": )" +
                                        v + "}")
        .nested->offset;
  };
  EXPECT_EQ(offset("3"), 3.0f);
  EXPECT_EQ(offset("0.1"), 0.1f);
  EXPECT_EQ(offset("1e300"), std::numeric_limits<float>::infinity());
  EXPECT_EQ(offset("3.4028235e38"), std::numeric_limits<float>::max());

  const std::string head = R"({"quant_type": "nf4", "blocksize": 64, "dtype": "float32")";
  const struct {
    std::string json;
    const char* message;
  } bad[] = {
      {"{", "quant_state is not valid JSON"},
      {"[1]", "quant_state must be a JSON object, not array"},
      {head + "}", "lacks the field 'shape'"},
      {head + R"(, "shape": [1], "absmax": 1})", "unknown field 'absmax'"},
      {head + R"(, "shape": [-1]})", "'shape' must be a non-negative integer, not -1"},
      {head + R"(, "shape": 5})", "'shape' must be an array"},
      {R"({"quant_type": "int4", "blocksize": 64, "dtype": "float32", "shape": [1]})", "quant_type 'int4' is neither nf4 nor fp4"},
      {R"({"quant_type": "nf4", "blocksize": 64.0, "dtype": "float32", "shape": [1]})", "'blocksize' must be a non-negative integer, not 64.0"},
      {R"({"quant_type": "nf4", "blocksize": 0, "dtype": "float32", "shape": [1]})", "blocksize is 0"},
      {R"({"quant_type": "nf4", "blocksize": 64, "dtype": "float 32", "shape": [1]})", "'dtype' must be a name string"},
      {head + R"(, "shape": [1], "nested_offset": 1.0})", "some but not all of nested_blocksize"},
      {head + R"(, "shape": [1], "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": "1.0"})",
       "'nested_offset' must be a number"},
      {head + R"(, "shape": [1], "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": nan})", "not valid JSON"},
      {head + R"(, "shape": [1]})" + std::string(1, '\0'), "quant_state is not valid JSON"},
  };
  for (const auto& b : bad) {
    try {
      lowbit::io::bnb::decode_quant_state_json(b.json);
      ADD_FAILURE() << "no error for " << b.json;
    } catch (const lowbit::Error& e) {
      EXPECT_EQ(e.code(), lowbit::Errc::data) << e.what();
      EXPECT_NE(std::string(e.what()).find(b.message), std::string::npos) << b.json << ": " << e.what();
    }
  }
  // A string holding NaN is not a number token (and "NaN" inside strings stays a string).
  EXPECT_THROW(lowbit::io::bnb::decode_quant_state_json(head + R"(, "shape": [1], "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": "NaN"})"),
               lowbit::Error);
}

TEST(BnbCheckpoint, InconsistentTensorsAreRejected) {
  lowbit::io::bnb::Bnb4bitState s;
  s.shape = {130};
  s.packed.assign(65, 0x12);
  s.absmax = {1, 2, 3};
  s.quant_map.assign(16, 0.0f);
  const std::vector<st::Tensor> good = lowbit::io::bnb::to_tensors(s);
  EXPECT_NO_THROW(lowbit::io::bnb::from_tensors(good));

  const auto error = [](std::vector<st::Tensor> t) -> std::string {
    try {
      lowbit::io::bnb::from_tensors(t);
    } catch (const lowbit::Error& e) {
      EXPECT_EQ(e.code(), lowbit::Errc::data) << e.what();
      return e.what();
    }
    return "(no error)";
  };
  const auto edited = [&](const std::string& name, auto edit) {
    std::vector<st::Tensor> t = good;
    for (st::Tensor& x : t)
      if (x.name == name) edit(x);
    return t;
  };
  std::vector<st::Tensor> t;
  EXPECT_NE(error({}).find("tensor 'weight.quant_state.bitsandbytes__nf4' (or __fp4) is missing"), std::string::npos);
  t = good;
  t.erase(t.begin());
  EXPECT_NE(error(t).find("tensor 'weight' is missing"), std::string::npos);
  t = good;
  t.push_back({"weight.scale", "F32", {0}, {}});
  EXPECT_NE(error(t).find("unknown tensor 'weight.scale'"), std::string::npos);
  t = good;
  t.push_back({"weight2", "F32", {0}, {}});  // another parameter: ignored
  t.push_back({"bias", "F32", {0}, {}});
  EXPECT_NO_THROW(lowbit::io::bnb::from_tensors(t));
  t = good;
  t.push_back(good.back());
  EXPECT_NE(error(t).find("two tensors are named 'weight.quant_state.bitsandbytes__nf4'"), std::string::npos);
  t = good;
  t.back().name = "weight.quant_state.bitsandbytes__fp4";
  EXPECT_NE(error(t).find("holds quant_type 'nf4'"), std::string::npos);
  t = good;
  t.push_back(good.back());
  t.back().name = "weight.quant_state.bitsandbytes__fp4";
  EXPECT_NE(error(t).find("both weight.quant_state.bitsandbytes__nf4 and"), std::string::npos);
  EXPECT_NE(error(edited("weight", [](st::Tensor& x) { x.dtype = "BF16"; })).find("other quant_storage dtypes are not supported"),
            std::string::npos);
  EXPECT_NE(error(edited("weight", [](st::Tensor& x) { x.shape = {65}; })).find("tensor 'weight' has shape [65], the quant_state shape [130] needs [65, 1]"),
            std::string::npos);
  EXPECT_NE(error(edited("weight.absmax", [](st::Tensor& x) {
              x.bytes.resize(8);
              x.shape = {2};
            })).find("weight.absmax has 2 entries, shape [130] in blocks of 64 needs 3"),
            std::string::npos);
  EXPECT_NE(error(edited("weight.absmax", [](st::Tensor& x) { x.dtype = "U8"; })).find("tensor 'weight.absmax' has dtype U8, expected F32"),
            std::string::npos);
  EXPECT_NE(error(edited("weight.absmax", [](st::Tensor& x) { x.shape = {3, 1}; })).find("has shape [3, 1], expected [3]"), std::string::npos);
  EXPECT_NE(error(edited("weight.quant_map", [](st::Tensor& x) {
              x.bytes.resize(60);
              x.shape = {15};
            })).find("weight.quant_map has 15 entries, a 4-bit code needs 16"),
            std::string::npos);
  const std::string nested_json = R"({"quant_type": "nf4", "blocksize": 64, "dtype": "float32", "shape": [130], )"
                                  R"("nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": 0.5})";
  EXPECT_NE(error(edited("weight.quant_state.bitsandbytes__nf4", [&](st::Tensor& x) {
              x.bytes.assign(nested_json.begin(), nested_json.end());
              x.shape = {x.bytes.size()};
            })).find("the quant_state is nested but weight.nested_absmax"),
            std::string::npos);
  t = good;
  t.push_back({"weight.nested_absmax", "F32", {0}, {}});
  EXPECT_NE(error(t).find("present but the quant_state is not nested"), std::string::npos);
}

TEST(BnbCheckpoint, WriterChecksSizes) {
  lowbit::io::bnb::Bnb4bitState s;
  s.shape = {3, 3};
  s.packed.assign(5, 0);
  s.absmax = {1};
  s.quant_map.assign(16, 0.0f);
  EXPECT_NO_THROW(lowbit::io::bnb::to_tensors(s));
  EXPECT_THROW(lowbit::io::bnb::to_tensors(s, ""), lowbit::Error);
  lowbit::io::bnb::Bnb4bitState b = s;
  b.packed.resize(4);
  EXPECT_THROW(lowbit::io::bnb::to_tensors(b), lowbit::Error);
  b = s;
  b.quant_type = "int4";
  EXPECT_THROW(lowbit::io::bnb::to_tensors(b), lowbit::Error);
  b = s;
  b.dtype = "torch.float32\"";
  EXPECT_THROW(lowbit::io::bnb::to_tensors(b), lowbit::Error);
  b = s;
  b.nested = lowbit::io::bnb::Bnb4bitNested{{1}, {1.0f}, std::vector<float>(256), 256, "float32", 0.0f};
  EXPECT_THROW(lowbit::io::bnb::to_tensors(b), lowbit::Error);  // absmax must be empty when nested
  b.absmax.clear();
  EXPECT_NO_THROW(lowbit::io::bnb::to_tensors(b));
  b.nested->nested_map.resize(255);
  EXPECT_THROW(lowbit::io::bnb::to_tensors(b), lowbit::Error);
  b = s;
  b.shape = {1ull << 32, 1ull << 32, 2};
  EXPECT_THROW(lowbit::io::bnb::to_tensors(b), lowbit::Error);
}
