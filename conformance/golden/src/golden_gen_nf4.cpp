#include "lowbit/conformance/golden_gen.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <stdexcept>

#include <fmt/format.h>

#include "lowbit/conformance/cases.hpp"
#include "lowbit/reference/nf4.hpp"

namespace lowbit::conformance {
namespace {

// The double quantization of `absmax` and the dequantization through it, as arrays and tests.
void put_double_quant(GoldenWriter& w, const nf4::Profile& prof, const nf4::Params& p, std::size_t n,
                      const std::vector<std::uint8_t>& packed, const std::vector<float>& absmax,
                      const std::vector<std::string>& names) {
  const nf4::DynamicMap map = ref::bnb_dynamic_map();
  const nf4::DoubleQuantized dq = ref::nf4_double_quantize(absmax, prof.nested, map);
  const std::size_t blocks = absmax.size(), nested = dq.nested_absmax.size();
  std::vector<float> back(blocks);
  ref::nf4_double_dequantize(dq.codes, dq.nested_absmax, dq.offset, map, back);
  std::vector<float> out(n);
  ref::nf4_dequantize_ref(n, packed.data(), back.data(), out.data(), &p);
  std::vector<std::uint32_t> nested_in(nested, 0);
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::uint32_t d = f32_bits(absmax[b] - dq.offset) & ~kF32Sign;
    nested_in[b / nf4::kNestedBlock] = std::max(nested_in[b / nf4::kNestedBlock], d);
  }
  std::vector<std::uint8_t> nested_classes(nested, 0);  // 0 full, 1 the short last nested block
  if (blocks % nf4::kNestedBlock) nested_classes.back() = 1;
  w.put("expected_qabsmax", io::npy::make_array("|u1", dq.codes), "8-bit nested code of each absmax");
  w.put("expected_nested_absmax", io::npy::make_array("<u4", f32_bits(dq.nested_absmax)),
        "absmax of (absmax - offset) per nested block (f32 bits)");
  w.put("nested_inputs", io::npy::make_array("<u4", nested_in), "largest |absmax - offset| per nested block (f32 bits)");
  w.put("nested_classes", io::npy::make_array("|u1", nested_classes), "nested block class: 0 full, 1 tail");
  w.put("expected_offset", io::npy::make_array("<u4", std::vector<std::uint32_t>{f32_bits(dq.offset)}),
        "offset: torch's fp32 mean of absmax (f32 bits)");
  w.put("offset_inputs", io::npy::make_array("<u4", std::vector<std::uint32_t>{static_cast<std::uint32_t>(blocks)}),
        "number of absmax values averaged");
  w.put("offset_classes", io::npy::make_array("|u1", std::vector<std::uint8_t>{0}), "class index");
  w.put("expected_dq_absmax", io::npy::make_array("<u4", f32_bits(back)), "reconstructed absmax (f32 bits)");
  w.put("dq_decode_expected", io::npy::make_array("<u4", f32_bits(out)), "dequantized f32 with the reconstructed absmax");
  w.put("dq_map", io::npy::make_array("<u4", f32_bits(map)), "the nested map, bitsandbytes create_dynamic_map (f32 bits)");
  w.test({"qabsmax", "absmax -> 8-bit nested codes", "expected_absmax", "expected_qabsmax", "absmax_classes", names,
          "unsigned", "codes"});
  w.test({"nested_absmax", "absmax - offset -> f32 absmax per nested block", "nested_inputs", "expected_nested_absmax",
          "nested_classes", {"full", "tail"}, "sign-magnitude", "f32 ulps"});
  w.test({"offset", "absmax -> offset (fp32 mean)", "offset_inputs", "expected_offset", "offset_classes", {"mean"},
          "sign-magnitude", "f32 ulps"});
  w.test({"dq_absmax", "nested codes + nested absmax + offset -> absmax", "expected_qabsmax", "expected_dq_absmax",
          "absmax_classes", names, "sign-magnitude", "f32 ulps"});
  w.test({"dq_decode", "packed + reconstructed absmax -> f32", "expected_codes", "dq_decode_expected", "classes", names,
          "sign-magnitude", "f32 ulps"});
}

}  // namespace

Fp8Cases nf4_gen_cases(const Nf4GenOptions& o) {
  if (!nf4::valid_block(o.block)) throw std::runtime_error(fmt::format("block must be a power of two in 32..4096, not {}", o.block));
  check_gen(o.level, o.random);
  using K = Nf4CaseClass;
  const int n = o.block;
  std::vector<float> sorted;
  for (unsigned c = 0; c < 16; ++c) sorted.push_back(table_value(o.table, c));
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<float> mids;
  for (std::size_t k = 0; k + 1 < sorted.size(); ++k) mids.push_back((sorted[k] + sorted[k + 1]) / 2);
  Fp8Cases c;
  auto push = [&](std::uint32_t x, K k) {
    c.inputs.push_back(x);
    c.classes.push_back(static_cast<std::uint8_t>(k));
  };
  auto tie = [&](float a, int j) { return f32_bits(mids[static_cast<std::size_t>(j) % mids.size()] * a); };
  auto tie_block = [&](float a, K k, int len) {
    push(f32_bits(a), k);
    for (int j = 1; j < len; ++j) push(tie(a, j), k);
  };
  std::vector<float> scales;
  for (int e : {-126, -100, -60, -20, -10, -1, 0, 1, 10, 20, 60, 100, 127})
    if (!o.double_quant || std::abs(e) <= 20) scales.push_back(std::ldexp(1.0f, e));  // a finite mean (offset)
  for (float a : {1.7f, 3.3e-3f, 12345.678f}) scales.push_back(a);
  for (float a : scales) {
    push(f32_bits(a), K::exact);
    for (int j = 1; j < n; ++j) push(f32_bits(sorted[static_cast<std::size_t>(j * 3) % sorted.size()] * a), K::exact);
    tie_block(a, K::tie, n);
    push(f32_bits(a), K::near_tie);
    for (int j = 1; j < n; ++j) {
      const std::uint32_t t = tie(a, j);
      push((t & ~kF32Sign) == 0 ? t : (j % 2 ? t + 1 : t - 1), K::near_tie);
    }
  }
  for (int j = 0; j < n; ++j) push(0u, K::special);
  for (int j = 0; j < n; ++j) push(kF32Sign, K::special);
  if (!o.double_quant)  // a NaN/Inf absmax would make the offset, and so every DQ absmax, NaN
    for (std::uint32_t special : {0x7FC00000u, 0xFFC00001u, 0x7F800001u, 0x7F800000u, 0xFF800000u})
      for (int j = 0; j < n; ++j) push(j == 3 ? special : tie(1.0f, j), K::special);
  for (int j = 0; j < n; ++j) push((static_cast<std::uint32_t>(j) * 0x12345u + 1u) % 0x00800000u | (j % 2 ? kF32Sign : 0u), K::special);
  if (o.level == Level::quick) {
    SplitMix64 rng{o.seed};
    const std::size_t blocks = (o.random + n - 1) / n;
    for (std::size_t b = 0; b < blocks; ++b) {
      const float a = std::ldexp(1.0f + static_cast<float>(rng.next() >> 41) * 0x1p-23f, static_cast<int>(rng.next() % 61) - 30);
      for (int j = 0; j < n; ++j) {
        const float u = static_cast<float>(rng.next() >> 40) * 0x1p-24f;  // [0, 1)
        push(f32_bits(a * (2 * u - 1)), K::random);
      }
    }
  }
  tie_block(1.0f, K::tail, n / 2 + 1);
  return c;
}

GenSummary gen_nf4(const Nf4GenOptions& o, const std::string& dir) { return gen_nf4(o, nf4_gen_cases(o), dir); }

GenSummary gen_nf4(const Nf4GenOptions& o, const Fp8Cases& cases, const std::string& dir) {
  const nf4::Profile* prof = nf4::find_profile(o.profile);
  if (!prof) throw std::runtime_error(fmt::format("unknown NF4 profile '{}'", o.profile));
  if (!nf4::valid_block(o.block)) throw std::runtime_error(fmt::format("block must be a power of two in 32..4096, not {}", o.block));
  if (cases.inputs.empty() || cases.classes.size() != cases.inputs.size())
    throw std::runtime_error("gen_nf4: no inputs, or not one class per input");
  const std::size_t n = cases.inputs.size(), blocks = nf4::blocks(n, o.block), bytes = nf4::packed_bytes(n);
  std::vector<float> in(n), absmax(blocks), out(n);
  for (std::size_t i = 0; i < n; ++i) in[i] = std::bit_cast<float>(cases.inputs[i]);
  std::vector<std::uint8_t> packed(bytes), codes(n), packed_classes(bytes), absmax_classes(blocks);
  const nf4::Params p = nf4::make_params(o.table, *prof, o.block);
  ref::nf4_quantize_ref(n, in.data(), packed.data(), absmax.data(), &p);
  ref::nf4_dequantize_ref(n, packed.data(), absmax.data(), out.data(), &p);
  std::vector<std::uint32_t> decoded(n), absmax_bits(blocks), amax(blocks, 0), packed_inputs(bytes);
  for (std::size_t i = 0; i < n; ++i) {
    codes[i] = ref::nf4_code_at(packed.data(), i);
    decoded[i] = f32_bits(out[i]);
    const std::size_t b = i / static_cast<std::size_t>(o.block);
    amax[b] = std::max(amax[b], cases.inputs[i] & ~kF32Sign);
    if (i % 2 == 0) {
      packed_classes[i / 2] = cases.classes[i];
      packed_inputs[i / 2] = cases.inputs[i];
    }
    if (i % static_cast<std::size_t>(o.block) == 0) absmax_classes[b] = cases.classes[i];
  }
  for (std::size_t b = 0; b < blocks; ++b) absmax_bits[b] = f32_bits(absmax[b]);

  GoldenWriter w(dir, o.container);
  w.put("inputs", io::npy::make_array("<u4", cases.inputs), "f32 inputs as bit patterns");
  w.put("expected_packed", io::npy::make_array("|u1", packed), "packed codes, element 2i in the high nibble");
  w.put("expected_codes", io::npy::make_array("|u1", codes), "one 4-bit code per element");
  w.put("expected_absmax", io::npy::make_array("<u4", absmax_bits), "absmax per block (f32 bits)");
  w.put("classes", io::npy::make_array("|u1", cases.classes), "case class index per element");
  w.put("packed_inputs", io::npy::make_array("<u4", packed_inputs), "f32 input of element 2i per packed byte (f32 bits)");
  w.put("packed_classes", io::npy::make_array("|u1", packed_classes), "case class index per packed byte");
  w.put("absmax_inputs", io::npy::make_array("<u4", amax), "largest |x| per block (f32 bits)");
  w.put("absmax_classes", io::npy::make_array("|u1", absmax_classes), "case class index per block");
  w.put("decode_expected", io::npy::make_array("<u4", decoded), "dequantized f32 as bit patterns");
  const std::vector<std::string> names(std::begin(kNf4CaseClassNames), std::end(kNf4CaseClassNames));
  w.test({"codes", "f32 -> 4-bit codes", "inputs", "expected_codes", "classes", names, "unsigned", "codes"});
  w.test({"packed", "f32 -> packed bytes", "packed_inputs", "expected_packed", "packed_classes", names, "unsigned",
          "packed bytes"});
  w.test({"absmax", "f32 -> absmax per block", "absmax_inputs", "expected_absmax", "absmax_classes", names,
          "sign-magnitude", "f32 ulps"});
  w.test({"decode", "packed + absmax -> f32", "expected_codes", "decode_expected", "classes", names, "sign-magnitude",
          "f32 ulps"});
  if (o.double_quant) put_double_quant(w, *prof, p, n, packed, absmax, names);
  return w.write({
      {"kind", "nf4"},
      {"format", std::string(name(o.table))},
      {"profile", prof->name},
      {"block", o.block},
      {"double_quant", o.double_quant},
      {"nested_block", o.double_quant ? nf4::kNestedBlock : 0},
      {"rounding", "nearest"},
      {"seed", o.seed},
      {"level", name(o.level)},
      {"random", o.level == Level::quick ? o.random : 0},
  });
}

}  // namespace lowbit::conformance
