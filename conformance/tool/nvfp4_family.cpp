// NVFP4 as TransformerEngine's reference quantizer computes it: encode a matrix into a .safetensors
// file of E2M1 codes, E4M3FN scales and the tensor's amax, decode it, quantize (encode then decode),
// and its lines of `lowbit list`. Roundings rne (the default) and sr; 1-D or 2-D blocks; linear or
// cuBLAS's swizzled scale layout (docs/formats/nvfp4.md).
#include <fmt/format.h>

#include <optional>
#include <string>

#include "lowbit/io/safetensors.hpp"
#include "lowbit/nvfp4.hpp"
#include "options.hpp"
#include "stream.hpp"
#include "usage_error.hpp"

namespace lowbit::cli {
namespace {

namespace st = io::safetensors;

constexpr std::string_view kName = "nvfp4", kBlockingKey = "lowbit.nvfp4_blocking", kLayoutKey = "lowbit.nvfp4_scale_layout",
                           kColsKey = "lowbit.nvfp4_cols";

struct Flags {
  std::string rounding, blocking, layout, input, output;
  std::uint64_t seed = 0;
  std::size_t cols = 0;
  bool bits_as_float = false;
};

// A 2-D .npy input gives the row length unless --cols does.
nvfp4::Options options(const Flags& f, const Values<float>& x) {
  nvfp4::Options o;
  o.cols = f.cols == 0 && x.shape.size() == 2 ? x.shape[1] : f.cols;
  o.rounding = f.rounding.empty() ? Rounding::rne : rounding(f.rounding);
  o.seed = f.seed;
  o.blocking = f.blocking.empty() ? nvfp4::Blocking::d1 : *nvfp4::parse_blocking(f.blocking);
  o.layout = f.layout.empty() ? nvfp4::ScaleLayout::linear : *nvfp4::parse_scale_layout(f.layout);
  return o;
}

void add_encode_options(CLI::App& c, Flags& f) {
  c.add_option("--cols", f.cols, "the row length of the row-major matrix (default: a 2-D .npy's, else one row)");
  add_choice(c, "--scale-layout", f.layout, {"linear", "swizzled"}, "scales row-major, or in cuBLAS's 128x4 interleave");
  add_rounding(c, f.rounding, f.seed, {"rne", "sr"});
  add_choice(c, "--blocking", f.blocking, {"1d", "2d"}, "1x16 blocks, or 16x16 tiles sharing a scale");
  add_bits_as_float(c, f.bits_as_float);
}

// A .safetensors file: `codes` U8 in the input's shape (one E2M1 code a byte), `scales` U8 (E4M3FN, in
// the layout the metadata names), `global_amax` F32 [1]; the metadata also keeps the row length.
int encode(const Flags& f) {
  const Values<float> x = read_values<float>(f.input, kF32, f.bits_as_float);
  const nvfp4::Options o = options(f, x);
  const nvfp4::Shape s = nvfp4::shape(x.values.size(), o);
  const nvfp4::Encoded e = nvfp4::encode(x.values, o);
  const std::vector<std::uint64_t> shape = x.shape.size() == 2 ? x.shape : std::vector<std::uint64_t>{x.values.size()};
  const std::vector<st::Tensor> tensors{st::make_tensor("codes", "U8", shape, e.codes),
                                        st::make_tensor("scales", "U8", {e.scales.size()}, e.scales),
                                        st::make_tensor("global_amax", "F32", {1}, std::vector<float>{e.global_amax})};
  write_file(f.output, st::write(tensors, {{std::string(kBlockingKey), std::string(name(o.blocking))},
                                           {std::string(kLayoutKey), std::string(name(o.layout))},
                                           {std::string(kColsKey), std::to_string(s.cols)}}));
  return kSuccess;
}

// The metadata value `key` of a file of lowbit encode nvfp4.
const std::string& meta(const st::File& file, std::string_view key) {
  const auto it = file.metadata.find(std::string(key));
  if (it == file.metadata.end()) throw UsageError(fmt::format("the file has no {} metadata: not written by lowbit encode nvfp4", key));
  return it->second;
}

int decode(const Flags& f) {
  const st::File file = st::read(read_container(f.input, FileKind::safetensors, "a .safetensors file of lowbit encode nvfp4"));
  nvfp4::Options o;
  const std::optional<nvfp4::ScaleLayout> layout = nvfp4::parse_scale_layout(meta(file, kLayoutKey));
  const std::string& cols = meta(file, kColsKey);
  if (!layout || cols.empty() || cols.size() > 18 || cols.find_first_not_of("0123456789") != std::string::npos)
    throw UsageError(fmt::format("bad nvfp4 metadata: scale layout '{}', cols '{}'", meta(file, kLayoutKey), cols));
  o.layout = *layout;
  o.cols = std::stoull(cols);
  const st::Tensor& codes_tensor = file.at("codes");
  const std::vector<std::uint8_t> codes = st::values<std::uint8_t>(codes_tensor, "U8");
  const std::vector<std::uint8_t> scales = st::values<std::uint8_t>(file.at("scales"), "U8", 1);
  const std::vector<float> amax = st::values<float>(file.at("global_amax"), "F32", 1);
  if (amax.size() != 1) throw UsageError(fmt::format("global_amax has {} values, not 1", amax.size()));
  std::vector<float> y(codes.size());
  nvfp4::decode(codes, scales, amax[0], std::span(y), o);
  OutputStream out(f.output, &kF32);
  out.write_values<float>(y);
  out.commit(codes_tensor.shape);
  return kSuccess;
}

int quantize(const Flags& f) {
  const Values<float> x = read_values<float>(f.input, kF32, f.bits_as_float);
  const std::vector<float> y = nvfp4::quantize(x.values, options(f, x));  // whole: the amax spans the tensor
  OutputStream out(f.output, &kF32);
  out.write_values<float>(y);
  out.commit(x.shape);
  return kSuccess;
}

template <class Add, class Run> Command codec(std::string verb, std::string help, Add add, Run run) {
  return command<Flags>(std::move(verb), std::string(kName), {}, std::move(help), add, run);
}

void define(Registry& reg) {
  reg.add(codec("encode", "f32 values -> NVFP4 E2M1 codes, E4M3 scales and the amax (.safetensors)",
                [](CLI::App& c, Flags& f) {
                  add_encode_options(c, f);
                  add_io(c, f.input, f.output, "f32 values: raw or a .npy", "the .safetensors file");
                },
                encode));
  reg.add(codec("decode", "NVFP4 codes, scales and amax (.safetensors of lowbit encode) -> f32 values",
                [](CLI::App& c, Flags& f) { add_io(c, f.input, f.output, "the .safetensors file", "f32 values"); }, decode));
  reg.add(codec("quantize", "f32 values -> their NVFP4 values (encode then decode)",
                [](CLI::App& c, Flags& f) {
                  add_encode_options(c, f);
                  add_io(c, f.input, f.output, "f32 values", "f32 values");
                },
                quantize));
  reg.add_list([] {
    fmt::print("nvfp4 (encode, decode, quantize): E2M1 elements, an E4M3 scale per 16 of a row, the tensor's f32 amax\n"
               "  (TransformerEngine's reference quantizer); --cols N (row length), --blocking 1d (default) or 2d\n"
               "  (16x16 tiles), --rounding rne (default) or sr, --scale-layout linear (default) or swizzled (cuBLAS)\n");
  });
}

const Registration registration("nvfp4", define);

}  // namespace
}  // namespace lowbit::cli
