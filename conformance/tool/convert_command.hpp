// lowbit convert FORMAT -i MODEL -o OUTDIR and lowbit dequantize -i QMODEL -o OUTDIR: whole
// checkpoints through lowbit/io/convert.hpp. Each family registers `convert <format>` with its own
// options (as it registers encode) and adds these common ones; the output goes into a temporary
// folder renamed to OUTDIR at the end (lowbit/conformance/output.hpp's OutputDir), with a progress
// bar on a terminal's stderr and, with --json, a per-tensor summary on stdout.
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "lowbit/io/convert.hpp"

namespace lowbit::cli {

struct ConvertFlags {
  std::string input, output, shard_size = "5GB";
  std::vector<std::string> include, exclude;
  unsigned jobs = 0;
  bool quiet = false, json = false, force = false;
};

// -i, -o, --include, --exclude, --shard-size, -j, --quiet, --json, --force.
void add_convert_flags(CLI::App& c, ConvertFlags& f);
// Converts f.input with the target; returns the exit status.
int run_convert(const ConvertFlags& f, io::model::Target& target);

// "5GB", "500MB", "1GiB", "4096": bytes (decimal and binary units); UsageError otherwise.
std::uint64_t parse_size(const std::string& text);

}  // namespace lowbit::cli
