// convert e4m3|e5m2: FP8 codes with f32 scales, in compressed-tensors' layout (one scale per tensor
// or per row, <w>_scale) or DeepSeek-V3's (one per 128x128 block, <w>_scale_inv).
#include <fmt/format.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <nlohmann/json.hpp>

#include "convert_families.hpp"
#include "lowbit/error.hpp"

namespace lowbit::io::model {
namespace {

[[noreturn]] void fail(const std::string& what) { throw Error(what, Errc::data); }

// One scale per `rows` x `cols` block of an [oc, ic] weight; the scales form an [r, c] grid.
struct Grid {
  std::uint64_t rows, cols, r, c;
  std::size_t at(std::uint64_t row, std::uint64_t col) const { return row / rows * c + col / cols; }
};

Grid grid(Fp8Scale kind, std::uint64_t oc, std::uint64_t ic) {
  oc = std::max<std::uint64_t>(oc, 1);
  ic = std::max<std::uint64_t>(ic, 1);
  const std::uint64_t rows = kind == Fp8Scale::tensor ? oc : kind == Fp8Scale::channel ? 1 : kFp8Block;
  const std::uint64_t cols = kind == Fp8Scale::block ? kFp8Block : ic;
  return {rows, cols, (oc + rows - 1) / rows, (ic + cols - 1) / cols};
}

std::uint64_t elements(const std::vector<std::uint64_t>& shape) {
  std::uint64_t n = 1;
  for (std::uint64_t d : shape) n *= d;
  return n;
}

const char* kind_name(Fp8Scale k) { return k == Fp8Scale::tensor ? "tensor" : k == Fp8Scale::channel ? "channel" : "block"; }

class Fp8Target final : public Target {
 public:
  Fp8Target(fp8::Format format, Fp8Scale kind) : kind_(kind) {
    o_.format = format;
    o_.profile = fp8::profile("cuda-satfinite");  // x / scale can round past the max: clamped, as the references do
    const std::uint8_t max_code = traits(format).max_finite();
    fp8::decode(std::span(&max_code, 1), std::span(&max_, 1), o_);
  }

  std::string format() const override { return "fp8-" + std::string(traits(o_.format).name); }

  // compressed-tensors' "ignore" and transformers' "modules_to_not_convert": the linear layers left as they are.
  void prepare(const Model& m, std::span<const TensorInfo* const> selected, const Parallel&) override {
    for (const TensorInfo& t : m.tensors())
      if (t.shape.size() == 2 && t.name.ends_with(".weight") && t.name.find("embed") == std::string::npos &&
          std::find(selected.begin(), selected.end(), &t) == selected.end())
        ignore_.push_back(t.name.substr(0, t.name.size() - 7));
  }

  std::vector<safetensors::Tensor> encode(const Source& w, const Parallel& par) const override {
    const std::uint64_t oc = w.info().shape[0], ic = w.info().shape[1];
    const Grid g = grid(kind_, oc, ic);
    const std::vector<float> x = w.read_all(par);
    // |x| maxima per row and column block, then per block of rows: max is exact in any order.
    std::vector<float> row_amax(oc * g.c, 0.0f);
    detail::each_rows(oc, ic, par, [&](std::uint64_t first, std::uint64_t rows) {
      for (std::uint64_t r = first; r < first + rows; ++r)
        for (std::uint64_t j = 0; j < ic; ++j) {
          const float v = x[r * ic + j];
          if (!std::isfinite(v)) fail(fmt::format("tensor '{}': element [{}, {}] is {}; FP8 scales need finite weights", w.name(), r, j, v));
          float& a = row_amax[r * g.c + j / g.cols];
          a = std::max(a, std::abs(v));
        }
    });
    std::vector<float> scale(g.r * g.c, 0.0f);
    for (std::uint64_t r = 0; r < oc; ++r)
      for (std::uint64_t b = 0; b < g.c; ++b) scale[r / g.rows * g.c + b] = std::max(scale[r / g.rows * g.c + b], row_amax[r * g.c + b]);
    for (float& s : scale) s = std::max(s / max_, FLT_EPSILON);  // compressed-tensors' clamp: an all-zero block gets eps
    std::vector<std::uint8_t> codes(oc * ic);
    detail::each_rows(oc, ic, par, [&](std::uint64_t first, std::uint64_t rows) {
      std::vector<float> q(ic);
      for (std::uint64_t r = first; r < first + rows; ++r) {
        for (std::uint64_t j = 0; j < ic; ++j) q[j] = x[r * ic + j] / scale[g.at(r, j)];
        fp8::encode(q, std::span(codes).subspan(r * ic, ic), o_);
      }
    });
    const std::vector<std::uint64_t> scale_shape = kind_ == Fp8Scale::tensor    ? std::vector<std::uint64_t>{1}
                                                   : kind_ == Fp8Scale::channel ? std::vector<std::uint64_t>{oc, 1}
                                                                                : std::vector<std::uint64_t>{g.r, g.c};
    std::vector<std::uint8_t> scale_bytes(scale.size() * 4);
    std::memcpy(scale_bytes.data(), scale.data(), scale_bytes.size());
    return {{w.name(), o_.format == fp8::Format::e4m3 ? "F8_E4M3" : "F8_E5M2", w.info().shape, std::move(codes)},
            {w.name() + (kind_ == Fp8Scale::block ? "_scale_inv" : "_scale"), "F32", scale_shape, std::move(scale_bytes)}};
  }

  // The loaders read E4M3 only: an E5M2 checkpoint gets lowbit's own quantization_config.
  std::string quantization_config(const std::string&) const override {
    if (o_.format != fp8::Format::e4m3) return detail::lowbit_quantization_config(*this);
    if (kind_ == Fp8Scale::block)  // DeepSeek-V3's config.json, read by transformers' FineGrainedFP8Config
      return nlohmann::ordered_json{{"activation_scheme", "dynamic"},
                                    {"fmt", "e4m3"},
                                    {"quant_method", "fp8"},
                                    {"weight_block_size", {kFp8Block, kFp8Block}},
                                    {"modules_to_not_convert", ignore_}}
          .dump();
    const nlohmann::ordered_json weights{{"num_bits", 8},         {"type", "float"},       {"symmetric", true},
                                         {"strategy", kind_name(kind_)}, {"dynamic", false}, {"group_size", nullptr},
                                         {"block_structure", nullptr},   {"actorder", nullptr}, {"observer", "minmax"}};
    return nlohmann::ordered_json{
        {"quant_method", "compressed-tensors"},
        {"format", "float-quantized"},
        {"quantization_status", "compressed"},
        {"config_groups",
         {{"group_0", {{"targets", {"Linear"}}, {"weights", weights}, {"input_activations", nullptr}, {"output_activations", nullptr}}}}},
        {"ignore", ignore_},
        {"kv_cache_scheme", nullptr}}
        .dump();
  }

  safetensors::Metadata options() const override {
    safetensors::Metadata m{{"scale", kind_name(kind_)}};
    if (kind_ == Fp8Scale::block) m["block"] = std::to_string(kFp8Block);
    return m;
  }

 private:
  fp8::Options o_;
  Fp8Scale kind_;
  float max_ = 0;
  std::vector<std::string> ignore_;
};

}  // namespace

std::unique_ptr<Target> fp8_target(fp8::Format format, Fp8Scale scale) { return std::make_unique<Fp8Target>(format, scale); }

// fp8 value x scale in f32; the scale's kind follows from its name and shape (model_layouts.cpp).
Decoded detail::decode_fp8(std::span<const safetensors::Tensor> tensors, const Parallel& par) {
  const safetensors::Tensor& w = tensors.front();
  if (w.dtype != "F8_E4M3" && w.dtype != "F8_E5M2") fail(fmt::format("tensor '{}' is {}, not F8_E4M3 or F8_E5M2", w.name, w.dtype));
  if (w.shape.size() != 2) fail(fmt::format("tensor '{}' [{}] is not 2-D", w.name, fmt::join(w.shape, ", ")));
  const std::uint64_t oc = w.shape[0], ic = w.shape[1];
  std::vector<float> scale{1.0f};  // a weight without a scale
  Fp8Scale kind = Fp8Scale::tensor;
  if (tensors.size() > 1) {
    const safetensors::Tensor& s = tensors[1];
    if (s.dtype != "F32" && s.dtype != "F16" && s.dtype != "BF16") fail(fmt::format("tensor '{}' is {}, not F32, F16 or BF16", s.name, s.dtype));
    scale.resize(elements(s.shape));
    detail::read_f32(s.dtype, s.bytes.data(), 0, scale);
    kind = scale.size() == 1 ? Fp8Scale::tensor : s.name.ends_with("_scale_inv") ? Fp8Scale::block : Fp8Scale::channel;
    const Grid g = grid(kind, oc, ic);
    if (scale.size() != g.r * g.c || (kind == Fp8Scale::block && s.shape != std::vector{g.r, g.c}))
      fail(fmt::format("tensor '{}' [{}] is not one scale per tensor, row or {}x{} block of '{}' [{}, {}]", s.name,
                       fmt::join(s.shape, ", "), kFp8Block, kFp8Block, w.name, oc, ic));
  }
  const Grid g = grid(kind, oc, ic);
  fp8::Options o;
  o.format = w.dtype == "F8_E4M3" ? fp8::Format::e4m3 : fp8::Format::e5m2;
  std::vector<float> values(oc * ic);
  detail::each_rows(oc, ic, par, [&](std::uint64_t first, std::uint64_t rows) {
    fp8::decode(std::span(w.bytes).subspan(first * ic, rows * ic), std::span(values).subspan(first * ic, rows * ic), o);
    for (std::uint64_t r = first; r < first + rows; ++r)
      for (std::uint64_t j = 0; j < ic; ++j) values[r * ic + j] *= scale[g.at(r, j)];
  });
  return {w.name, w.shape, std::move(values), ""};
}

}  // namespace lowbit::io::model
