// convert gse and convert mx<...> on a tiny Llama in BF16, F16 and F32, one file and shards: every
// weight's codes and scale bytes are what gse::encode_rows / mx::encode (one call per row) give for its
// values, 4-bit codes packed two a byte low nibble first, dequantize gives gse::decode / mx::decode bit
// for bit, sr streams keyed per tensor, 1 thread equals 2, recognise() names the format, config.json has
// lowbit's quantization_config; and the bad inputs are one lowbit::Error naming the tensor.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>

#include "convert_tester.hpp"
#include "lowbit/error.hpp"
#include "lowbit/gse.hpp"
#include "lowbit/mx.hpp"

namespace {

using namespace lowbit::testing;
namespace gse = lowbit::gse;
namespace mx = lowbit::mx;
using lowbit::Rounding;

// IC 72 and 75: partial last groups of every size, and an odd row of nibbles.
const LlamaDims kDims{72, 75, 32, 2};

// The documented sr key: FNV-1a-64 of the seed's 8 little-endian bytes, then the tensor's name.
std::uint64_t sr_key(std::uint64_t seed, const std::string& name) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(seed >> (8 * i));
  std::uint64_t h = 14695981039346656037u;
  for (char c : bytes + name) h = (h ^ static_cast<std::uint8_t>(c)) * 1099511628211u;
  return h;
}

// Codes of [oc, ic] as stored: one a byte, or two a byte (element 2k in the low nibble of byte k of its row).
std::vector<std::uint8_t> stored(const std::vector<std::uint8_t>& codes, std::uint64_t oc, std::uint64_t ic, bool nibbles) {
  if (!nibbles) return codes;
  const std::uint64_t rb = (ic + 1) / 2;
  std::vector<std::uint8_t> out(oc * rb, 0);
  for (std::uint64_t r = 0; r < oc; ++r)
    for (std::uint64_t c = 0; c < ic; ++c) out[r * rb + c / 2] |= static_cast<std::uint8_t>((codes[r * ic + c] & 0xF) << (c % 2 ? 4 : 0));
  return out;
}

// What the single-tensor API gives for one [oc, ic] weight.
struct Want {
  std::vector<std::uint8_t> codes, scales;  // codes one a byte, scales rows x blocks
  std::vector<float> values;
};

Want want_gse(const std::vector<float>& x, std::uint64_t oc, std::uint64_t ic, const gse::Format& f, Rounding r, std::uint64_t key) {
  gse::Options o;
  o.format = f;
  o.rounding = r;
  o.seed = key;
  const gse::Encoded e = gse::encode_rows(oc, ic, x, o);
  Want w{{e.codes.begin(), e.codes.end()}, e.exps, std::vector<float>(x.size())};
  const std::size_t g = f.groups(ic);
  for (std::uint64_t r = 0; r < oc; ++r)  // each row grouped on its own
    gse::decode(std::span(e.codes).subspan(r * ic, ic), std::span(e.exps).subspan(r * g, g), std::span(w.values).subspan(r * ic, ic), o);
  return w;
}

Want want_mx(const std::vector<float>& x, std::uint64_t oc, std::uint64_t ic, mx::Format f, Rounding r, std::uint64_t key) {
  Want w;
  mx::Options o;
  o.format = f;
  o.rounding = r;
  o.seed = key;
  for (std::uint64_t row = 0; row < oc; ++row) {
    o.index0 = row * ic;
    const mx::Encoded e = mx::encode(std::span(x).subspan(row * ic, ic), o);
    const std::vector<float> v = mx::decode(e.codes, e.scales, o);
    w.codes.insert(w.codes.end(), e.codes.begin(), e.codes.end());
    w.scales.insert(w.scales.end(), e.scales.begin(), e.scales.end());
    w.values.insert(w.values.end(), v.begin(), v.end());
  }
  return w;
}

// One case: the target, the names it gives, and the single-tensor API's result.
struct Case {
  std::string format, family, scales;  // recognise()'s name; companions <w>.<family>_<scales>, <w>.<family>_format
  std::size_t block;
  bool nibbles, signed_codes;
  std::function<std::unique_ptr<md::Target>()> target;
  std::function<Want(const std::vector<float>&, std::uint64_t, std::uint64_t, const std::string&)> want;
  std::string json_fields;  // the format's keys in the JSON companion, as text
  std::string describe;     // recognise()'s layout before ", <dtype> [OC, IC]"
};

Case gse_case(const gse::Format& f, Rounding r, std::uint64_t seed) {
  return {"gse", "gse", "exponents", static_cast<std::size_t>(f.group), f.bits == 4, true,
          [=] { return md::gse_target(f, r, seed); },
          [=](const std::vector<float>& x, std::uint64_t oc, std::uint64_t ic, const std::string& name) {
            return want_gse(x, oc, ic, f, r, r == Rounding::sr ? sr_key(seed, name) : 0);
          },
          fmt::format(R"("bits":{},"group":{},"exp_bits":{},"exp_bias":{},"exp_offset":{},"mantissa_overflow":"{}","exponent_overflow":"{}")", f.bits,
                      f.group, f.exp_bits, f.exp_bias, f.exp_offset, f.mantissa_overflow == gse::MantissaOverflow::bump ? "bump" : "saturate",
                      f.exponent_overflow == gse::ExponentOverflow::nan ? "nan" : "saturate"),
          fmt::format("{}-bit codes, group {}, {}-bit exponents, bias {}, offset {}", f.bits, f.group, f.exp_bits, f.exp_bias, f.exp_offset)};
}

Case mx_case(mx::Format f, Rounding r, std::uint64_t seed) {
  return {std::string(traits(f).name), "mx", "scales", 32, f == mx::Format::fp4_e2m1, f == mx::Format::int8,
          [=] { return md::mx_target(f, r, seed); },
          [=](const std::vector<float>& x, std::uint64_t oc, std::uint64_t ic, const std::string& name) {
            return want_mx(x, oc, ic, f, r, r == Rounding::sr ? sr_key(seed, name) : 0);
          },
          R"("block":32)", "block 32, E8M0 scales"};
}

void check(const Case& k, const std::string& dtype, int shards) {
  const std::string name = fmt::format("blocks_{}_{}_{}", k.format, dtype, shards);
  SCOPED_TRACE(name);
  const std::vector<st::Tensor> tensors = llama_with_values(dtype, kDims);
  const std::string out = convert_checked(name, tensors, shards, k.target);
  const md::Model q = md::Model::open(out), d = dequantized(name, q);
  const std::string torch = dtype == "F32" ? "float32" : dtype == "F16" ? "float16" : "bfloat16";
  each_weight(tensors, q, d, [&](const st::Tensor& t, const md::Weight& w, const st::Tensor& deq) {
    const std::uint64_t oc = t.shape[0], ic = t.shape[1], nb = (ic + k.block - 1) / k.block;
    const Want e = k.want(values_of(t), oc, ic, t.name);
    EXPECT_EQ(w.format, k.format);
    EXPECT_EQ(w.layout, fmt::format("{}, {} [{}, {}]", k.describe, torch, oc, ic));
    const st::Tensor codes = q.load(q.at(t.name));
    EXPECT_EQ(codes.dtype, k.signed_codes && !k.nibbles ? "I8" : "U8");
    EXPECT_EQ(codes.shape, (std::vector<std::uint64_t>{oc, k.nibbles ? (ic + 1) / 2 : ic}));
    EXPECT_EQ(codes.bytes, stored(e.codes, oc, ic, k.nibbles));
    const std::string prefix = t.name + "." + k.family + "_";
    ASSERT_EQ(w.companions.size(), 2u);
    std::map<std::string, st::Tensor> companions;
    for (const md::TensorInfo* c : w.companions) companions.emplace(c->name, q.load(*c));
    ASSERT_TRUE(companions.count(prefix + k.scales) && companions.count(prefix + "format"));
    const st::Tensor &format = companions.at(prefix + "format"), &scales = companions.at(prefix + k.scales);
    EXPECT_EQ(scales.dtype, "U8");
    EXPECT_EQ(scales.shape, (std::vector<std::uint64_t>{oc, nb}));
    EXPECT_EQ(scales.bytes, e.scales);
    EXPECT_EQ(format.dtype, "U8");
    EXPECT_EQ(std::string(format.bytes.begin(), format.bytes.end()),
              fmt::format(R"({{"format":"{}",{},"shape":[{},{}],"dtype":"{}"}})", k.format, k.json_fields, oc, ic, torch));
    EXPECT_EQ(deq.dtype, "F32");
    EXPECT_EQ(deq.shape, t.shape);
    EXPECT_EQ(bits(values_of(deq)), bits(e.values));
  });
  EXPECT_EQ(q.shards().front().metadata.at("lowbit.format"), k.format);
  const nlohmann::ordered_json qc = quantization_config(out);
  EXPECT_EQ(qc.at("quant_method"), "lowbit");
  EXPECT_EQ(qc.at("format"), k.format);
}

TEST(ConvertGse, EveryDtypeAndSharding) {
  for (const char* dtype : {"BF16", "F16", "F32"})
    for (int shards : {1, 3}) check(gse_case(gse::Format{}, Rounding::rne, 0), dtype, shards);
}

TEST(ConvertGse, FourBitNibblesAndStochasticRounding) {
  gse::Format f;
  f.bits = 4;
  f.group = 16;
  check(gse_case(f, Rounding::sr, 7), "BF16", 1);
  f.bits = 6;
  f.group = 64;
  f.exp_bits = 8;
  f.exp_bias = 127;
  f.mantissa_overflow = gse::MantissaOverflow::bump;
  check(gse_case(f, Rounding::rtz, 0), "F32", 3);
}

TEST(ConvertGse, OptionsInMetadataAndQuantizationConfig) {
  gse::Format f;
  f.bits = 5;
  const std::string out = convert_checked("gse_options", llama_with_values("BF16", kDims), 1, [&] { return md::gse_target(f, Rounding::sr, 9); });
  EXPECT_EQ(quantization_config(out).dump(),
            R"({"quant_method":"lowbit","format":"gse","bits":5,"exp_bias":15,"exp_bits":5,"exp_offset":0,)"
            R"("exponent_overflow":"saturate","group":32,"mantissa_overflow":"saturate","rounding":"sr","seed":9})");
  const md::Model q = md::Model::open(out);
  EXPECT_EQ(q.shards().front().metadata.at("lowbit.bits"), "5");
  EXPECT_EQ(q.shards().front().metadata.at("lowbit.seed"), "9");
}

TEST(ConvertMx, EveryFormat) {
  for (const mx::Traits& t : mx::kFormats) check(mx_case(t.format, Rounding::rna, 0), "BF16", 1);
}

TEST(ConvertMx, DtypesShardsAndStochasticRounding) {
  for (const char* dtype : {"F16", "F32"}) check(mx_case(mx::Format::fp4_e2m1, Rounding::rne, 0), dtype, 3);
  check(mx_case(mx::Format::fp8_e4m3, Rounding::sr, 3), "F32", 1);
  const std::string out = convert_checked("mx_options", llama_with_values("BF16", kDims), 1, [] { return md::mx_target(mx::Format::fp6_e2m3, Rounding::rna); });
  EXPECT_EQ(quantization_config(out).dump(), R"({"quant_method":"lowbit","format":"mxfp6-e2m3","block":32,"rounding":"rna"})");
}

TEST(ConvertBlocks, BadInput) {
  const md::Model m = md::Model::open(write_checkpoint(fresh_temp_path("blocks_bad_in"), llama_with_values("F32", kDims)));
  md::ConvertOptions norms = convert_options();
  norms.include = {"*norm*"};
  const std::function<std::unique_ptr<md::Target>()> targets[] = {[] { return md::gse_target(gse::Format{}, Rounding::rne); },
                                                                    [] { return md::mx_target(mx::Format::int8, Rounding::rna); }};
  for (const auto& target : targets) {
    const std::string out = fresh_temp_path("blocks_bad_out");
    std::filesystem::create_directories(out);
    expect_error([&] { md::convert(m, *target(), out, norms); }, lowbit::Errc::data, {"model.layers.0.input_layernorm.weight", "not 2-D"});
  }
  gse::Format g;
  g.group = 24;
  expect_error([&] { md::gse_target(g, Rounding::rne); }, lowbit::Errc::invalid, {"group"});

  // Decoding: a weight of MXFP4 codes [2, 3] and what can be wrong with it.
  const auto json = [](const std::string& text) { return st::Tensor{"w.mx_format", "U8", {text.size()}, {text.begin(), text.end()}}; };
  const st::Tensor w{"w", "U8", {2, 2}, std::vector<std::uint8_t>(4)}, scales{"w.mx_scales", "U8", {2, 1}, std::vector<std::uint8_t>(2, 127)};
  const st::Tensor good = json(R"({"format":"mxfp4-e2m1","block":32,"shape":[2,3],"dtype":"float32"})");
  const md::Parallel par(1);
  EXPECT_EQ(md::decode("mxfp4-e2m1", std::vector{w, good, scales}, par).values, std::vector<float>(6, 0.0f));
  expect_error([&] { md::decode("mxfp4-e2m1", std::vector{w, scales}, par); }, lowbit::Errc::data, {"'w'", "w.mx_format"});
  expect_error([&] { md::decode("mxfp4-e2m1", std::vector{w, good}, par); }, lowbit::Errc::data, {"'w'", "w.mx_scales"});
  const st::Tensor wide{"w", "U8", {2, 3}, std::vector<std::uint8_t>(6)};
  expect_error([&] { md::decode("mxfp4-e2m1", std::vector{wide, good, scales}, par); }, lowbit::Errc::data, {"'w'", "[2, 3]", "U8 [2, 2]"});
  const st::Tensor few{"w.mx_scales", "U8", {2}, std::vector<std::uint8_t>(2)};
  expect_error([&] { md::decode("mxfp4-e2m1", std::vector{w, good, few}, par); }, lowbit::Errc::data, {"w.mx_scales", "U8 [2, 1]"});
  for (const auto& [text, what] : std::vector<std::pair<std::string, std::string>>{
           {R"({"format":"mxfp4-e2m1","block":32,"shape":[2,3],"dtype":"float32","x":1})", "unknown key \"x\""},
           {R"({"format":"mxfp5","block":32,"shape":[2,3],"dtype":"float32"})", "not an MX format"},
           {R"({"format":"mxfp4-e2m1","block":16,"shape":[2,3],"dtype":"float32"})", "block 16"},
           {R"({"format":"mxfp4-e2m1","block":32,"shape":[2],"dtype":"float32"})", "[OC, IC]"},
           {R"({"format":"mxfp4-e2m1","block":32,"shape":[2,3],"dtype":"int8"})", "dtype"},
           {R"({"format":"mxfp4-e2m1","block":32)", "not valid JSON"}})
    expect_error([&] { md::decode("mxfp4-e2m1", std::vector{w, json(text), scales}, par); }, lowbit::Errc::data, {"w.mx_format", what});
  // A GSE 4-bit nibble 0x8 is the unused code -8.
  const std::string g4 = R"({"format":"gse","bits":4,"group":32,"exp_bits":5,"exp_bias":15,"exp_offset":0,)"
                         R"("mantissa_overflow":"saturate","exponent_overflow":"saturate","shape":[2,3],"dtype":"bfloat16"})";
  const st::Tensor gw{"w", "U8", {2, 2}, {0, 0, 0x80, 0}}, gj{"w.gse_format", "U8", {g4.size()}, {g4.begin(), g4.end()}},
      ge{"w.gse_exponents", "U8", {2, 1}, {15, 15}};
  expect_error([&] { md::decode("gse", std::vector{gw, ge, gj}, par); }, lowbit::Errc::data, {"'w' row 1"});
}

}  // namespace
