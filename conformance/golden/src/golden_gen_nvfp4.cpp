// lowbit gen nvfp4 (golden_gen.hpp): tensors of the docs' vectors, ties at every block scale, shapes with
// tails and seeded random tensors, each encoded by the reference on its own.
#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string_view>

#include "lowbit/conformance/cases.hpp"
#include "lowbit/conformance/golden_gen.hpp"
#include "lowbit/conformance/nvfp4_cases.hpp"
#include "lowbit/nvfp4.hpp"
#include "lowbit/reference/nvfp4.hpp"
#include "lowbit/reference/philox.hpp"

namespace lowbit::conformance {
namespace {

using K = Nvfp4CaseClass;

// One tie tensor: per block scale 2^k (k = -9 .. 8, E4M3's range) a row, or a 16-row tile for 2-D blocks, of two
// blocks led by 6 * 2^k: block 0 the E2M1 values and every tie between neighbours times 2^k, block 1 the ties a
// ulp either side; then a row holding 2688, the amax that makes S_enc 1 and each scale 2^k exactly.
Nvfp4GenTensor tie_tensor(nvfp4::Blocking b) {
  constexpr float kValues[] = {0.5f, 1, 1.5f, 2, 3, 4, 6}, kTies[] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5};
  const std::size_t tile = b == nvfp4::Blocking::d2 ? nvfp4::kBlock : 1, cols = 2 * nvfp4::kBlock;
  Nvfp4GenTensor t{18 * tile + 1, cols, {}, K::ties};
  for (int k = -9; k <= 8; ++k)
    for (std::size_t r = 0; r < tile; ++r) {
      std::vector<float> row(cols, 0.0f);
      row[0] = row[nvfp4::kBlock] = std::ldexp(6.0f, k);
      for (std::size_t i = 0; i < 7; ++i) {
        const float sign = (i + r) % 2 ? -1.0f : 1.0f, tie = std::ldexp(kTies[i], k) * sign;
        row[1 + i] = std::ldexp(kValues[i], k) * sign;
        row[8 + i] = tie;
        row[nvfp4::kBlock + 1 + 2 * i] = std::nextafter(tie, 0.0f);
        row[nvfp4::kBlock + 2 + 2 * i] = std::nextafter(tie, 2 * tie);
      }
      t.x.insert(t.x.end(), row.begin(), row.end());
    }
  t.x.push_back(2688);
  t.x.resize(t.rows * cols, 0.0f);
  return t;
}

}  // namespace

std::vector<Nvfp4GenTensor> nvfp4_gen_tensors(const Nvfp4GenOptions& o) {
  check_gen(o.level, o.random);
  std::vector<Nvfp4GenTensor> out;
  for (const Nvfp4Fixed& f : nvfp4_fixed_vectors()) {  // encoded with the set's options, not the vector's own
    const std::string_view n = f.name;
    out.push_back({f.rows, f.cols, f.x, n == "worked example" || n == "sr with given words" ? K::docs : f.rows * f.cols > 32 ? K::layout : K::special});
  }
  out.push_back(tie_tensor(o.blocking));
  // Tails of rows and columns, data-like values (the structured cases: a fixed generator).
  const std::vector<std::uint32_t> pool = f32_cases(1, 1 << 10);
  std::mt19937_64 fixed(20261208);
  for (const auto& [rows, cols] : {std::pair<std::size_t, std::size_t>{1, 1}, {1, 15}, {1, 17}, {3, 33}, {17, 47}, {20, 20}, {33, 100}})
    out.push_back({rows, cols, nvfp4_random_tensor(fixed, rows, cols, o.blocking, pool), K::tails});
  if (o.level == Level::quick) {
    std::mt19937_64 rng(o.seed);
    for (std::size_t n = 0; n < o.random;) {
      const std::size_t rows = 1 + rng() % 40, cols = 1 + rng() % 80;
      out.push_back({rows, cols, nvfp4_random_tensor(rng, rows, cols, o.blocking, pool), K::random});
      n += rows * cols;
    }
  }
  return out;
}

GenSummary gen_nvfp4(const Nvfp4GenOptions& o, const std::string& dir) {
  if (o.rounding != Rounding::rne && o.rounding != Rounding::sr) throw std::runtime_error("NVFP4 rounds rne or sr");
  const std::vector<Nvfp4GenTensor> tensors = nvfp4_gen_tensors(o);
  std::vector<std::uint32_t> shapes, inputs, scale_inputs, amaxes, decoded;
  std::vector<std::uint8_t> classes, codes, scales, scale_classes;
  std::uint64_t word0 = 0;
  for (const Nvfp4GenTensor& t : tensors) {
    const float amax = nvfp4::amax(t.x);
    std::vector<std::uint32_t> words(o.rounding == Rounding::sr ? t.rows * nvfp4::sr_words_per_row(t.cols) : 0);
    for (std::size_t i = 0; i < words.size(); ++i) words[i] = ref::philox_word(o.seed, word0 + i);
    word0 += words.size();
    const nvfp4::EncodeParams p{t.rows, t.cols, o.blocking, o.layout, o.rounding, amax, words.data()};
    std::vector<std::uint8_t> c(t.x.size()), s(nvfp4::scale_count(t.rows, t.cols, o.layout));
    ref::nvfp4_encode_ref(t.x.data(), c.data(), s.data(), &p);
    std::vector<float> y(t.x.size());
    const nvfp4::DecodeParams dp{t.rows, t.cols, o.layout, amax};
    ref::nvfp4_decode_ref(c.data(), s.data(), y.data(), &dp);
    // Each scale's operand: its block's (2-D: its tile's) amax, NaN all over a tensor with a NaN; padding 0.
    std::vector<float> block_amax(s.size(), 0.0f);
    const std::size_t tile = o.blocking == nvfp4::Blocking::d2 ? nvfp4::kBlock : 1;
    for (std::size_t r = 0; r < t.rows; ++r)
      for (std::size_t c0 = 0; c0 < t.cols; ++c0) {
        const std::size_t b = c0 / nvfp4::kBlock;
        for (std::size_t rr = r / tile * tile; rr < std::min(t.rows, r / tile * tile + tile); ++rr) {
          float& m = block_amax[nvfp4::scale_index(rr, b, t.cols, o.layout)];
          m = std::max(m, std::fabs(t.x[r * t.cols + c0]));
        }
      }
    if (std::isnan(amax)) std::fill(block_amax.begin(), block_amax.end(), amax);
    shapes.insert(shapes.end(), {static_cast<std::uint32_t>(t.rows), static_cast<std::uint32_t>(t.cols)});
    for (const float v : t.x) inputs.push_back(std::bit_cast<std::uint32_t>(v));
    classes.insert(classes.end(), t.x.size(), static_cast<std::uint8_t>(t.cls));
    codes.insert(codes.end(), c.begin(), c.end());
    scales.insert(scales.end(), s.begin(), s.end());
    for (const float v : block_amax) scale_inputs.push_back(std::bit_cast<std::uint32_t>(v));
    scale_classes.insert(scale_classes.end(), s.size(), static_cast<std::uint8_t>(t.cls));
    amaxes.push_back(std::bit_cast<std::uint32_t>(amax));
    for (const float v : y) decoded.push_back(std::bit_cast<std::uint32_t>(v));
  }

  GoldenWriter w(dir, o.container);
  w.put("tensors", io::npy::make_array("<u4", shapes, {tensors.size(), 2}), "rows and cols of each tensor");
  w.put("inputs", io::npy::make_array("<u4", inputs), "f32 inputs as bit patterns, each tensor row-major, one after the other");
  w.put("classes", io::npy::make_array("|u1", classes), "case class index per element (its tensor's)");
  w.put("expected_codes", io::npy::make_array("|u1", codes), "E2M1 codes, one a byte (sign at bit 3)");
  w.put("expected_scales", io::npy::make_array("|u1", scales),
        fmt::format("E4M3FN scales, {} layout, scale_count(rows, cols) per tensor", name(o.layout)));
  w.put("scale_inputs", io::npy::make_array("<u4", scale_inputs), "each scale's block (2-D: tile) amax, f32 bits; padding 0");
  w.put("scale_classes", io::npy::make_array("|u1", scale_classes), "case class index per scale");
  w.put("amax", io::npy::make_array("<u4", amaxes), "each tensor's amax (f32 bits): what encode scales by and decode takes");
  w.put("decode_expected", io::npy::make_array("<u4", decoded), "f32 decoding of the expected codes and scales with the amax");
  const std::vector<std::string> names(std::begin(kNvfp4CaseClassNames), std::end(kNvfp4CaseClassNames));
  w.test({"codes", "f32 tensor -> NVFP4 E2M1 codes", "inputs", "expected_codes", "classes", names, "sign-magnitude-4", "codes"});
  w.test({"scales", "block amax -> E4M3FN scale", "scale_inputs", "expected_scales", "scale_classes", names, "sign-magnitude",
          "scale steps"});
  w.test({"decode", "NVFP4 -> f32", "expected_codes", "decode_expected", "classes", names, "sign-magnitude", "f32 ulps"});
  return w.write({
      {"kind", "nvfp4"},
      {"format", "nvfp4"},
      {"blocking", std::string(name(o.blocking))},
      {"scale_layout", std::string(name(o.layout))},
      {"rounding", std::string(name(o.rounding))},
      {"seed", o.seed},
      {"level", name(o.level)},
      {"random", o.level == Level::quick ? o.random : 0},
      {"tensors", tensors.size()},
      {"sr", "with rounding sr: tensor t takes the Philox-4x32-10 words keyed by seed at counters W_t .. W_t + rows * "
             "ceil(cols / 4) - 1, W_t the words of the tensors before it; element c of row r uses byte c % 4 of word "
             "r * ceil(cols / 4) + c / 4"},
  });
}

}  // namespace lowbit::conformance
