// The GSE-INT family (format gse): encode into the self-describing .gse stream, decode, quantize,
// convert (whole checkpoints), gen and verify, the GSE suite, and its lines of `lowbit list`.
#include <fmt/format.h>

#include <memory>

#include "convert_command.hpp"
#include "gse_options.hpp"
#include "lowbit/gse.hpp"
#include "lowbit/io/gse_file.hpp"
#include "options.hpp"
#include "stream.hpp"

namespace lowbit::cli {
namespace {

struct Flags {
  GseFlags format;
  std::string type, rounding, input, output;
  std::uint64_t seed = 0;
  bool bits_as_float = false;
};

gse::Options options(const Flags& f) {
  gse::Options o;
  o.format = gse_format(f.format);
  o.rounding = rounding(f.rounding);
  o.seed = f.seed;
  return o;
}

template <class T> int encode(const Flags& f) {
  const gse::Options o = options(f);
  const std::vector<T> x = read_values<T>(f.input, element(f.type), f.bits_as_float).values;
  OutputStream out(f.output);  // a .gse stream: no .npy output
  io::GseFile file{o.format, o.rounding, o.seed, std::vector<std::int8_t>(x.size()),
                   std::vector<std::uint8_t>(o.format.groups(x.size()))};
  gse::encode(std::span<const T>(x), file.codes, file.exps, o);
  out.write(io::write_gse(file));
  out.commit();
  return kSuccess;
}

template <class T> int decode(const Flags& f) {
  const io::GseFile file = io::read_gse(read_container(f.input, FileKind::gse, "a .gse stream"));
  gse::Options o;
  o.format = file.format;
  std::vector<T> y(file.codes.size());
  gse::decode(file.codes, file.exps, std::span(y), o);
  OutputStream out(f.output, &element(f.type));
  out.write_values<T>(y);
  out.commit();
  return kSuccess;
}

template <class T> int quantize(const Flags& f) {
  gse::Options o = options(f);
  InputStream in(f.input, element(f.type), f.bits_as_float);
  OutputStream out(f.output, &element(f.type));
  // Whole groups per chunk, so that chunking never changes a group.
  map_stream<T, T>(in, out, static_cast<std::size_t>(o.format.group) * 32768, [o](auto x, auto y, std::uint64_t index) mutable {
    o.index0 = index;
    gse::quantize(x, y, o);
  });
  return kSuccess;
}

template <class Add, class Run> Command codec(std::string verb, std::string help, Add add, Run run) {
  return command<Flags>(std::move(verb), "gse", {}, std::move(help), add,
                        [=](const Flags& f) { return with_type16(f.type, [&](auto t) { return run(t, f); }); });
}

const std::vector<std::string> kTypes{"f32", "f16", "bf16"};

void add_encode_options(CLI::App& c, Flags& f, const char* type_flag) {
  add_choice(c, type_flag, f.type, kTypes, "element type of the input: raw little-endian, or a .npy array");
  add_gse_options(c, f.format);
  add_rounding(c, f.rounding, f.seed, kRoundingNames);
  add_bits_as_float(c, f.bits_as_float);
}

void define(Registry& reg) {
  reg.add(codec(
      "encode", "f32, f16 or bf16 values -> a .gse stream (its header records every parameter)",
      [](CLI::App& c, Flags& f) {
        add_encode_options(c, f, "--from");
        add_io(c, f.input, f.output, "values", "the .gse stream");
      },
      [](auto t, const Flags& f) { return encode<decltype(t)>(f); }));
  reg.add(codec(
      "decode", "a .gse stream -> f32, f16 or bf16 values",
      [](CLI::App& c, Flags& f) {
        add_choice(c, "--to", f.type, kTypes, "element type of the output");
        add_io(c, f.input, f.output, "the .gse stream", "values");
      },
      [](auto t, const Flags& f) { return decode<decltype(t)>(f); }));
  reg.add(codec(
      "quantize", "values -> values on a GSE format's grid (encode then decode), in the same type",
      [](CLI::App& c, Flags& f) {
        add_encode_options(c, f, "--type");
        add_io(c, f.input, f.output, "values", "values");
      },
      [](auto t, const Flags& f) { return quantize<decltype(t)>(f); }));
  struct Convert {
    ConvertFlags common;
    GseFlags format;
    std::string rounding;
    std::uint64_t seed = 0;
  };
  reg.add(command<Convert>(
      "convert", "gse", {}, "a checkpoint -> GSE-INT codes with their shared exponents (lowbit's layout, docs/formats/gse.md)",
      [](CLI::App& c, Convert& f) {
        add_gse_options(c, f.format);
        add_rounding(c, f.rounding, f.seed, kRoundingNames);
        add_convert_flags(c, f.common);
      },
      [](const Convert& f) { return run_convert(f.common, *io::model::gse_target(gse_format(f.format), rounding(f.rounding), f.seed)); }));
  struct Gen {
    GenFlags common;
    GseFlags format;
    std::string rounding;
  };
  reg.add(command<Gen>(
      "gen", "gse", {}, "golden GSE vectors: groups of every exponent, ties, mantissa overflow, specials, a tail",
      [](CLI::App& c, Gen& f) {
        add_gse_options(c, f.format);
        add_choice(c, "--rounding", f.rounding, kRoundingNames, "rounding (sr: Philox keyed by --seed)");
        add_gen_options(c, f.common);
      },
      [](const Gen& f) {
        conformance::GseGenOptions o;
        static_cast<conformance::GenCommon&>(o) = gen_common(f.common);
        o.format = gse_format(f.format);
        o.rounding = rounding(f.rounding);
        return gen_done(conformance::gen_gse(o, f.common.out), "gse elements", f.common.out);
      }));
  reg.add(verify_command("gse", {}, "gse"));
  reg.add(Suite{
      {"gse"}, {}, {}, {"gse"},
      [](const SuiteRun& run) {
        return each_implementation<gse::Impl>(run, [&](const gse::Impl& impl) { return conformance::run_gse_suite(impl, run.block()); });
      },
      [](const conformance::Plugin& p) {
        const lowbit_vendor_descriptor& d = p.descriptor();
        return d.gse_encode_f32 || d.gse_encode_f16 || d.gse_encode_bf16 || d.gse_decode_f32 || d.gse_decode_f16 ||
               d.gse_decode_bf16;
      },
      [](const conformance::Plugin& plugin, const SuiteRun& run) {
        return plugin_group(plugin, run, "gse", [&] {
          const gse::Impl row = conformance::plugin_gse(plugin);
          return conformance::exercised(row, conformance::run_gse_suite(row, run.block()));
        });
      }});
  reg.add_list([] {
    const gse::Format g;
    fmt::print("gse (encode, decode, quantize, convert, gen, verify, conform; gse-gemm: gemm, gen, verify, conform):\n"
               "  groups of --group N (16..256, default 32) sharing a --exp-bits 5|8 exponent, --bits b (4..8, default 8)\n"
               "  two's-complement mantissas; bits per value (N*b + e)/N, {:.3f} by default; --rounding rne (default), rna,\n"
               "  rtz, sr; encode --from / decode --to / quantize --type f32, f16, bf16; MXINT8 is a GSE format\n",
               g.bits_per_value());
  });
}

const Registration registration("gse", define);

}  // namespace
}  // namespace lowbit::cli
