// The OCP MX family (mxint8, mxfp8-e4m3, mxfp8-e5m2, mxfp6-e3m2, mxfp6-e2m3, mxfp4-e2m1), as
// microxcaling computes it: encode into a .safetensors file of codes and E8M0 scales, decode, quantize,
// convert (whole checkpoints, also into gpt-oss's MXFP4 layout), gen and verify per format, the MX suite
// (all six formats), and its lines of `lowbit list`. Roundings: microxcaling's nearest (the default: ties away), even, floor, sr, and
// lowbit's names for them.
#include <fmt/format.h>

#include <cmath>
#include <memory>

#include "lowbit/conformance/block_suite.hpp"
#include "lowbit/io/safetensors.hpp"
#include "convert_command.hpp"
#include "lowbit/mx.hpp"
#include "options.hpp"
#include "stream.hpp"

namespace lowbit::cli {
namespace {

namespace st = io::safetensors;

// microxcaling's words first (nearest is MX's default), then lowbit's.
const std::vector<std::string> kMxRoundings{"nearest", "even", "floor", "sr", "rna", "rne", "rtz"};
constexpr std::string_view kFormatKey = "lowbit.mx_format";

struct Flags {
  std::string rounding, input, output;
  std::uint64_t seed = 0;
  bool bits_as_float = false;
};

mx::Options options(mx::Format format, const Flags& f) {
  mx::Options o;
  o.format = format;
  o.rounding = f.rounding.empty() ? Rounding::rna : rounding(f.rounding);
  o.seed = f.seed;
  return o;
}

// A .safetensors file: `codes` U8 [n] (one code a byte, as lowbit stores them), `scales` U8 [blocks]
// (E8M0), metadata lowbit.mx_format.
int encode(mx::Format format, const Flags& f) {
  const Values<float> x = read_values<float>(f.input, kF32, f.bits_as_float);
  const mx::Encoded e = mx::encode(x.values, options(format, f));
  const std::vector<st::Tensor> tensors{st::make_tensor("codes", "U8", {e.codes.size()}, e.codes),
                                        st::make_tensor("scales", "U8", {e.scales.size()}, e.scales)};
  write_file(f.output, st::write(tensors, {{std::string(kFormatKey), std::string(traits(format).name)}}));
  return kSuccess;
}

int decode(mx::Format format, const Flags& f) {
  const st::File file = st::read(read_container(f.input, FileKind::safetensors, "a .safetensors file of lowbit encode (MX)"));
  const auto it = file.metadata.find(std::string(kFormatKey));
  if (it == file.metadata.end()) throw UsageError("the file has no lowbit.mx_format metadata: not written by lowbit encode (MX)");
  if (it->second != traits(format).name)
    throw UsageError(fmt::format("the file holds {} codes, not {}", it->second, traits(format).name));
  const std::vector<std::uint8_t> codes = st::values<std::uint8_t>(file.at("codes"), "U8", 1);
  const std::vector<std::uint8_t> scales = st::values<std::uint8_t>(file.at("scales"), "U8", 1);
  if (scales.size() != mx::blocks(codes.size()))
    throw UsageError(fmt::format("{} codes need {} scales, the file has {}", codes.size(), mx::blocks(codes.size()), scales.size()));
  const std::vector<float> y = mx::decode(codes, scales, options(format, f));
  OutputStream out(f.output, &kF32);
  out.write_values<float>(y);
  out.commit();
  return kSuccess;
}

int quantize(mx::Format format, const Flags& f) {
  InputStream in(f.input, kF32, f.bits_as_float);
  OutputStream out(f.output, &kF32);
  map_stream<float, float>(in, out, mx::kBlock * 32768, [o = options(format, f)](auto x, auto y, std::uint64_t index) mutable {
    o.index0 = index;  // whole blocks per chunk
    mx::quantize(x, y, o);
  });
  return kSuccess;
}

template <class Add, class Run> Command codec(std::string verb, mx::Format format, std::string help, Add add, Run run) {
  return command<Flags>(std::move(verb), std::string(traits(format).name), {}, std::move(help), add,
                        [=](const Flags& f) { return run(format, f); });
}

void add_encode_options(CLI::App& c, Flags& f) {
  add_rounding(c, f.rounding, f.seed, kMxRoundings);
  add_bits_as_float(c, f.bits_as_float);
}

// E8M0 scales and the element conversions' codes (at the scale 2^0), for verify's reports.
conformance::ValueReader value_reader(mx::Format format) {
  return [format](std::string_view array, std::uint64_t bits) -> std::optional<std::string> {
    const std::uint8_t b = static_cast<std::uint8_t>(bits), unit = 127;  // the scale 2^0
    if (array == "expected_scales") return b == mx::kE8m0Nan ? "nan" : fmt::format("2^{}", int{b} - 127);
    if (array != "elem_expected" && array != "elem_decode_inputs") return std::nullopt;
    mx::Options o;
    o.format = format;
    return fmt::format("{}", mx::decode(std::span(&b, 1), std::span(&unit, 1), o)[0]);
  };
}

void register_format(Registry& reg, mx::Format format) {
  const std::string name(traits(format).name);
  reg.add(codec("encode", format, fmt::format("f32 values -> {} codes and E8M0 scales (.safetensors)", name),
                [](CLI::App& c, Flags& f) {
                  add_encode_options(c, f);
                  add_io(c, f.input, f.output, "f32 values: raw or a .npy", "the .safetensors file");
                },
                encode));
  reg.add(codec("decode", format, fmt::format("{} codes and scales (.safetensors of lowbit encode) -> f32 values", name),
                [](CLI::App& c, Flags& f) { add_io(c, f.input, f.output, "the .safetensors file", "f32 values"); }, decode));
  reg.add(codec("quantize", format, fmt::format("f32 values -> the {} values of their blocks (encode then decode)", name),
                [](CLI::App& c, Flags& f) {
                  add_encode_options(c, f);
                  add_io(c, f.input, f.output, "f32 values", "f32 values");
                },
                quantize));
  struct Gen {
    GenFlags common;
    std::string rounding;
  };
  reg.add(command<Gen>(
      "gen", name, {}, fmt::format("golden {} vectors: element conversions and blocks at every scale", name),
      [](CLI::App& c, Gen& f) {
        add_choice(c, "--rounding", f.rounding, kMxRoundings, "rounding (sr: Philox keyed by --seed)");
        add_gen_options(c, f.common);
      },
      [format](const Gen& f) {
        conformance::MxGenOptions o;
        static_cast<conformance::GenCommon&>(o) = gen_common(f.common);
        o.format = format;
        o.rounding = rounding(f.rounding);
        return gen_done(conformance::gen_mx(o, f.common.out), "block elements + element cases", f.common.out);
      }));
  struct Convert {
    ConvertFlags common;
    Flags codec;
  };
  reg.add(command<Convert>(
      "convert", name, {}, fmt::format("a checkpoint -> {} codes with their E8M0 scales (lowbit's layout, docs/formats/mx.md)", name),
      [](CLI::App& c, Convert& f) {
        add_rounding(c, f.codec.rounding, f.codec.seed, kMxRoundings);
        add_convert_flags(c, f.common);
      },
      [format](const Convert& f) {
        const mx::Options o = options(format, f.codec);
        return run_convert(f.common, *io::model::mx_target(format, o.rounding, o.seed));
      }));
  reg.add(verify_command(name, {}, name, value_reader(format)));
}

std::vector<std::pair<std::string, std::string>> aliases() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const mx::Traits& t : mx::kFormats) out.emplace_back(t.name, "mx");
  return out;
}

void define(Registry& reg) {
  for (const mx::Traits& t : mx::kFormats) register_format(reg, t.format);
  struct Convert {
    ConvertFlags common;
    Flags codec;
  };
  reg.add(command<Convert>(
      "convert", "mxfp4-gptoss", {}, "a checkpoint -> gpt-oss's MXFP4 (<w>.blocks, <w>.scales; docs/checkpoints.md)",
      [](CLI::App& c, Convert& f) {
        add_rounding(c, f.codec.rounding, f.codec.seed, kMxRoundings);
        add_convert_flags(c, f.common);
      },
      [](const Convert& f) {
        const mx::Options o = options(mx::Format::fp4_e2m1, f.codec);
        return run_convert(f.common, *io::model::gptoss_target(o.rounding, o.seed));
      }));
  // One suite checks all six formats ("mx", or any format's name), on every MX row of the kernel list.
  reg.add(Suite{
      {"mx"}, aliases(), {"microxcaling"}, {"mx"},
      [](const SuiteRun& run) {
        return each_implementation<mx::Impl>(
            run, [&](const mx::Impl& impl) { return conformance::run_mx_suite(impl, run.golden, run.block()); });
      },
      [](const conformance::Plugin& p) { return p.descriptor().mx_encode_f32 || p.descriptor().mx_decode_f32; },
      [](const conformance::Plugin& plugin, const SuiteRun& run) -> std::vector<conformance::Check> {
        const lowbit_vendor_descriptor& d = plugin.descriptor();
        if (!d.mx_encode_f32 || !d.mx_decode_f32)
          return {conformance::not_implemented(plugin, {"mx", "all"}, "the MX suite needs both mx_encode_f32 and mx_decode_f32")};
        return plugin_group(plugin, run, "mx",
                            [&] { return conformance::run_mx_suite(conformance::plugin_mx(plugin), run.golden, run.block()); });
      }});
  reg.add_list([] {
    fmt::print("mx (encode, decode, quantize, convert, gen, verify, conform): blocks of 32 sharing an E8M0 scale:");
    for (const mx::Traits& t : mx::kFormats) fmt::print(" {}", t.name);
    fmt::print("\n  --rounding nearest (default, ties away), even, floor, sr (also rna, rne, rtz); encode writes a\n"
               "  .safetensors file of codes and scales; convert mxfp4-gptoss writes gpt-oss's <w>.blocks + <w>.scales\n");
  });
}

const Registration registration("mx", define);

}  // namespace
}  // namespace lowbit::cli
