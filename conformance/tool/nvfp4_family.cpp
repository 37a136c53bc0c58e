// NVFP4 as TransformerEngine's reference quantizer computes it: encode a matrix into a .safetensors file of
// E2M1 codes (one a byte, or packed two a byte), E4M3FN scales and the tensor's amax, decode it, quantize
// (encode then decode), gen and verify golden tensors, the NVFP4 suite, and its lines of `lowbit list`.
// Roundings rne (the default) and sr; 1-D or 2-D blocks; linear or cuBLAS's swizzled scale layout
// (docs/formats/nvfp4.md).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include "lowbit/conformance/block_suite.hpp"
#include "lowbit/io/safetensors.hpp"
#include "lowbit/conformance/golden_gen.hpp"
#include "lowbit/nvfp4.hpp"
#include "lowbit/reference/nvfp4.hpp"
#include "options.hpp"
#include "stream.hpp"
#include "usage_error.hpp"

namespace lowbit::cli {
namespace {

namespace st = io::safetensors;

constexpr std::string_view kName = "nvfp4", kBlockingKey = "lowbit.nvfp4_blocking", kLayoutKey = "lowbit.nvfp4_scale_layout",
                           kColsKey = "lowbit.nvfp4_cols", kPackedKey = "lowbit.nvfp4_packed", kShapeKey = "lowbit.nvfp4_shape";

struct Flags {
  std::string rounding, blocking, layout, input, output;
  std::uint64_t seed = 0;
  std::size_t cols = 0;
  bool bits_as_float = false, packed = false;
};

// A 2-D .npy input gives the row length unless --cols does.
nvfp4::Options options(const Flags& f, const Values<float>& x) {
  nvfp4::Options o;
  o.cols = f.cols == 0 && x.shape.size() == 2 ? x.shape[1] : f.cols;
  o.rounding = f.rounding.empty() ? Rounding::rne : rounding(f.rounding);
  o.seed = f.seed;
  o.blocking = f.blocking.empty() ? nvfp4::Blocking::d1 : *nvfp4::parse_blocking(f.blocking);
  o.layout = f.layout.empty() ? nvfp4::ScaleLayout::linear : *nvfp4::parse_scale_layout(f.layout);
  o.packed = f.packed;
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
// the layout the metadata names), `global_amax` F32 [1]; the metadata also keeps the row length. Packed
// (--packed): `codes` holds two codes a byte, element 2j in the low nibble (CUDA's fp4x2), shaped as TE's
// uint8 tensor (the last dimension halved) when that dimension is even, else one stream of ceil(n / 2)
// bytes; the metadata adds lowbit.nvfp4_packed = fp4x2 and the input's shape.
int encode(const Flags& f) {
  const Values<float> x = read_values<float>(f.input, kF32, f.bits_as_float);
  const nvfp4::Options o = options(f, x);
  const nvfp4::Shape s = nvfp4::shape(x.values.size(), o);
  const nvfp4::Encoded e = nvfp4::encode(x.values, o);
  const std::vector<std::uint64_t> shape = x.shape.size() == 2 ? x.shape : std::vector<std::uint64_t>{x.values.size()};
  std::vector<std::uint64_t> code_shape = shape;
  if (o.packed) {
    if (shape.back() % 2 == 0) code_shape.back() /= 2;
    else code_shape = {e.codes.size()};
  }
  const std::vector<st::Tensor> tensors{st::make_tensor("codes", "U8", code_shape, e.codes),
                                        st::make_tensor("scales", "U8", {e.scales.size()}, e.scales),
                                        st::make_tensor("global_amax", "F32", {1}, std::vector<float>{e.global_amax})};
  std::map<std::string, std::string> metadata{{std::string(kBlockingKey), std::string(name(o.blocking))},
                                              {std::string(kLayoutKey), std::string(name(o.layout))},
                                              {std::string(kColsKey), std::to_string(s.cols)}};
  if (o.packed) {
    metadata[std::string(kPackedKey)] = "fp4x2";
    metadata[std::string(kShapeKey)] = fmt::format("{}", fmt::join(shape, ","));
  }
  write_file(f.output, st::write(tensors, metadata));
  return kSuccess;
}

// The metadata value `key` of a file of lowbit encode nvfp4.
const std::string& meta(const st::File& file, std::string_view key) {
  const auto it = file.metadata.find(std::string(key));
  if (it == file.metadata.end()) throw UsageError(fmt::format("the file has no {} metadata: not written by lowbit encode nvfp4", key));
  return it->second;
}

// A count of the metadata: decimal digits, at most 18 of them.
std::uint64_t count(std::string_view key, const std::string& text) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
    throw UsageError(fmt::format("bad nvfp4 metadata: {} '{}'", key, text));
  return std::stoull(text);
}

// The input's shape that a packed file keeps ("64,128" or "100").
std::vector<std::uint64_t> packed_shape(const st::File& file) {
  if (meta(file, kPackedKey) != "fp4x2") throw UsageError(fmt::format("bad nvfp4 metadata: {} '{}'", kPackedKey, meta(file, kPackedKey)));
  const std::string& text = meta(file, kShapeKey);
  std::vector<std::uint64_t> shape;
  for (std::size_t at = 0; at <= text.size() && shape.size() < 3;) {
    const std::size_t end = std::min(text.find(',', at), text.size());
    shape.push_back(count(kShapeKey, text.substr(at, end - at)));
    at = end + 1;
  }
  if (shape.size() > 2 || (shape.size() == 2 && shape[0] > (std::uint64_t{1} << 62) / std::max<std::uint64_t>(shape[1], 1)))
    throw UsageError(fmt::format("bad nvfp4 metadata: {} '{}'", kShapeKey, text));
  return shape;
}

int decode(const Flags& f) {
  const st::File file = st::read(read_container(f.input, FileKind::safetensors, "a .safetensors file of lowbit encode nvfp4"));
  nvfp4::Options o;
  const std::optional<nvfp4::ScaleLayout> layout = nvfp4::parse_scale_layout(meta(file, kLayoutKey));
  if (!layout) throw UsageError(fmt::format("bad nvfp4 metadata: scale layout '{}'", meta(file, kLayoutKey)));
  o.layout = *layout;
  o.cols = count(kColsKey, meta(file, kColsKey));
  o.packed = file.metadata.contains(std::string(kPackedKey));
  const st::Tensor& codes_tensor = file.at("codes");
  const std::vector<std::uint8_t> codes = st::values<std::uint8_t>(codes_tensor, "U8");
  const std::vector<std::uint8_t> scales = st::values<std::uint8_t>(file.at("scales"), "U8", 1);
  const std::vector<float> amax = st::values<float>(file.at("global_amax"), "F32", 1);
  if (amax.size() != 1) throw UsageError(fmt::format("global_amax has {} values, not 1", amax.size()));
  const std::vector<std::uint64_t> shape = o.packed ? packed_shape(file) : codes_tensor.shape;
  const std::uint64_t n = shape.size() == 2 ? shape[0] * shape[1] : shape.empty() ? 0 : shape[0];
  if (nvfp4::code_bytes(n, o) != codes.size())  // before the output is allocated: the shape may lie
    throw UsageError(fmt::format("{} elements take {} code bytes, the file has {}", n, nvfp4::code_bytes(n, o), codes.size()));
  std::vector<float> y(n);
  nvfp4::decode(codes, scales, amax[0], std::span(y), o);
  OutputStream out(f.output, &kF32);
  out.write_values<float>(y);
  out.commit(shape);
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
                  c.add_flag("--packed", f.packed, "codes two per byte, element 2j in the low nibble (CUDA's fp4x2); default one per byte");
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
  struct Gen {
    GenFlags common;
    std::string rounding, blocking, layout;
  };
  reg.add(command<Gen>(
      "gen", std::string(kName), {}, "golden NVFP4 tensors: the docs' vectors, ties at every block scale, tails, random",
      [](CLI::App& c, Gen& f) {
        add_choice(c, "--rounding", f.rounding, {"rne", "sr"}, "rounding (sr: Philox keyed by --seed)");
        add_choice(c, "--blocking", f.blocking, {"1d", "2d"}, "1x16 blocks, or 16x16 tiles sharing a scale");
        add_choice(c, "--scale-layout", f.layout, {"linear", "swizzled"}, "scales row-major, or in cuBLAS's 128x4 interleave");
        add_gen_options(c, f.common);
      },
      [](const Gen& f) {
        conformance::Nvfp4GenOptions o;
        static_cast<conformance::GenCommon&>(o) = gen_common(f.common);
        o.rounding = f.rounding.empty() ? Rounding::rne : rounding(f.rounding);
        o.blocking = f.blocking.empty() ? nvfp4::Blocking::d1 : *nvfp4::parse_blocking(f.blocking);
        o.layout = f.layout.empty() ? nvfp4::ScaleLayout::linear : *nvfp4::parse_scale_layout(f.layout);
        return gen_done(conformance::gen_nvfp4(o, f.common.out), "elements in tensors", f.common.out);
      }));
  // verify's reports show codes and scales as their values.
  reg.add(verify_command(std::string(kName), {}, std::string(kName), [](std::string_view array, std::uint64_t bits) -> std::optional<std::string> {
    const auto b = static_cast<std::uint8_t>(bits);
    if (array == "expected_codes") return fmt::format("{}", ref::nvfp4_element_value(b & 0xF));
    if (array == "expected_scales") return fmt::format("{}", ref::nvfp4_scale_value(b));
    return std::nullopt;
  }));
  // The suite runs on every kernel row (--impl) and on a plugin's version-3 NVFP4 slots.
  reg.add(Suite{
      {std::string(kName)}, {}, {"transformer-engine"}, {std::string(kName)},
      [](const SuiteRun& run) {
        return each_implementation<nvfp4::Impl>(
            run, [&](const nvfp4::Impl& impl) { return conformance::run_nvfp4_suite(impl, run.golden, run.block()); });
      },
      [](const conformance::Plugin& p) {
        const lowbit_vendor_descriptor3* d = p.descriptor3();
        return d && (d->nvfp4_encode_f32 || d->nvfp4_decode_f32);
      },
      [](const conformance::Plugin& plugin, const SuiteRun& run) -> std::vector<conformance::Check> {
        const lowbit_vendor_descriptor3* d = plugin.descriptor3();
        if (!d || !d->nvfp4_encode_f32 || !d->nvfp4_decode_f32)
          return {conformance::not_implemented(plugin, {std::string(kName), "all"},
                                               "the NVFP4 suite needs both nvfp4_encode_f32 and nvfp4_decode_f32 (vendor ABI version 3)")};
        return plugin_group(plugin, run, std::string(kName),
                            [&] { return conformance::run_nvfp4_suite(conformance::plugin_nvfp4(plugin), run.golden, run.block()); });
      }});
  reg.add_list([] {
    fmt::print("nvfp4 (encode, decode, quantize, gen, verify, conform): E2M1 elements, an E4M3 scale per 16 of a row, the tensor's\n"
               "  f32 amax (TransformerEngine's reference quantizer); --cols N (row length), --blocking 1d (default) or 2d\n"
               "  (16x16 tiles), --rounding rne (default) or sr, --scale-layout linear (default) or swizzled (cuBLAS),\n"
               "  --packed (encode: two codes a byte, CUDA's fp4x2); conform profile transformer-engine\n");
  });
}

const Registration registration("nvfp4", define);

}  // namespace
}  // namespace lowbit::cli
