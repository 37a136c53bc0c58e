// The NF4 family: NF4 and bitsandbytes' FP4 (not OCP E2M1, which is mxfp4-e2m1), with QLoRA's double
// quantization. encode writes bitsandbytes' Linear4bit tensors in .safetensors (quant_state shape: the
// input's, e.g. [OC, IC] for a Linear4bit weight), decode reads them; quantize, gen, verify, the NF4
// suite, and its lines of `lowbit list`.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <memory>
#include <numeric>

#include "lowbit/io/bnb_checkpoint.hpp"
#include "lowbit/conformance/nf4_suite.hpp"
#include "lowbit/nf4.hpp"
#include "convert_command.hpp"
#include "options.hpp"
#include "stream.hpp"

namespace lowbit::cli {
namespace {

namespace bnb = io::bnb;

struct Flags {
  std::string profile, input, output, dq_map;
  int block = nf4::kDefaultBlock;
  bool double_quant = false, bits_as_float = false;
  std::optional<float> dq_offset;  // default: torch's fp32 mean of the absmax values
  std::vector<std::uint64_t> shape;
};

std::vector<std::string> profile_names() {
  return names_of(nf4::kProfiles, [](const nf4::Profile& p) { return std::string(p.name); });
}

nf4::Options options(nf4::Table table, const Flags& f) {
  nf4::Options o;
  o.table = table;
  o.profile = nf4::profile(f.profile);
  o.block = f.block;
  return o;
}

// The shape the quant_state records: --shape, else a .npy input's, else [n].
std::vector<std::uint64_t> shape_of(const Flags& f, const Values<float>& x) {
  const std::vector<std::uint64_t> shape = !f.shape.empty()   ? f.shape
                                           : !x.shape.empty() ? x.shape
                                                              : std::vector<std::uint64_t>{x.values.size()};
  const std::uint64_t n = std::accumulate(shape.begin(), shape.end(), std::uint64_t{1}, std::multiplies<>());
  if (n != x.values.size())
    throw UsageError(fmt::format("--shape {} holds {} elements, the input {}", fmt::join(shape, ","), n, x.values.size()));
  if (!f.shape.empty() && !x.shape.empty() && x.shape != f.shape)
    throw UsageError(fmt::format("--shape {} differs from the .npy input's shape {}", fmt::join(f.shape, ","), fmt::join(x.shape, ",")));
  return shape;
}

bnb::Bnb4bitState encode_state(nf4::Table table, const Flags& f, const Values<float>& x) {
  if (!f.double_quant && (f.dq_offset || !f.dq_map.empty())) throw UsageError("--dq-offset and --dq-map need --double-quant");
  const nf4::Options o = options(table, f);
  bnb::Bnb4bitState s;
  s.quant_type = std::string(name(table));
  s.blocksize = static_cast<std::uint64_t>(f.block);
  s.shape = shape_of(f, x);
  const nf4::Encoded e = nf4::encode(x.values, o);
  s.packed = e.packed;
  for (unsigned c = 0; c < 16; ++c) s.quant_map.push_back(table_value(table, c));
  if (!f.double_quant) {
    s.absmax = e.absmax;
    return s;
  }
  nf4::DoubleQuantOptions dq_options;
  dq_options.offset = f.dq_offset;
  if (!f.dq_map.empty()) {
    const std::vector<float> given = read_values<float>(f.dq_map, kF32).values;
    if (given.size() != 256) throw UsageError(fmt::format("--dq-map holds {} floats, expected 256", given.size()));
    dq_options.map.emplace();
    std::copy(given.begin(), given.end(), dq_options.map->begin());
  }
  const nf4::DoubleQuantized dq = nf4::double_quantize(e.absmax, o, dq_options);
  s.nested = bnb::Bnb4bitNested{dq.codes, dq.nested_absmax, {dq.map.begin(), dq.map.end()},
                                static_cast<std::uint64_t>(dq.nested_block), "float32", dq.offset};
  return s;
}

std::vector<float> decode_state(nf4::Table table, const bnb::Bnb4bitState& s) {
  if (s.quant_type != name(table)) throw UsageError(fmt::format("the file holds {} weights, not {}", s.quant_type, name(table)));
  nf4::Options o;
  o.table = table;
  o.block = static_cast<int>(s.blocksize);
  for (unsigned c = 0; c < 16; ++c)
    if (std::bit_cast<std::uint32_t>(s.quant_map[c]) != std::bit_cast<std::uint32_t>(table_value(table, c)))
      throw UsageError(fmt::format("quant_map entry {} is not bitsandbytes' {} table: unsupported", c, s.quant_type));
  std::vector<float> absmax = s.absmax;
  if (s.nested) {
    nf4::DoubleQuantized dq{s.nested->offset, s.nested->codes, s.nested->nested_absmax, {},
                            static_cast<int>(std::min<std::uint64_t>(s.nested->nested_blocksize, INT_MAX))};
    std::copy(s.nested->nested_map.begin(), s.nested->nested_map.end(), dq.map.begin());  // the stored map
    absmax = nf4::double_dequantize(dq);
  }
  return nf4::decode(s.packed, absmax, s.elements(), o);
}

int encode(nf4::Table table, const Flags& f) {
  const Values<float> x = read_values<float>(f.input, kF32, f.bits_as_float);
  const bnb::Bnb4bitState s = encode_state(table, f, x);
  OutputStream out(f.output);  // a .safetensors file: no .npy output
  out.write(io::safetensors::write(bnb::to_tensors(s)));
  out.commit();
  return kSuccess;
}

int decode(nf4::Table table, const Flags& f) {
  const std::vector<std::uint8_t> bytes =
      read_container(f.input, FileKind::safetensors, "a .safetensors file of bitsandbytes Linear4bit tensors");
  const bnb::Bnb4bitState s = bnb::from_tensors(io::safetensors::read(bytes).tensors);
  const std::vector<float> y = decode_state(table, s);
  OutputStream out(f.output, &kF32);
  out.write_values<float>(y);
  out.commit(s.shape);  // a .npy output has the weight's shape
  return kSuccess;
}

int quantize(nf4::Table table, const Flags& f) {
  const Values<float> x = read_values<float>(f.input, kF32, f.bits_as_float);
  const std::vector<float> y = decode_state(table, encode_state(table, f, x));
  OutputStream out(f.output, &kF32);
  out.write_values<float>(y);
  out.commit(x.shape);
  return kSuccess;
}

// --profile, --block and --double-quant: what encode, convert and gen share.
void add_block_options(CLI::App& c, std::string& profile, int& block, bool& double_quant, const std::string& profile_help) {
  add_choice(c, "--profile", profile, profile_names(), profile_help);
  c.add_option("--block", block, "elements per absmax block: a power of two in 32..4096 (default 64)");
  c.add_flag("--double-quant", double_quant, "quantize the absmax values too (QLoRA)");
}

void add_encode_options(CLI::App& c, Flags& f) {
  add_block_options(c, f.profile, f.block, f.double_quant, "peer semantics (lowbit list)");
  c.add_option("--dq-offset", f.dq_offset, "with --double-quant: the offset (default: torch's fp32 mean of absmax)");
  c.add_option("--dq-map", f.dq_map, "with --double-quant: the 256-entry nested map, f32 raw or .npy (default: bitsandbytes')");
  add_bits_as_float(c, f.bits_as_float);
}

template <class Add, class Run> Command codec(std::string verb, nf4::Table table, std::string help, Add add, Run run) {
  return command<Flags>(std::move(verb), std::string(name(table)), {}, std::move(help), add,
                        [=](const Flags& f) { return run(table, f); });
}

void register_table(Registry& reg, nf4::Table table) {
  const std::string n(name(table));
  reg.add(codec("encode", table, fmt::format("f32 values -> bitsandbytes Linear4bit {} tensors (.safetensors)", n),
                [](CLI::App& c, Flags& f) {
                  add_encode_options(c, f);
                  c.add_option("--shape", f.shape, "the weight's shape for the quant_state, e.g. OC,IC (default: a .npy input's, "
                                                   "else [n])")
                      ->delimiter(',');
                  add_io(c, f.input, f.output, "f32 values: raw or a .npy", "the .safetensors file");
                },
                encode));
  reg.add(codec("decode", table, fmt::format("bitsandbytes Linear4bit {} tensors (.safetensors) -> f32 values", n),
                [](CLI::App& c, Flags& f) {
                  add_io(c, f.input, f.output, "the .safetensors file", "f32 values (a .npy output has the weight's shape)");
                },
                decode));
  reg.add(codec("quantize", table, fmt::format("f32 values -> their {} values (encode then decode)", n),
                [](CLI::App& c, Flags& f) {
                  add_encode_options(c, f);
                  add_io(c, f.input, f.output, "f32 values", "f32 values");
                },
                quantize));
  // The options convert and gen add to their common ones.
  struct Block {
    std::string profile;
    int block = nf4::kDefaultBlock;
    bool double_quant = false;
  };
  struct Convert : Block {
    ConvertFlags common;
  };
  reg.add(command<Convert>(
      "convert", n, {}, fmt::format("a checkpoint -> bitsandbytes Linear4bit {} tensors, as transformers saves them", n),
      [](CLI::App& c, Convert& f) {
        add_block_options(c, f.profile, f.block, f.double_quant, "peer semantics (lowbit list)");
        add_convert_flags(c, f.common);
      },
      [table](const Convert& f) {
        nf4::Options o;
        o.table = table;
        o.profile = nf4::profile(f.profile);
        o.block = f.block;
        const auto target = io::model::bnb_target(o, f.double_quant ? std::optional(nf4::DoubleQuantOptions{}) : std::nullopt);
        return run_convert(f.common, *target);
      }));
  struct Gen : Block {
    GenFlags common;
  };
  reg.add(command<Gen>(
      "gen", n, {}, fmt::format("golden {} vectors: exact, tie and near-tie blocks at every scale, specials, a tail", n),
      [](CLI::App& c, Gen& f) {
        add_block_options(c, f.profile, f.block, f.double_quant, "peer semantics of the expected outputs");
        add_gen_options(c, f.common);
      },
      [table](const Gen& f) {
        if (!nf4::valid_block(f.block)) throw UsageError(fmt::format("bad --block {}: a power of two in 32..4096", f.block));
        conformance::Nf4GenOptions o;
        static_cast<conformance::GenCommon&>(o) = gen_common(f.common);
        o.table = table;
        o.profile = f.profile;
        o.block = f.block;
        o.double_quant = f.double_quant;
        return gen_done(conformance::gen_nf4(o, f.common.out), fmt::format("{} elements", name(table)), f.common.out);
      }));
  reg.add(verify_command(n, {}, n, [](std::string_view array, std::uint64_t bits) -> std::optional<std::string> {
    if (array == "offset_inputs") return std::to_string(bits);  // the number of absmax values, not a float
    return std::nullopt;
  }));
}

void define(Registry& reg) {
  for (nf4::Table t : {nf4::Table::nf4, nf4::Table::fp4}) register_table(reg, t);
  reg.add(Suite{
      {"nf4"}, {{"fp4", "nf4"}}, profile_names(), {"nf4"},
      [](const SuiteRun& run) {
        return each_implementation<nf4::Impl>(
            run, [&](const nf4::Impl& impl) { return conformance::run_nf4_suite(impl, run.golden, run.block()); });
      },
      [](const conformance::Plugin& p) { return p.descriptor().nf4_quantize_f32 || p.descriptor().nf4_dequantize_f32; },
      [](const conformance::Plugin& plugin, const SuiteRun& run) -> std::vector<conformance::Check> {
        const lowbit_vendor_descriptor& d = plugin.descriptor();
        if (!d.nf4_quantize_f32 || !d.nf4_dequantize_f32)
          return {conformance::not_implemented(plugin, {"nf4", "all"},
                                                "the NF4 suite needs both nf4_quantize_f32 and nf4_dequantize_f32")};
        return plugin_group(plugin, run, "nf4",
                            [&] { return conformance::run_nf4_suite(conformance::plugin_nf4(plugin), run.golden, run.block()); });
      }});
  reg.add_list([] {
    fmt::print("nf4, fp4 (encode, decode, quantize, convert, gen, verify, conform): bitsandbytes' blockwise 4-bit formats, blocks of\n"
               "  --block 32..4096 (default 64), fp32 absmax, optional --double-quant; encode writes Linear4bit .safetensors;\n"
               "  fp4 is bitsandbytes' FP4 table, not OCP E2M1 (that is mxfp4-e2m1); --profile:");
    for (const nf4::Profile& p : nf4::kProfiles) fmt::print(" {}{}", p.name, &p == &nf4::default_profile() ? " *" : "");
    fmt::print("\n");
  });
}

const Registration registration("nf4", define);

}  // namespace
}  // namespace lowbit::cli
