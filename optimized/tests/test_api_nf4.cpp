// The public NF4 double quantization (lowbit/nf4.hpp) and the bitsandbytes Linear4bit state in one
// call (lowbit/io/bnb_checkpoint.hpp): every golden double-quantized case of bitsandbytes bit for
// bit through the public calls, the default map and offset, the defaults of the lowbit profile, the
// round trip through a .safetensors file, and errors with their codes.
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <vector>

#include "error_code.hpp"
#include "lowbit/conformance/nf4_suite.hpp"
#include "lowbit/io/bnb_checkpoint.hpp"
#include "lowbit/nf4.hpp"
#include "lowbit/reference/nf4.hpp"
#include "lowbit/reference/torch_ops.hpp"

namespace {

using namespace lowbit;
using conformance::GoldenDir;
using conformance::kNf4GoldenSemantics;
using conformance::Nf4Manifest;

std::vector<std::uint32_t> bits(std::span<const float> v) {
  std::vector<std::uint32_t> b(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) b[i] = std::bit_cast<std::uint32_t>(v[i]);
  return b;
}

std::vector<float> floats(const std::vector<std::uint32_t>& b) {
  std::vector<float> v(b.size());
  for (std::size_t i = 0; i < b.size(); ++i) v[i] = std::bit_cast<float>(b[i]);
  return v;
}

// Every golden double-quantized case: encode, double_quantize with the defaults (torch's mean, the
// default map), double_dequantize, decode; and io::bnb::encode / decode give the same in one call.
TEST(Nf4DoubleQuantApi, EveryGoldenCaseThroughThePublicCalls) {
  const Nf4Manifest m(GoldenDir::from_env());
  const auto map = floats(m.f32("-", "-", "dynamic_map.f32"));
  EXPECT_EQ(bits(nf4::dynamic_map()), bits(map));
  int checked = 0;
  for (const std::string& c : m.cases())
    for (const auto& [sem, profile] : kNf4GoldenSemantics) {
      if (!m.has(c, sem, "dq.qabsmax.u8")) continue;
      SCOPED_TRACE(c + " / " + sem);
      ++checked;
      nf4::Options o;
      o.profile = nf4::profile(profile);
      const std::vector<float> x = floats(m.f32(c, "*", "in.f32"));
      const nf4::Encoded e = nf4::encode(x, o);
      const nf4::DoubleQuantized dq = nf4::double_quantize(e.absmax, o);
      EXPECT_EQ(std::bit_cast<std::uint32_t>(dq.offset), m.f32(c, sem, "dq.offset.f32").at(0));
      EXPECT_EQ(dq.codes, m.u8(c, sem, "dq.qabsmax.u8"));
      EXPECT_EQ(bits(dq.nested_absmax), m.f32(c, sem, "dq.nested_absmax.f32"));
      EXPECT_EQ(bits(dq.map), bits(map));
      EXPECT_EQ(dq.nested_block, nf4::kNestedBlock);
      const std::vector<float> absmax = nf4::double_dequantize(dq);
      EXPECT_EQ(bits(absmax), m.f32(c, sem, "dq.absmax.f32"));
      EXPECT_EQ(bits(nf4::decode(e.packed, absmax, x.size(), o)), m.f32(c, sem, "dq.deq.f32"));

      const io::bnb::Bnb4bitState s = io::bnb::encode(x, {x.size()}, o, nf4::DoubleQuantOptions{});
      ASSERT_TRUE(s.nested.has_value());
      EXPECT_EQ(s.packed, e.packed);
      EXPECT_EQ(s.nested->codes, dq.codes);
      EXPECT_EQ(bits(io::bnb::decode(s)), m.f32(c, sem, "dq.deq.f32"));
    }
  EXPECT_EQ(checked, 27);
}

TEST(Nf4DoubleQuantApi, OptionsOverrideTheOffsetAndTheMap) {
  const std::vector<float> absmax = {0.5f, 1.25f, 3.0f, 0.125f, 2.0f};
  nf4::Options o;
  o.profile = nf4::profile("bnb-cuda");
  EXPECT_EQ(nf4::double_quantize(absmax, o).offset, ref::torch_mean_f32(absmax));
  nf4::DoubleQuantOptions dq;
  dq.offset = 1.0f;
  dq.map = nf4::dynamic_map(16);  // AVX-512's map
  const nf4::DoubleQuantized q = nf4::double_quantize(absmax, o, dq);
  const nf4::DoubleQuantized want = ref::nf4_double_quantize(absmax, nf4::Nested::cuda_binary_search, *dq.map, 1.0f);
  EXPECT_EQ(q.offset, 1.0f);
  EXPECT_EQ(q.codes, want.codes);
  EXPECT_EQ(bits(q.nested_absmax), bits(want.nested_absmax));
  EXPECT_EQ(bits(q.map), bits(*dq.map));
  // The default profile's nested quantizer (lowbit: exact nearest, ties to even).
  const nf4::DoubleQuantized exact = nf4::double_quantize(absmax);
  EXPECT_EQ(exact.codes, ref::nf4_double_quantize(absmax, nf4::Nested::exact_nearest_even, nf4::dynamic_map()).codes);
}


TEST(Nf4DoubleQuantApi, ErrorsHaveTheirCodes) {
  const std::vector<float> absmax(300, 1.0f);
  nf4::DoubleQuantOptions bad_map;
  bad_map.map = nf4::dynamic_map();
  (*bad_map.map)[10] = 2.0f;  // outside [-1, 1]
  EXPECT_EQ(error_code([&] { nf4::double_quantize(absmax, {}, bad_map); }), Errc::invalid);
  EXPECT_EQ(error_code([&] { nf4::double_quantize(absmax, {}, {.offset = NAN}); }), Errc::invalid);
  EXPECT_EQ(error_code([&] { nf4::dynamic_map(0); }), Errc::invalid);
  nf4::Options o;
  o.profile = nf4::profile("bnb-cpu");
  nf4::DoubleQuantized q = nf4::double_quantize(absmax, o);
  std::vector<float> out(299);
  EXPECT_EQ(error_code([&] { nf4::double_dequantize(q, std::span(out)); }), Errc::invalid);
  q.nested_absmax.pop_back();
  EXPECT_EQ(error_code([&] { nf4::double_dequantize(q); }), Errc::invalid);
  q = nf4::double_quantize(absmax, o);
  q.nested_block = 128;
  EXPECT_EQ(error_code([&] { nf4::double_dequantize(q); }), Errc::unsupported);
}

// A 2-D weight through a .safetensors file and back, with and without double quantization.
TEST(BnbStateApi, TwoDimensionalWeightRoundTripsThroughAFile) {
  std::vector<float> w(24 * 40);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.01f * static_cast<float>(static_cast<int>(i * 37 % 101) - 50);
  nf4::Options o;
  o.table = nf4::Table::fp4;
  o.block = 32;
  o.profile = nf4::profile("bnb-torch");
  for (bool nested : {false, true}) {
    SCOPED_TRACE(nested);
    const auto dq = nested ? std::optional<nf4::DoubleQuantOptions>(nf4::DoubleQuantOptions{}) : std::nullopt;
    const io::bnb::Bnb4bitState s = io::bnb::encode(w, {24, 40}, o, dq);
    EXPECT_EQ(s.quant_type, "fp4");
    EXPECT_EQ(s.blocksize, 32u);
    EXPECT_EQ(s.shape, (std::vector<std::uint64_t>{24, 40}));
    const io::safetensors::File f = io::safetensors::read(io::safetensors::write(io::bnb::to_tensors(s)));
    const io::bnb::Bnb4bitState back = io::bnb::from_tensors(f.tensors);
    std::vector<float> want = nf4::quantize(w, o);
    if (nested) {
      const nf4::Encoded e = nf4::encode(w, o);
      want = nf4::decode(e.packed, nf4::double_dequantize(nf4::double_quantize(e.absmax, o)), w.size(), o);
    }
    EXPECT_EQ(bits(io::bnb::decode(back)), bits(want));
  }
  EXPECT_EQ(error_code([&] { io::bnb::encode(w, {24, 41}, o); }), Errc::invalid);
  io::bnb::Bnb4bitState s = io::bnb::encode(w, {24, 40}, o);
  s.quant_map[3] = 0.5f;
  EXPECT_EQ(error_code([&] { io::bnb::decode(s); }), Errc::unsupported);
}

}  // namespace
