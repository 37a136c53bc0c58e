// lowbit: the command-line face of the library and its conformance suite (docs/cli.md).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "lowbit/fp8.hpp"
#include "stream.hpp"

int main(int argc, char** argv) {
  using namespace lowbit::cli;
  CLI::App app{"lowbit: bit-exact low-precision formats and their conformance suite", "lowbit"};
  app.require_subcommand(1);
  const std::vector<std::string> sources{"f32", "f64", "f16", "bf16"}, dests{"f32", "f16", "bf16"};

  CodecArgs codec;
  auto codec_options = [&](CLI::App* c, const char* type_flag, const std::vector<std::string>& types) {
    c->add_option("format", codec.format, "e4m3 (alias e4m3fn) or e5m2")->required();
    c->add_option(type_flag, codec.type, "element type of the raw stream")->required()->check(CLI::IsMember(types));
    c->add_option("--profile", codec.profile, "peer semantics to reproduce (lowbit list)");
    c->add_option("-i,--input", codec.input, "input file (default: standard input)");
    c->add_option("-o,--output", codec.output, "output file, written only on success (default: standard output)");
  };
  CLI::App* list = app.add_subcommand("list", "formats, profiles, roundings and implementations");
  CLI::App* enc = app.add_subcommand("encode", "raw floats -> FP8 codes");
  codec_options(enc, "--from", sources);
  enc->add_option("--rounding", codec.rounding, "rne (default), rna, rtz or sr");
  enc->add_option("--seed", codec.seed, "Philox key for --rounding sr");
  CLI::App* dec = app.add_subcommand("decode", "FP8 codes -> raw floats");
  codec_options(dec, "--to", dests);
  CLI::App* sweep = app.add_subcommand("sweep", "the encoding of every input bit pattern, in order");
  codec_options(sweep, "--from", {"f32", "f16", "bf16"});
  sweep->add_option("--rounding", codec.rounding, "rne (default), rna, rtz or sr");
  sweep->add_option("--seed", codec.seed, "Philox key for --rounding sr (element index = input bits)");
  sweep->add_option("--shard", codec.shard, "I/N: write only slice I (from 0) of N equal slices");

  ConformArgs conform;
  CLI::App* conf = app.add_subcommand("conform", "the conformance suite over every implementation, format and profile");
  conf->add_option("--level", conform.level, "quick (default) or full (adds all 2^32 f32 inputs)");
  conf->add_option("--impl", conform.impls, "implementations to check (default: all this CPU runs)");
  conf->add_option("--format", conform.formats, "formats to check (default: all)");
  conf->add_option("--profile", conform.profiles, "profiles to check (default: all)");
  conf->add_option("--golden", conform.golden, "golden-data folder (default: the copy in the source tree)");
  conf->add_option("--errors", conform.errors, "mismatches listed per check (default 8)");
  conf->add_option("--threads", conform.threads, "threads for the f32 sweeps (default: all cores)");
  conf->add_option("--seed", conform.seed, "seed of the random cases (default 1)");
  conf->add_flag("-v,--verbose", conform.verbose, "one row per check, not only per format and profile");

  try {
    app.parse(argc, argv);
    if (*list) return run_list();
    if (*enc) return run_encode(codec);
    if (*dec) return run_decode(codec);
    if (*sweep) return run_sweep(codec);
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
