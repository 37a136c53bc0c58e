// The NF4/FP4 reference against the bitsandbytes golden set (conformance/golden/nf4, README there):
// every case, every profile, bit for bit; the manifest's SHA-256; the tables; RapidCheck
// properties; and lowbit's own NaN/Inf/zero/tie rules.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "lowbit/conformance/golden.hpp"
#include "lowbit/conformance/nf4_suite.hpp"
#include "lowbit/conformance/sha256.hpp"
#include "lowbit/reference/nf4.hpp"

namespace {

using namespace lowbit;
using lowbit::conformance::GoldenDir;

using Manifest = lowbit::conformance::Nf4Manifest;

const Manifest& manifest() {
  static const Manifest m(GoldenDir::from_env());
  return m;
}

std::vector<std::uint32_t> bits_of(const std::vector<float>& v) {
  std::vector<std::uint32_t> b(v.size());
  if (!v.empty()) std::memcpy(b.data(), v.data(), v.size() * 4);
  return b;
}
std::vector<float> floats_of(const std::vector<std::uint32_t>& b) {
  std::vector<float> v(b.size());
  if (!b.empty()) std::memcpy(v.data(), b.data(), b.size() * 4);
  return v;
}

// Element-wise equality with the first difference and the count in the message.
template <class T>
::testing::AssertionResult same(const std::vector<T>& got, const std::vector<T>& want) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << "size " << got.size() << " != " << want.size();
  std::size_t bad = 0, first = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[i] && bad++ == 0) first = i;
  if (bad == 0) return ::testing::AssertionSuccess();
  std::ostringstream msg;
  msg << bad << " differ, first at " << first << ": got 0x" << std::hex << +got[first] << " want 0x" << +want[first];
  return ::testing::AssertionFailure() << msg.str();
}

using lowbit::conformance::kNf4GoldenSemantics;

nf4::DynamicMap golden_map() {
  const auto b = manifest().f32("-", "-", "dynamic_map.f32");
  nf4::DynamicMap m{};
  std::memcpy(m.data(), b.data(), 1024);
  return m;
}

struct Quantized {
  std::vector<std::uint8_t> packed;
  std::vector<float> absmax;
};

Quantized quantize(const std::vector<float>& x, const nf4::Profile& p, nf4::Table t = nf4::Table::nf4,
                   int block = 64) {
  const nf4::Params params = nf4::make_params(t, p, block);
  Quantized q{std::vector<std::uint8_t>(nf4::packed_bytes(x.size())), std::vector<float>(nf4::blocks(x.size(), block))};
  ref::nf4_quantize_ref(x.size(), x.data(), q.packed.data(), q.absmax.data(), &params);
  return q;
}

std::vector<float> dequantize(const std::vector<std::uint8_t>& packed, const std::vector<float>& absmax, std::size_t n,
                              const nf4::Profile& p, nf4::Table t = nf4::Table::nf4, int block = 64) {
  const nf4::Params params = nf4::make_params(t, p, block);
  std::vector<float> out(n);
  ref::nf4_dequantize_ref(n, packed.data(), absmax.data(), out.data(), &params);
  return out;
}

TEST(Nf4Golden, ManifestSha256AndSizes) {
  const Manifest& m = manifest();
  ASSERT_GE(m.entries().size(), 250u);
  std::map<std::string, std::string> seen;
  for (const auto& [key, e] : m.entries()) {
    if (seen.count(e.file)) {
      EXPECT_EQ(seen[e.file], e.sha) << key;
      continue;
    }
    const std::vector<std::uint8_t> b = m.dir().bytes("nf4/" + e.file);
    EXPECT_EQ(b.size(), e.bytes) << e.file;
    EXPECT_EQ(conformance::sha256_hex(b), e.sha) << e.file;
    seen[e.file] = e.sha;
  }
  EXPECT_EQ(m.cases().size(), 10u);
}

TEST(Nf4Golden, Tables) {
  const Manifest& m = manifest();
  const auto nf4 = m.f32("-", "-", "nf4_code.f32"), fp4 = m.f32("-", "-", "fp4_code.f32");
  EXPECT_TRUE(same(nf4, std::vector<std::uint32_t>(nf4::kNf4CodeBits.begin(), nf4::kNf4CodeBits.end())));
  EXPECT_TRUE(same(fp4, std::vector<std::uint32_t>(nf4::kFp4CodeBits.begin(), nf4::kFp4CodeBits.end())));
  const auto bounds = fp32_midpoints(nf4::Table::nf4);
  EXPECT_TRUE(same(m.f32("-", "-", "nf4_bounds_default.f32"),
                   bits_of(std::vector<float>(bounds.begin(), bounds.end()))));
  EXPECT_TRUE(same(m.f32("-", "-", "nf4_thresholds_cuda.f32"),
                   std::vector<std::uint32_t>(nf4::kNf4CudaThresholdBits.begin(), nf4::kNf4CudaThresholdBits.end())));
  EXPECT_EQ(std::bit_cast<std::uint32_t>(nf4::kBnbAbsmaxClamp), 0x006CE3EEu);
}

TEST(Nf4Golden, DynamicMapProcedure) {
  const nf4::DynamicMap want = golden_map();
  const nf4::DynamicMap got = ref::bnb_dynamic_map(8);
  EXPECT_TRUE(same(bits_of({got.begin(), got.end()}), bits_of({want.begin(), want.end()})));
  EXPECT_TRUE(ref::valid_dynamic_map(want));
  std::size_t scalar_diff = 0;
  const nf4::DynamicMap scalar = ref::bnb_dynamic_map(1);
  for (int k = 0; k < 256; ++k) scalar_diff += scalar[k] != want[k];
  RecordProperty("scalar_linspace_differences", static_cast<int>(scalar_diff));
}

// Every case x every golden semantics: codes, absmax and dequantized values (blocksize 64).
TEST(Nf4Golden, QuantizeDequantizeEveryCaseEveryProfile) {
  const Manifest& m = manifest();
  for (const std::string& c : m.cases())
    for (const auto& [sem, profile_name] : kNf4GoldenSemantics) {
      SCOPED_TRACE(c + " / " + sem);
      const nf4::Profile& p = *nf4::find_profile(profile_name);
      const std::vector<float> x = floats_of(m.f32(c, "*", "in.f32"));
      const Quantized q = quantize(x, p);
      EXPECT_TRUE(same(q.packed, m.u8(c, sem, "nf4.u8")));
      EXPECT_TRUE(same(bits_of(q.absmax), m.f32(c, sem, "absmax.f32")));
      // dequantize the golden codes and absmax, then our own
      const auto gabs = floats_of(m.f32(c, sem, "absmax.f32"));
      EXPECT_TRUE(same(bits_of(dequantize(m.u8(c, sem, "nf4.u8"), gabs, x.size(), p)), m.f32(c, sem, "deq.f32")));
      EXPECT_TRUE(same(bits_of(dequantize(q.packed, q.absmax, x.size(), p)), m.f32(c, sem, "deq.f32")));
    }
}

// Double quantization: offset (torch's summation order), nested codes, nested absmax,
// reconstructed absmax, dequantized values.
TEST(Nf4Golden, DoubleQuantEveryCaseEveryProfile) {
  const Manifest& m = manifest();
  const nf4::DynamicMap map = golden_map();
  int checked = 0;
  for (const std::string& c : m.cases())
    for (const auto& [sem, profile_name] : kNf4GoldenSemantics) {
      if (!m.has(c, sem, "dq.qabsmax.u8")) continue;
      SCOPED_TRACE(c + " / " + sem);
      ++checked;
      const nf4::Profile& p = *nf4::find_profile(profile_name);
      const std::vector<float> x = floats_of(m.f32(c, "*", "in.f32"));
      const Quantized q = quantize(x, p);
      const float offset = ref::torch_mean_f32(q.absmax);
      EXPECT_EQ(std::bit_cast<std::uint32_t>(offset), m.f32(c, sem, "dq.offset.f32").at(0));
      const nf4::DoubleQuantized dq = ref::nf4_double_quantize(q.absmax, p.nested, map);
      EXPECT_EQ(dq.offset, offset);
      EXPECT_TRUE(same(dq.codes, m.u8(c, sem, "dq.qabsmax.u8")));
      EXPECT_TRUE(same(bits_of(dq.nested_absmax), m.f32(c, sem, "dq.nested_absmax.f32")));
      std::vector<float> absmax(q.absmax.size());
      ref::nf4_double_dequantize(dq.codes, dq.nested_absmax, dq.offset, map, absmax);
      EXPECT_TRUE(same(bits_of(absmax), m.f32(c, sem, "dq.absmax.f32")));
      EXPECT_TRUE(same(bits_of(dequantize(q.packed, absmax, x.size(), p)), m.f32(c, sem, "dq.deq.f32")));
      // a given offset reproduces the same state
      const nf4::DoubleQuantized given = ref::nf4_double_quantize(q.absmax, p.nested, map, offset);
      EXPECT_TRUE(same(given.codes, dq.codes));
    }
  EXPECT_EQ(checked, 27);
}

// The documented divergences, spelled out (README "Where the semantics differ").
TEST(Nf4Golden, DocumentedDivergences) {
  const Manifest& m = manifest();
  const std::vector<float> x = floats_of(m.f32("divmul", "*", "in.f32"));
  const Quantized cpu = quantize(x, *nf4::find_profile("bnb-cpu")), cuda = quantize(x, *nf4::find_profile("bnb-cuda"));
  const std::uint8_t want_cpu[] = {15, 2, 4, 6, 7, 11, 13}, want_cuda[] = {15, 1, 3, 5, 8, 12, 14};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(ref::nf4_code_at(cpu.packed.data(), 128 + i), want_cpu[i]) << i;
    EXPECT_EQ(ref::nf4_code_at(cuda.packed.data(), 128 + i), want_cuda[i]) << i;
  }
  EXPECT_EQ(ref::nf4_code_at(cpu.packed.data(), 68), 14);
  EXPECT_EQ(ref::nf4_code_at(cuda.packed.data(), 68), 15);
}

// ---- lowbit's own rules ----

const nf4::Profile& lowbit_profile() { return nf4::default_profile(); }

TEST(Nf4Lowbit, DefaultProfileAndLookup) {
  EXPECT_EQ(nf4::default_profile().name, "lowbit");
  for (const nf4::Profile& p : nf4::kProfiles) EXPECT_EQ(nf4::find_profile(p.name), &p);
  EXPECT_EQ(nf4::find_profile("bnb"), nullptr);
  EXPECT_EQ(nf4::parse_table("fp4"), nf4::Table::fp4);
  EXPECT_FALSE(nf4::parse_table("e2m1"));
  for (int b : {32, 64, 128, 256, 512, 1024, 2048, 4096}) EXPECT_TRUE(nf4::valid_block(b));
  for (int b : {0, 16, 48, 96, 8192}) EXPECT_FALSE(nf4::valid_block(b));
}

TEST(Nf4Lowbit, NanOrInfMakesTheBlockNan) {
  for (nf4::Table t : {nf4::Table::nf4, nf4::Table::fp4}) {
    std::vector<float> x(96, 0.5f);
    x[3] = std::numeric_limits<float>::quiet_NaN();
    x[70] = -std::numeric_limits<float>::infinity();
    const Quantized q = quantize(x, lowbit_profile(), t);
    EXPECT_TRUE(std::isnan(q.absmax[0]) && std::isnan(q.absmax[1]));
    for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(ref::nf4_code_at(q.packed.data(), i), zero_code(t));
    for (float v : dequantize(q.packed, q.absmax, x.size(), lowbit_profile(), t)) EXPECT_TRUE(std::isnan(v));
  }
}

TEST(Nf4Lowbit, ZeroBlockAndSignedZeros) {
  std::vector<float> x(65, -0.0f);
  x[64] = 0.0f;
  for (nf4::Table t : {nf4::Table::nf4, nf4::Table::fp4}) {
    const Quantized q = quantize(x, lowbit_profile(), t);
    EXPECT_EQ(q.absmax, (std::vector<float>{0.0f, 0.0f}));
    for (std::size_t i = 0; i < 66; ++i) EXPECT_EQ(ref::nf4_code_at(q.packed.data(), i), zero_code(t));
    for (float v : dequantize(q.packed, q.absmax, x.size(), lowbit_profile(), t))
      EXPECT_EQ(std::bit_cast<std::uint32_t>(v), 0u);  // +0.0
  }
}

TEST(Nf4Lowbit, TiesGoToTheSmallerValueAndNearestIsExact) {
  // absmax 1 (power of two): the fp32 midpoints, and the values one ulp either side.
  const auto order = sorted_codes(nf4::Table::nf4);
  for (unsigned k = 0; k < 15; ++k) {
    const double mid = (double{table_value(nf4::Table::nf4, order[k])} + table_value(nf4::Table::nf4, order[k + 1])) / 2;
    const float m = static_cast<float>(mid);
    std::vector<float> x{1.0f, std::nextafter(m, -2.0f), m, std::nextafter(m, 2.0f)};
    const Quantized q = quantize(x, lowbit_profile());
    const unsigned below = ref::nf4_code_at(q.packed.data(), 1), at = ref::nf4_code_at(q.packed.data(), 2),
                   above = ref::nf4_code_at(q.packed.data(), 3);
    EXPECT_EQ(below, k);
    EXPECT_EQ(above, k + 1);
    EXPECT_EQ(at, static_cast<double>(m) > mid ? k + 1 : k) << k;  // an exact tie (m == mid) stays at k
  }
}

TEST(Nf4Lowbit, NestedExactNearestTiesEven) {
  const nf4::DynamicMap map = golden_map();
  // a zero block (one absmax: a - offset = 0) stores nested absmax 0 and the code of 0.0
  const nf4::DoubleQuantized one = ref::nf4_double_quantize(std::vector<float>{2.5f}, nf4::Nested::exact_nearest_even, map);
  EXPECT_EQ(one.offset, 2.5f);
  EXPECT_EQ(one.codes, std::vector<std::uint8_t>{127});
  EXPECT_EQ(one.nested_absmax, std::vector<float>{0.0f});
  // exact midpoints (representable in fp32) between entries k and k + 1, with absmax 1: the tie goes
  // to the even one of k, k + 1; one ulp above goes to k + 1
  int ties = 0;
  for (int k = 128; k < 254; ++k) {
    const float mid = (map[k] + map[k + 1]) / 2.0f;
    if (double{mid} != (double{map[k]} + double{map[k + 1]}) / 2) continue;
    std::vector<float> a{1.0f, mid, std::nextafter(mid, 2.0f)};
    std::vector<std::uint8_t> codes(3);
    std::vector<float> nested(1);
    ref::nf4_nested_quantize(a, nf4::Nested::exact_nearest_even, map, codes, nested);
    EXPECT_EQ(nested[0], 1.0f);
    EXPECT_EQ(codes[0], 255);
    EXPECT_EQ(codes[1], k % 2 == 0 ? k : k + 1) << k;
    EXPECT_EQ(codes[2], k + 1) << k;
    ++ties;
  }
  EXPECT_GT(ties, 10);
}

// ---- properties, every profile and table ----

const nf4::Profile& gen_profile() { return nf4::kProfiles[*rc::gen::inRange<std::size_t>(0, nf4::kProfiles.size())]; }

std::vector<float> gen_block(std::size_t n, int lo_exp, int hi_exp) {
  std::vector<float> x(n);
  for (float& v : x) {
    const float m = *rc::gen::inRange(-1000000, 1000001) / 1000000.0f;
    v = std::ldexp(m, *rc::gen::inRange(lo_exp, hi_exp));
  }
  return x;
}

RC_GTEST_PROP(Nf4Properties, PowerOfTwoScalesAbsmaxOnly, ()) {
  const nf4::Profile& p = gen_profile();
  const nf4::Table t = *rc::gen::element(nf4::Table::nf4, nf4::Table::fp4);
  const int block = *rc::gen::element(32, 64, 128);
  const std::size_t n = *rc::gen::inRange<std::size_t>(1, 3 * block);
  const std::vector<float> x = gen_block(n, -8, 8);
  const int k = *rc::gen::inRange(-40, 41);
  std::vector<float> y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = std::ldexp(x[i], k);
  const Quantized qx = quantize(x, p, t, block), qy = quantize(y, p, t, block);
  RC_ASSERT(qx.packed == qy.packed);
  for (std::size_t b = 0; b < qx.absmax.size(); ++b) {
    if (qx.absmax[b] < 1e-30f) continue;  // an all-zero (or all-tiny) block: clamps and 1/0 differ
    RC_ASSERT(std::ldexp(qx.absmax[b], k) == qy.absmax[b]);
  }
}

RC_GTEST_PROP(Nf4Properties, CodesMonotoneInTheInput, ()) {
  const nf4::Profile& p = gen_profile();
  const nf4::Table t = *rc::gen::element(nf4::Table::nf4, nf4::Table::fp4);
  const std::vector<float> x = gen_block(64, -20, 20);
  const Quantized q = quantize(x, p, t, 64);
  for (std::size_t i = 0; i < x.size(); ++i)
    for (std::size_t j = 0; j < x.size(); ++j)
      if (x[i] < x[j])
        RC_ASSERT(table_value(t, ref::nf4_code_at(q.packed.data(), i)) <=
                  table_value(t, ref::nf4_code_at(q.packed.data(), j)));
}

RC_GTEST_PROP(Nf4Properties, TableTimesScaleRoundTripsExactly, ()) {
  const nf4::Profile& p = gen_profile();
  const nf4::Table t = *rc::gen::element(nf4::Table::nf4, nf4::Table::fp4);
  const int block = *rc::gen::element(32, 64, 256);
  const float a = std::ldexp(*rc::gen::inRange(1 << 23, 1 << 24) / float(1 << 23), *rc::gen::inRange(-60, 60));
  std::vector<float> x(static_cast<std::size_t>(block));
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = table_value(t, *rc::gen::inRange(0, 16)) * a;
  x[0] = a;  // the block maximum is exactly a
  const Quantized q = quantize(x, p, t, block);
  RC_ASSERT(q.absmax[0] == a);
  RC_ASSERT(bits_of(dequantize(q.packed, q.absmax, x.size(), p, t, block)) == bits_of(x));
}

}  // namespace

namespace {

// Away from ties, NaN/Inf and zero blocks, lowbit writes what bitsandbytes writes: every case
// but `edge` (midpoint triples), `divmul` (the partial-block division and one exact tie) and
// `divergent` has the bnb codes and absmax and, with the same offset, CUDA's nested codes
// (`tail1`, `tail63`: one absmax, so a zero nested block, where lowbit writes the code of 0.0).
TEST(Nf4Lowbit, MatchesBitsandbytesOnOrdinaryData) {
  const Manifest& m = manifest();
  const lowbit::nf4::DynamicMap map = golden_map();
  for (const std::string& c : m.cases()) {
    if (c == "edge" || c == "divmul" || c == "divergent") continue;
    SCOPED_TRACE(c);
    const std::vector<float> x = floats_of(m.f32(c, "*", "in.f32"));
    const Quantized q = quantize(x, lowbit_profile());
    EXPECT_TRUE(same(q.packed, m.u8(c, "bnbcpu", "nf4.u8")));
    EXPECT_TRUE(same(bits_of(q.absmax), m.f32(c, "bnbcpu", "absmax.f32")));
    if (q.absmax.size() == 1) continue;  // one absmax: absmax - offset = 0, a zero nested block (code 127)
    const auto dq = lowbit::ref::nf4_double_quantize(q.absmax, lowbit_profile().nested, map);
    EXPECT_TRUE(same(dq.codes, m.u8(c, "cudasem", "dq.qabsmax.u8")));
  }
}

}  // namespace
