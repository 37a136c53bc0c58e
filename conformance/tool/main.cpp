// lowbit: the command-line face of the library and its conformance suite.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "gse_commands.hpp"
#include "nf4_commands.hpp"
#include "stream.hpp"
#include "finetune_command.hpp"
#include "golden_commands.hpp"
#include "plugin_command.hpp"
#include "train_check_command.hpp"
#include "weak_columns_command.hpp"
#include "weak_commands.hpp"
#include "lowbit/formats/weak.hpp"

namespace {

using namespace lowbit::cli;

// A family's options make sense only with that family's formats.
void reject_unless(bool applies, const std::vector<CLI::Option*>& options, const char* family) {
  if (applies) return;
  for (const CLI::Option* o : options)
    if (o->count() > 0) throw UsageError(fmt::format("{} applies to the {} format only", o->get_name(), family));
}

bool is_nf4(const std::string& format) { return format == "nf4" || format == "fp4"; }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lowbit: bit-exact low-precision formats and their conformance suite", "lowbit"};
  app.require_subcommand(1);
  const std::vector<std::string> sources{"f32", "f64", "f16", "bf16"}, dests{"f32", "f16", "bf16"};

  CodecArgs codec;
  GseArgs gse;
  codec.type = "f32";
  auto io_options = [&](CLI::App* c) {
    c->add_option("-i,--input", codec.input, "input file (default: standard input)");
    c->add_option("-o,--output", codec.output, "output file, written only on success (default: standard output)");
  };
  auto codec_options = [&](CLI::App* c, const char* format_help, const char* type_flag, const std::vector<std::string>& types) {
    c->add_option("format", codec.format, format_help)->required();
    c->add_option(type_flag, codec.type, "element type of the stream: raw little-endian, or a .npy file (default f32)")->check(CLI::IsMember(types));
    io_options(c);
  };
  CLI::App* list = app.add_subcommand("list", "formats, profiles, roundings and implementations");

  CLI::App* enc = app.add_subcommand("encode", "raw floats -> FP8 codes, a .gse stream, or NF4/FP4 .safetensors");
  codec_options(enc, "e4m3 (alias e4m3fn), e5m2, gse, nf4 or fp4 (bitsandbytes' FP4, not OCP E2M1)", "--from", sources);
  CLI::Option* enc_profile = enc->add_option("--profile", codec.profile, "FP8 or NF4: peer semantics to reproduce (lowbit list)");
  enc->add_option("--rounding", codec.rounding, "rne (default), rna, rtz or sr");
  enc->add_option("--seed", codec.seed, "Philox key for --rounding sr");
  const auto enc_gse = add_gse_options(enc, gse);
  Nf4Args nf4;
  const std::vector<CLI::Option*> enc_nf4{
      enc->add_option("--block", nf4.block, "NF4/FP4: block size, a power of two in 32..4096 (default 64)"),
      enc->add_flag("--double-quant", nf4.double_quant, "NF4/FP4: quantize the absmax values too (QLoRA)"),
      enc->add_option("--dq-offset", nf4.dq_offset, "NF4/FP4: the offset (default: torch's fp32 mean of absmax)"),
      enc->add_option("--dq-map", nf4.dq_map, "NF4/FP4: 256 raw f32, the nested map (default: bitsandbytes')"),
  };

  CLI::App* dec = app.add_subcommand("decode", "FP8 codes, a .gse stream or NF4/FP4 .safetensors -> raw floats");
  codec_options(dec, "e4m3 (alias e4m3fn), e5m2, gse, nf4 or fp4", "--to", dests);
  dec->add_option("--profile", codec.profile, "FP8: peer semantics to reproduce (lowbit list)");

  CLI::App* sweep = app.add_subcommand("sweep", "the FP8 encoding of every input bit pattern, in order");
  codec_options(sweep, "e4m3 (alias e4m3fn) or e5m2", "--from", {"f32", "f16", "bf16"});
  sweep->add_option("--profile", codec.profile, "peer semantics to reproduce (lowbit list)");
  sweep->add_option("--rounding", codec.rounding, "rne (default), rna, rtz or sr");
  sweep->add_option("--seed", codec.seed, "Philox key for --rounding sr (element index = input bits)");
  sweep->add_option("--shard", codec.shard, "I/N: write only slice I (from 0) of N equal slices");

  CodecArgs quant;
  quant.rounding = "";  // the format's default: rne for gse, nearest for MX
  CLI::App* qz = app.add_subcommand("quantize", "f32 -> block format -> f32 (fake quantization)");
  qz->add_option("format", quant.format, "gse, mxint8, mxfp8-e4m3, mxfp8-e5m2, mxfp6-e3m2, mxfp6-e2m3 or mxfp4-e2m1")->required();
  qz->add_option("--rounding", quant.rounding, "gse: rne (default), rna, rtz, sr; MX: nearest (default), even, floor, sr");
  qz->add_option("--seed", quant.seed, "Philox key for --rounding sr");
  qz->add_option("-i,--input", quant.input, "input file (default: standard input)");
  qz->add_option("-o,--output", quant.output, "output file, written only on success (default: standard output)");
  const auto qz_gse = add_gse_options(qz, gse);

  GemmArgs gemm;
  std::string gemm_format;
  CLI::App* gm = app.add_subcommand("gemm", "C = A B^T with both operands quantized to GSE along k");
  gm->add_option("format", gemm_format, "gse")->required()->check(CLI::IsMember({"gse"}));
  gm->add_option("--m", gemm.m, "rows of A and C")->required();
  gm->add_option("--n", gemm.n, "rows of B (a linear layer's out_features), columns of C")->required();
  gm->add_option("--k", gemm.k, "the reduction dimension")->required();
  gm->add_option("-a", gemm.a, "A: m x k row-major f32")->required();
  gm->add_option("-b", gemm.b, "B: n x k row-major f32")->required();
  gm->add_option("-o,--output", gemm.output, "C: m x n row-major f32 (default: standard output)");
  gm->add_option("--accumulate", gemm.accumulate, "exact (default) or fp32")->check(CLI::IsMember({"exact", "fp32"}));
  gm->add_option("--rounding", gemm.rounding, "rounding of the quantization: rne (default), rna, rtz");
  add_gse_options(gm, gse);

  PackArgs pack;
  CLI::App* pk = app.add_subcommand("pack", "an f32 weight -> OWQ / QEFT packed buffers (.safetensors)");
  pk->add_option("layout", pack.layout, "qeft or owq")->required();
  pk->add_option("--bits", pack.bits, "4 (default) or 3 (owq only)");
  pk->add_option("--group", pack.group, "input channels per group; 0 = per channel (default: qeft 128, owq 0)");
  pk->add_option("--tuning", pack.tuning, "minmax or mse (default, as the repos)");
  pk->add_option("--grid", pack.grid, "mse: candidate clip ranges (default: qeft 1, or 100 per channel; owq 100)");
  pk->add_flag("--sym", pack.sym, "symmetric quantization (zero point 2^(bits-1))");
  pk->add_option("--weak-idx", pack.weak_idx, "raw little-endian int32: the weak input columns, ascending (default: none)");
  pk->add_option("--prefix", pack.prefix, "name prefix of the buffers, e.g. model.layers.0.mlp.up_proj");
  pk->add_flag("--report-clamped", pack.report_clamped, "list every code the reference packer would write out of range");
  pk->add_option("-i,--input", pack.input, ".safetensors with one F32 tensor 'weight' [OC, IC], original column order")->required();
  pk->add_option("-o,--output", pack.output, "output .safetensors, written only on success")->required();

  UnpackArgs unpack;
  CLI::App* upk = app.add_subcommand("unpack", "OWQ / QEFT packed buffers -> the effective f32 weight of a kernel path");
  upk->add_option("layout", unpack.layout, "qeft or owq")->required();
  upk->add_option("--path", unpack.path, "qeft: gemv (default: weak columns from oweight) or nowc; owq: fp16 (default), fp32 or nowc");
  upk->add_option("--order", unpack.order, "qeft: stored (default: weak columns last) or original");
  upk->add_option("--bits", unpack.bits, "owq: 3 or 4, for a file without lowbit metadata");
  upk->add_option("--prefix", unpack.prefix, "name prefix of the buffers");
  upk->add_option("-i,--input", unpack.input, "packed .safetensors")->required();
  upk->add_option("-o,--output", unpack.output, "output .safetensors with F32 'weight' [OC, IC], written only on success")->required();

  WeakColumnsArgs weak_columns;
  CLI::App* wc = app.add_subcommand("weak-columns", "calibration activations -> each layer's weak columns and QEFT's global index");
  wc->add_option("--k", weak_columns.k, "weak columns per layer and in the global index")->required();
  CLI::Option* wc_global = wc->add_option("--global", weak_columns.global, "qeft (default: whole normalised vectors) or per-layer-topk (the paper)");
  wc->add_flag("--no-global", weak_columns.no_global, "write the per-layer indices only")->excludes(wc_global);
  wc->add_option("--layers", weak_columns.layers, "the layers of the global index (default: names ending in q_proj, k_proj, v_proj, up_proj or gate_proj)");
  wc->add_option("--weights", weak_columns.weights, ".safetensors with the F32 [OC, IC] weights of the same names: the frob-norm factor");
  wc->add_option("--bits", weak_columns.bits, "with --weights: 2, 3 or 4 (default 4)");
  wc->add_option("--tuning", weak_columns.tuning, "with --weights: mse (default) or minmax");
  wc->add_option("-i,--input", weak_columns.input, ".safetensors with one F32 [tokens, IC] per layer (default: standard input)");
  wc->add_option("-o,--output", weak_columns.output, ".safetensors with one I32 [k] per layer and 'global', written only on success (default: standard output)");

  bool train_check_json = false;
  CLI::App* tc = app.add_subcommand("train-check", "gradient validations of the training layers (finite differences, exact quantized backward, quantization error, weak columns, OGR, stochastic rounding)");
  tc->add_flag("--json", train_check_json, "one JSON object instead of the table");

  FinetuneArgs finetune;
  CLI::App* ft = app.add_subcommand("finetune", "the end-to-end fine-tuning table: fp32 LoRA, QLoRA, GSQ-Tuning INT8/6/5, FP8, QEFT, full fine-tuning, and the bits x rank sweep (docs/training.md)");
  ft->add_flag("--quick", finetune.quick, "the smaller run (about 30 s on one core)");
  ft->add_option("--seed", finetune.seed, "seed of the data, the teachers, the initialisation and the batch order (default 1)");
  ft->add_option("--out", finetune.out, "folder for table.csv, sweep.csv and pareto.svg (created if missing)");
  ft->add_flag("--json", finetune.json, "one JSON object instead of the table");

  GenArgs gen_args;
  CLI::App* gen = app.add_subcommand("gen", "golden test vectors (.npy + manifest.json): boundary cases and seeded random ones (TestFloat's testfloat_gen)");
  gen->add_option("format", gen_args.format, "e4m3 (alias e4m3fn), e5m2, gse, nf4 or fp4; an MX format (mxint8, mxfp8-e4m3, ...: lowbit list); qeft, owq (packing), gse-gemm")->required();
  gen->add_option("--profile", gen_args.profile, "FP8 or NF4: peer semantics to reproduce (lowbit list; default ml_dtypes / lowbit)");
  CLI::Option* gen_block = gen->add_option("--block", gen_args.block, "NF4/FP4: block size, a power of two in 32..4096 (default 64)");
  CLI::Option* gen_dq = gen->add_flag("--double-quant", gen_args.double_quant, "NF4/FP4: add the double quantization of the absmax values (QLoRA)");
  gen->add_option("--rounding", gen_args.rounding, "rne (default), rna, rtz or sr; MX: nearest (default), even, floor or sr");
  gen->add_option("--level", gen_args.level, "boundary: structured boundary cases; quick (default): plus -n seeded random cases");
  gen->add_option("--seed", gen_args.seed, "seed of the random cases and Philox key of --rounding sr (default 1)");
  gen->add_option("-n", gen_args.n, "random cases at level 2 (default 100000)");
  gen->add_option("-o,--output", gen_args.out, "output folder, created if missing")->required();
  gen->add_option("--container", gen_args.container, "npy (default: a .npy file per array) or safetensors (one golden.safetensors)");
  const auto gen_gse = add_gse_options(gen, gse);
  const std::vector<CLI::Option*> gen_weak{  // qeft / owq, with --bits and --group above
      gen->add_option("--tuning", gen_args.tuning, "qeft/owq: minmax or mse (default), as lowbit pack"),
      gen->add_option("--grid", gen_args.grid, "qeft/owq, mse: candidate clip ranges (default as lowbit pack)"),
      gen->add_flag("--sym", gen_args.sym, "qeft/owq: symmetric quantization"),
      gen->add_option("--weak", gen_args.weak, "qeft/owq: weak columns of the edge and random layers (default 32)"),
      gen->add_option("--rows", gen_args.rows, "qeft/owq: output rows of each layer (default 16)"),
      gen->add_option("--cols", gen_args.cols, "qeft/owq: input columns of each layer (default 256)"),
  };
  const std::vector<CLI::Option*> gen_gemm{
      gen->add_option("--m", gen_args.gemm_m, "gse-gemm: rows of A and C (default 5)"),
      gen->add_option("--n", gen_args.gemm_n, "gse-gemm: rows of B, columns of C (default 17)"),
      gen->add_option("--k", gen_args.gemm_k, "gse-gemm: reduction length of the main problems (default 4 x group + 3)"),
      gen->add_option("--accumulate", gen_args.accumulate, "gse-gemm: exact (default) or fp32"),
  };

  VerifyArgs verify_args;
  std::vector<std::string> verify_formats;
  CLI::App* ver = app.add_subcommand("verify", "compare an implementation's outputs with golden vectors from lowbit gen (TestFloat's testfloat_ver), or run the suite on a vendor plugin");
  ver->add_option("format", verify_formats, "e4m3 (alias e4m3fn), e5m2, gse, nf4, fp4, an MX format (with --plugin: any number of those, mx or an MX format, qeft, gse-gemm; default all)");
  ver->add_option("--golden", verify_args.golden, "folder written by lowbit gen");
  ver->add_option("--actual", verify_args.actual, "an .npy of outputs (matched to a golden output by dtype and size), a folder of NAME.npy files or a .safetensors file with tensors NAME, NAME being the golden expected arrays' names");
  ver->add_option("--errors", verify_args.errors, "mismatches listed (default 20)");
  ver->add_flag("--json", verify_args.json, "one JSON object instead of the text");
  ver->add_flag("--tolerance", verify_args.tolerance, "sets with per-output bounds (gse-gemm --accumulate fp32): accept outputs within them, and report the bounds");
  PluginArgs plugin;
  CLI::Option* plugin_opt = ver->add_option("--plugin", plugin.path, "a vendor plugin .so (docs/vendor-abi.md): run the conformance suite on it");
  const std::vector<CLI::Option*> plugin_only{
      ver->add_option("--level", plugin.level, "with --plugin: quick (default: an f32 sample) or full (adds all 2^32 f32 inputs for FP8)"),
      ver->add_option("--profile", plugin.profiles, "with --plugin: FP8 profiles (default: all)"),
      ver->add_option("--threads", plugin.threads, "with --plugin: threads for the f32 sweeps"),
      ver->add_flag("!--in-process", plugin.isolate,
                    "with --plugin: run every group in this process, not in a child (a crash then ends the run; for debuggers)"),
  };

  ConformArgs conform;
  CLI::App* conf = app.add_subcommand("conform", "the conformance suite over every implementation, format and profile");
  conf->add_option("--level", conform.level, "quick (default) or full (adds all 2^32 f32 inputs)");
  conf->add_option("--impl", conform.impls, "implementations to check (default: all this CPU runs)");
  conf->add_option("--format", conform.formats, "formats to check (default: all)");
  conf->add_option("--profile", conform.profiles, "FP8 profiles to check (default: all)");
  conf->add_option("--golden", conform.golden, "golden-data folder (default: the copy in the source tree)");
  conf->add_option("--errors", conform.errors, "mismatches listed per check (default 8)");
  conf->add_option("--threads", conform.threads, "threads for the f32 sweeps (default: all cores)");
  conf->add_option("--seed", conform.seed, "seed of the random cases (default 1)");
  conf->add_flag("-v,--verbose", conform.verbose, "one row per check, not only per format and profile");
  conf->add_flag("--json", conform.json, "one JSON object (every check and the summary) instead of the table");

  try {
    app.parse(argc, argv);
    if (*list) return run_list();
    if (*enc) {
      reject_unless(codec.format == "gse", enc_gse, "gse");
      reject_unless(is_nf4(codec.format), enc_nf4, "nf4/fp4");
      if (is_nf4(codec.format) && enc_profile->count() == 0) codec.profile = "lowbit";
      if (is_nf4(codec.format)) return run_encode_nf4(codec, nf4);
      return codec.format == "gse" ? run_encode_gse(codec, gse) : run_encode(codec);
    }
    if (*dec) {
      if (is_nf4(codec.format)) return run_decode_nf4(codec);
      return codec.format == "gse" ? run_decode_gse(codec) : run_decode(codec);
    }
    if (*sweep) return run_sweep(codec);
    if (*qz) {
      reject_unless(quant.format == "gse", qz_gse, "gse");
      return run_quantize(quant, gse);
    }
    if (*wc) return run_weak_columns(weak_columns);
    if (*tc) return run_train_check(train_check_json);
    if (*gen) {
      const bool gen_weak_layout = lowbit::weak::parse_layout(gen_args.format).has_value();
      const bool gen_gse_family = gen_args.format == "gse" || gen_args.format == "gse-gemm";
      reject_unless(gen_gse_family, gen_weak_layout ? std::vector<CLI::Option*>(gen_gse.begin() + 2, gen_gse.end()) : gen_gse, "gse");
      reject_unless(gen_weak_layout, gen_weak, "qeft/owq");
      reject_unless(gen_args.format == "gse-gemm", gen_gemm, "gse-gemm");
      if (gen_weak_layout && gen_gse[0]->count()) gen_args.weak_bits = gse.bits;  // --bits, --group: shared names
      if (gen_weak_layout && gen_gse[1]->count()) gen_args.weak_group = gse.group;
      reject_unless(is_nf4(gen_args.format), {gen_block, gen_dq}, "nf4/fp4");
      if (gen_gse_family) gen_args.gse = gse_format(gse);
      return run_gen(gen_args);
    }
    if (*ver && plugin_opt->count()) {
      if (!verify_args.golden.empty() || !verify_args.actual.empty())
        throw UsageError("--plugin runs the suite in-process: it takes no --golden or --actual");
      plugin.formats = verify_formats;
      plugin.errors = verify_args.errors;
      plugin.json = verify_args.json;
      return run_verify_plugin(plugin);
    }
    if (*ver) {
      for (const CLI::Option* o : plugin_only)
        if (o->count() > 0) throw UsageError(fmt::format("{} applies with --plugin only", o->get_name()));
      if (verify_formats.size() != 1 || verify_args.golden.empty() || verify_args.actual.empty())
        throw UsageError("verify needs one FORMAT, --golden DIR and --actual FILE|DIR");
      verify_args.format = verify_formats[0];
      return run_verify(verify_args);
    }
    if (*ft) return run_finetune(finetune);
    if (*pk) return run_pack(pack);
    if (*upk) return run_unpack(unpack);
    if (*gm) {
      return run_gemm(gemm, gse);
    }
    return run_conform(conform);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "lowbit: {}\n", e.what());  // one line, without CLI11's hint
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "lowbit: {}\n", e.what());
    return 1;
  }
}
