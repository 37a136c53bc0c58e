// The weak-column family: QEFT and OWQ. encode quantizes an f32 weight and packs it into the repos'
// QuantLinear buffers (.safetensors), decode unpacks them into the effective f32 weight of a kernel
// path, quantize does both; gen, verify, the QEFT/OWQ suite, and its lines of `lowbit list`.
#include <fmt/format.h>

#include <cmath>
#include <memory>

#include "convert_command.hpp"
#include "lowbit/conformance/weak_suite.hpp"
#include "lowbit/io/files.hpp"
#include "lowbit/io/npy.hpp"
#include "lowbit/io/weak_checkpoint.hpp"
#include "lowbit/owq.hpp"
#include "lowbit/qeft.hpp"
#include "lowbit/weak.hpp"
#include "options.hpp"
#include "stream.hpp"

namespace lowbit::cli {
namespace {

namespace st = io::safetensors;

struct Flags {
  // encode
  int bits = 4;
  std::optional<int> group, grid;  // default: qeft 128, owq 0; weak::default_grid
  std::string tuning = "mse", weak_idx, prefix;
  bool sym = false, report_clamped = false;
  // decode
  std::string path, order = "stored";
  std::optional<int> file_bits;  // decode owq --bits: a file without lowbit metadata
  std::string input, output;
};

struct Weight {
  std::vector<float> w;
  std::size_t oc = 0, ic = 0;
};

// An F32 [OC, IC] weight: the tensor 'weight' of a .safetensors file, or a 2-D <f4 .npy array.
Weight read_weight(const std::string& path) {
  const Input in = read_input(path);
  if (in.kind == FileKind::npy) {
    const io::npy::Array a = io::npy::parse(in.bytes);
    if (a.descr != "<f4" || a.shape.size() != 2)
      throw UsageError(fmt::format("the weight .npy must be <f4 with 2 dimensions [OC, IC], not {} with {}", a.descr, a.shape.size()));
    return {a.values<float>(), a.shape[0], a.shape[1]};
  }
  if (in.kind != FileKind::safetensors)
    throw UsageError(fmt::format("the weight is {}: give a .safetensors file with an F32 tensor 'weight' [OC, IC], or a 2-D "
                                 "<f4 .npy array", describe(in.kind)));
  const st::File f = st::read(in.bytes);
  const st::Tensor* t = f.find("weight");
  if (!t) throw UsageError("the input has no tensor named 'weight' (an F32 [OC, IC] weight is expected)");
  if (t->dtype != "F32" || t->shape.size() != 2)
    throw UsageError(fmt::format("tensor 'weight' must be F32 with 2 dimensions [OC, IC], got {} with {}", t->dtype, t->shape.size()));
  return {st::values<float>(*t, "F32"), t->shape[0], t->shape[1]};
}

// A weight to a .npy output (its shape [OC, IC]) or a .safetensors file with the F32 tensor 'weight'.
void write_weight(const std::string& path, const Weight& w) {
  if (names_npy(path)) {
    OutputStream out(path, &kF32);
    out.write_values<float>(w.w);
    out.commit({w.oc, w.ic});
    return;
  }
  const std::vector<st::Tensor> tensors{st::make_tensor("weight", "F32", {w.oc, w.ic}, w.w)};
  write_file(path, st::write(tensors));
}

weak::QuantOptions quant_options(weak::Layout layout, const Flags& f) {
  weak::QuantOptions o;
  o.bits = f.bits;
  o.group = f.group.value_or(layout == weak::Layout::qeft ? 128 : 0);
  o.sym = f.sym;
  o.tuning = *weak::parse_tuning(f.tuning);
  if (f.grid && o.tuning != weak::Tuning::mse) throw UsageError("--grid applies to --tuning mse only");
  o.grid = f.grid.value_or(weak::default_grid(layout, o.group));
  return o;
}

template <class Options> Options codec_options(const weak::QuantOptions& q) {
  Options o;
  o.bits = q.bits;
  o.group = q.group;
  o.sym = q.sym;
  o.tuning = q.tuning;
  o.grid = q.grid;
  return o;
}

// The packed buffers of a weight, as a .safetensors file (clamped codes noted on stderr).
st::File pack(weak::Layout layout, const Flags& f, const Weight& w) {
  const weak::QuantOptions o = quant_options(layout, f);
  const std::vector<std::int32_t> weak =
      f.weak_idx.empty() ? std::vector<std::int32_t>{} : read_values<std::int32_t>(f.weak_idx, kI32).values;
  std::vector<weak::Clamp> clamped;
  st::File out = layout == weak::Layout::qeft
                     ? io::to_file(qeft::encode(w.oc, w.ic, w.w, weak, codec_options<qeft::Options>(o), &clamped), f.prefix)
                     : io::to_file(owq::encode(w.oc, w.ic, w.w, weak, codec_options<owq::Options>(o), &clamped), f.prefix);
  out.metadata["lowbit.tuning"] = f.tuning;
  out.metadata["lowbit.sym"] = o.sym ? "true" : "false";
  if (o.tuning == weak::Tuning::mse) out.metadata["lowbit.grid"] = std::to_string(o.grid);
  if (!clamped.empty()) {
    fmt::print(stderr, "lowbit: note: {} codes out of range were clamped; the reference packer would write them unclamped "
                       "and corrupt neighbouring codes{}\n", clamped.size(), f.report_clamped ? ":" : " (--report-clamped lists them)");
    // QEFT stores the weak columns last: stored column j is original column perm[j]; OWQ keeps the order.
    const std::vector<std::int32_t> perm = layout == weak::Layout::qeft ? weak::permutation(weak, w.ic) : std::vector<std::int32_t>{};
    if (f.report_clamped)
      for (const weak::Clamp& c : clamped)
        fmt::print(stderr, "  row {} column {} (original column {}): code {} stored as {}\n", c.row, c.col,
                   perm.empty() ? static_cast<std::int32_t>(c.col) : perm[c.col], c.code,
                   c.code < 0 || std::isnan(c.code) ? 0 : (1 << o.bits) - 1);
  }
  return out;
}

// The effective weight of a kernel path (--path), in the stored or the original column order.
Weight unpack(weak::Layout layout, const Flags& f, const st::File& in) {
  if (layout == weak::Layout::qeft) {
    const qeft::Packed p = io::qeft_from_file(in, f.prefix);
    qeft::Options o;
    o.path = f.path == "nowc" ? qeft::Path::nowc : qeft::Path::gemv;
    o.order = f.order == "original" ? qeft::Order::original : qeft::Order::stored;
    return {qeft::decode(p, o), p.oc, p.ic};
  }
  const owq::Packed p = io::owq_from_file(in, f.prefix, f.file_bits);
  owq::Options o;
  o.path = f.path == "fp32" ? owq::Path::fp32 : f.path == "nowc" ? owq::Path::nowc : owq::Path::fp16;
  return {owq::decode(p, o), p.oc, p.ic};  // OWQ stores the original order
}

// The quantizer's options (encode, quantize, gen).
void add_quant_options(CLI::App& c, Flags& f, weak::Layout layout) {
  if (layout == weak::Layout::owq) c.add_option("--bits", f.bits, "4 (default) or 3");
  c.add_option("--group", f.group,
               layout == weak::Layout::qeft ? "input channels per group, a multiple of 32; 0 = per channel (default 128)"
                                            : "0: per channel (OWQ's only grouping; the default)");
  add_choice(c, "--tuning", f.tuning, {"mse", "minmax"}, "the quantizer's clip search (mse: as the repos)");
  c.add_option("--grid", f.grid, "with --tuning mse: candidate clip ranges (default: qeft 1, or 100 per channel; owq 100)");
  c.add_flag("--sym", f.sym, "symmetric quantization (zero point 2^(bits-1))");
}

// encode's and quantize's: the quantizer's and the weak columns (encode: also the buffers' names).
void add_encode_options(CLI::App& c, Flags& f, weak::Layout layout, bool names = true) {
  add_quant_options(c, f, layout);
  c.add_option("--weak-idx", f.weak_idx, "the weak input columns, ascending: raw little-endian int32 or an <i4 .npy (default: none)");
  if (names) c.add_option("--prefix", f.prefix, "name prefix of the buffers, e.g. model.layers.0.mlp.up_proj");
  c.add_flag("--report-clamped", f.report_clamped, "list every code the reference packer would write out of range");
}

void add_decode_options(CLI::App& c, Flags& f, weak::Layout layout) {
  if (layout == weak::Layout::qeft) {
    add_choice(c, "--path", f.path, {"gemv", "nowc"}, "the kernel path: gemv (weak columns from oweight) or nowc");
    add_choice(c, "--order", f.order, {"stored", "original"}, "column order of the weight (QEFT stores the weak columns last)");
  } else {
    add_choice(c, "--path", f.path, {"fp16", "fp32", "nowc"}, "the kernel path");
  }
}

template <class Add, class Run> Command codec(std::string verb, weak::Layout layout, std::string help, Add add, Run run) {
  return command<Flags>(
      std::move(verb), std::string(name(layout)), {}, std::move(help), [=](CLI::App& c, Flags& f) { add(c, f, layout); },
      [=](const Flags& f) { return run(layout, f); });
}

int encode(weak::Layout layout, const Flags& f) {
  const Weight w = read_weight(f.input);
  const st::File out = pack(layout, f, w);
  write_file(f.output, st::write(out.tensors, out.metadata));
  return kSuccess;
}

int decode(weak::Layout layout, const Flags& f) {
  const st::File in = st::read(read_container(f.input, FileKind::safetensors, "a .safetensors file of packed buffers"));
  write_weight(f.output, unpack(layout, f, in));
  return kSuccess;
}

int quantize(weak::Layout layout, const Flags& f) {
  Flags g = f;
  g.order = "original";
  write_weight(f.output, unpack(layout, g, pack(layout, f, read_weight(f.input))));
  return kSuccess;
}

void register_layout(Registry& reg, weak::Layout layout) {
  const std::string n(name(layout));
  const std::string weight_in = "the f32 weight [OC, IC]: a .safetensors file with the tensor 'weight', or a 2-D <f4 .npy";
  const std::string weight_out = "the f32 weight [OC, IC]: a .npy, or else a .safetensors file with the tensor 'weight'";
  reg.add(codec("encode", layout, fmt::format("an f32 weight -> {}'s packed QuantLinear buffers (.safetensors)", n),
                [=](CLI::App& c, Flags& f, weak::Layout l) {
                  add_encode_options(c, f, l);
                  add_io(c, f.input, f.output, weight_in, "the .safetensors file of buffers");
                },
                encode));
  reg.add(codec("decode", layout, fmt::format("{}'s packed buffers -> the effective f32 weight of a kernel path", n),
                [=](CLI::App& c, Flags& f, weak::Layout l) {
                  add_decode_options(c, f, l);
                  if (l == weak::Layout::owq) c.add_option("--bits", f.file_bits, "3 or 4, for a file without lowbit metadata");
                  c.add_option("--prefix", f.prefix, "name prefix of the buffers");
                  add_io(c, f.input, f.output, "the .safetensors file of buffers", weight_out);
                },
                decode));
  reg.add(codec("quantize", layout, fmt::format("an f32 weight -> its {} weight (encode then decode, original column order)", n),
                [=](CLI::App& c, Flags& f, weak::Layout l) {
                  add_encode_options(c, f, l, /*names=*/false);
                  add_decode_options(c, f, l);
                  add_io(c, f.input, f.output, weight_in, weight_out);
                },
                quantize));
  struct Convert {
    ConvertFlags common;
    Flags quant;
    std::size_t k = 0;
    std::string calibration, roles;
    bool no_reorder = false;
  };
  reg.add(command<Convert>(
      "convert", n, {}, fmt::format("a checkpoint -> {}'s QuantLinear buffers per linear layer{}", n,
                                    layout == weak::Layout::qeft ? ", the model reordered by the global index" : ""),
      [layout](CLI::App& c, Convert& f) {
        add_quant_options(c, f.quant, layout);
        c.add_option("--k", f.k, "weak columns per layer (and in QEFT's global index)")->required();
        c.add_option("--calibration", f.calibration,
                     ".safetensors with <layer>.input_sq_sum F32 [IC] per layer (default: the weight-only rule)");
        if (layout == weak::Layout::qeft) {
          c.add_option("--roles", f.roles, "JSON file of role -> tensor name pattern for a non-Llama family");
          c.add_flag("--no-reorder", f.no_reorder, "keep the model's order: every layer gathers its input at run time");
        }
        add_convert_flags(c, f.common);
      },
      [layout](const Convert& f) {
        const weak::QuantOptions q = quant_options(layout, f.quant);
        io::model::WeakConvertOptions w;
        w.k = f.k;
        w.calibration = f.calibration;
        w.reorder = !f.no_reorder;
        if (!f.roles.empty()) {
          const std::vector<std::uint8_t> text = io::read_file(f.roles);
          w.roles.assign(text.begin(), text.end());
        }
        const auto target = layout == weak::Layout::qeft ? io::model::qeft_target(codec_options<qeft::Options>(q), w)
                                                         : io::model::owq_target(codec_options<owq::Options>(q), w);
        return run_convert(f.common, *target);
      }));
  struct Gen {
    GenFlags common;
    Flags quant;
    std::size_t weak = 32, rows = 16, cols = 256;
  };
  reg.add(command<Gen>(
      "gen", n, {}, fmt::format("golden {} packing sets: edge layers (ties, code extremes, fp16 specials) and random ones", n),
      [layout](CLI::App& c, Gen& f) {
        add_quant_options(c, f.quant, layout);
        c.add_option("--weak", f.weak, "weak columns of the edge and random layers (default 32)");
        c.add_option("--rows", f.rows, "output rows of each layer (default 16)");
        c.add_option("--cols", f.cols, "input columns of each layer (default 256)");
        add_gen_options(c, f.common);
      },
      [layout](const Gen& f) {
        conformance::WeakGenOptions o;
        static_cast<conformance::GenCommon&>(o) = gen_common(f.common);
        o.layout = layout;
        o.quant = quant_options(layout, f.quant);
        const std::string_view e = weak::shape_error(layout, f.rows, f.cols, f.weak, o.quant);
        if (!e.empty())
          throw UsageError(fmt::format("{} --bits {} --group {} --rows {} --cols {} --weak {}: {}", name(layout), o.quant.bits,
                                       o.quant.group, f.rows, f.cols, f.weak, e));
        o.rows = f.rows;
        o.cols = f.cols;
        o.weak = f.weak;
        return gen_done(conformance::gen_weak(o, f.common.out), fmt::format("{} packed words", name(layout)), f.common.out);
      }));
  reg.add(verify_command(n, {}, n, [](std::string_view array, std::uint64_t bits) -> std::optional<std::string> {
    if (array == "outlieridx_inputs") return std::to_string(bits);  // the index itself, not a weight
    return std::nullopt;
  }));
}

void define(Registry& reg) {
  for (weak::Layout l : {weak::Layout::qeft, weak::Layout::owq}) register_layout(reg, l);
  // One suite: the packers of both layouts (the reference), the QEFT matvec of every implementation.
  reg.add(Suite{
      {"qeft", "owq"}, {}, {}, {"qeft"},
      [](const SuiteRun& run) {
        return each_implementation<qeft::Impl>(
            run, [&](const qeft::Impl& impl) { return conformance::run_weak_suite(impl, run.golden, run.block()); });
      },
      [](const conformance::Plugin& p) { return p.descriptor().qeft_matvec_f32 != nullptr; },
      [](const conformance::Plugin& plugin, const SuiteRun& run) {
        return plugin_group(plugin, run, "qeft",
                            [&] { return conformance::run_weak_suite(conformance::plugin_qeft(plugin), run.golden, run.block()); });
      }});
  reg.add_list([] {
    fmt::print("qeft, owq (encode, decode, quantize, convert, gen, verify, conform; the repos' QuantLinear buffers in .safetensors):\n"
               "  k fp16 weak columns + group-wise asymmetric (or --sym) min-max codes, --tuning mse|minmax; qeft: 4-bit,\n"
               "  --group 128 (0 = per channel), weak columns last; owq: --bits 3|4 per channel, original order;\n"
               "  decode --path: qeft gemv|nowc, owq fp16|fp32|nowc\n");
  });
}

const Registration registration("weak", define);

}  // namespace
}  // namespace lowbit::cli
