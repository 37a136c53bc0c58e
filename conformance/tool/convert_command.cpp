#include "convert_command.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "lowbit/conformance/output.hpp"
#include "lowbit/conformance/json_text.hpp"
#include "registry.hpp"

namespace lowbit::cli {
namespace fs = std::filesystem;
namespace model = io::model;
namespace {

// A progress bar redrawn in place on stderr, at most ten times a second.
class ProgressBar {
 public:
  explicit ProgressBar(bool on) : on_(on) {}
  ~ProgressBar() {
    if (drawn_) fmt::print(stderr, "\n");
  }
  void operator()(const model::Progress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (!on_ || (p.tensors_done < p.tensors && now - last_ < std::chrono::milliseconds(100))) return;
    last_ = now;
    const double frac = p.bytes ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes) : 1.0;
    const int width = 30, full = static_cast<int>(frac * width);
    const double rate = p.seconds > 0 ? static_cast<double>(p.bytes_done) / p.seconds : 0;
    const double eta = rate > 0 ? static_cast<double>(p.bytes - p.bytes_done) / rate : 0;
    fmt::print(stderr, "\r[{}{}] {}/{} tensors  {:.2f}/{:.2f} GB  {:.0f} MB/s  ETA {}:{:02}  ", std::string(full, '#'),
               std::string(width - full, '.'), p.tensors_done, p.tensors, p.bytes_done / 1e9, p.bytes / 1e9, rate / 1e6,
               static_cast<long>(eta) / 60, static_cast<long>(eta) % 60);
    std::fflush(stderr);
    drawn_ = true;
  }

 private:
  bool on_, drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// OUTDIR may not be the input, hold it, lie in a MODEL folder, or (without --force) be a folder that is not empty.
void check_output(const ConvertFlags& f, const model::Model& in) {
  std::error_code ec;
  const fs::path out = fs::weakly_canonical(f.output, ec);
  for (const model::Shard& s : in.shards()) {
    const fs::path p = fs::weakly_canonical(s.path, ec);
    for (fs::path q = p; !q.empty() && q != q.parent_path(); q = q.parent_path())
      if (q == out) throw UsageError(fmt::format("-o {}: the output would replace the input model {}", f.output, f.input));
  }
  if (!in.folder().empty()) {  // the folder's files are copied: the output cannot be among them
    const fs::path folder = fs::weakly_canonical(in.folder(), ec);
    for (fs::path q = out; !q.empty() && q != q.parent_path(); q = q.parent_path())
      if (q == folder)
        throw UsageError(fmt::format("-o {}: lies inside the input model's folder {}, whose files are copied", f.output, in.folder()));
  }
  if (fs::exists(f.output, ec) && !(fs::is_directory(f.output, ec) && fs::is_empty(f.output, ec)) && !f.force)
    throw UsageError(fmt::format("-o {}: exists and is not an empty folder (--force replaces it)", f.output));
}

// Runs `work(temp folder, options)` and renames the folder to OUTDIR; prints the summary.
template <class Work> int write_model(const ConvertFlags& f, const model::Model& in, const std::string& what, Work work) {
  check_output(f, in);
  conformance::OutputDir out(f.output, [&](const fs::path&) { return f.force; });
  model::ConvertOptions o;
  o.include = f.include;
  o.exclude = f.exclude;
  o.shard_size = parse_size(f.shard_size);
  o.threads = f.jobs;
  ProgressBar bar(!f.quiet && ::isatty(2));
  o.progress = [&](const model::Progress& p) { bar(p); };
  nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
  if (f.json) o.report = [&](const model::TensorReport& r) {  // costs a decode per weight: only for --json
      tensors.push_back({{"name", r.name}, {"shape", r.shape}, {"source_dtype", r.source_dtype},
                         {"format", r.format}, {"rel_rms_error", r.rel_rms_error}, {"max_abs_error", r.max_abs_error},
                         {"seconds", r.seconds}});
  };
  const auto start = std::chrono::steady_clock::now();
  work(out.folder().string(), o);
  out.commit();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (f.json) {
    const nlohmann::ordered_json j{{"model", f.input}, {"output", f.output}, {"format", what}, {"tensors", tensors}, {"seconds", seconds}};
    fmt::print("{}\n", conformance::json_text(j, 2));
  } else if (!f.quiet) {
    const double b = static_cast<double>(in.total_bytes());
    const std::string size = b < 1e6 ? fmt::format("{:.1f} kB", b / 1e3) : b < 1e9 ? fmt::format("{:.1f} MB", b / 1e6) : fmt::format("{:.2f} GB", b / 1e9);
    fmt::print("{}: {} tensors, {} in {:.1f} s -> {} ({})\n", f.input, in.tensors().size(), size, seconds, f.output, what);
  }
  return kSuccess;
}

void define(Registry& reg) {
  reg.add(Command{"dequantize", "", {}, "", [](CLI::App& c) -> Action {
    struct Flags {
      ConvertFlags common;
      std::string to;
    };
    auto f = std::make_shared<Flags>();
    add_convert_flags(c, f->common);
    c.add_option("--to", f->to, "BF16, F16 or F32 (default: each weight's source dtype, as its layout records it; else F32)")
        ->transform(CLI::IsMember({"BF16", "F16", "F32", "bf16", "f16", "f32"}))
        ->transform([](std::string s) {
          for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
          return s;
        });
    return [f] {
      const model::Model in = model::Model::open(f->common.input);
      return write_model(f->common, in, "dequantized", [&](const std::string& dir, const model::ConvertOptions& o) {
        model::dequantize(in, f->to, dir, o);
      });
    };
  }});
}

const Registration registration("convert", define);

}  // namespace

std::uint64_t parse_size(const std::string& text) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string unit = text.substr(used);
  struct Unit {
    const char* name;
    double bytes;
  };
  constexpr Unit units[] = {{"", 1}, {"B", 1}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
                            {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}};
  for (const Unit& u : units)
    if (used > 0 && unit == u.name && v >= 1 && std::isfinite(v * u.bytes) && v * u.bytes < 1.8e19)
      return static_cast<std::uint64_t>(v * u.bytes);
  throw UsageError(fmt::format("bad size '{}': a positive number of bytes, optionally with KB, MB, GB, TB, KiB, MiB, GiB or TiB",
                               text));
}

void add_convert_flags(CLI::App& c, ConvertFlags& f) {
  c.add_option("-i,--input", f.input, "MODEL: a .safetensors file, or a folder with model.safetensors or shards and their index")
      ->required();
  c.add_option("-o,--output", f.output, "OUTDIR: the folder to write (missing or empty; written whole at the end)")->required();
  c.add_option("--include", f.include, "convert the tensors whose names match this glob (repeatable; replaces the default choice)");
  c.add_option("--exclude", f.exclude, "do not convert the tensors whose names match this glob (repeatable)");
  c.add_option("--shard-size", f.shard_size, "at most this much tensor data per output shard (default 5GB)");
  c.add_option("-j,--jobs", f.jobs, "threads (default: every core); the output is the same for every value");
  c.add_flag("--quiet", f.quiet, "no progress bar and no summary line");
  c.add_flag("--json", f.json, "a JSON summary per converted tensor on stdout (decodes each again to measure its error)");
  c.add_flag("--force", f.force, "replace an OUTDIR that is not empty");
}

int run_convert(const ConvertFlags& f, model::Target& target) {
  const model::Model in = model::Model::open(f.input);
  return write_model(f, in, target.format(), [&](const std::string& dir, const model::ConvertOptions& o) {
    model::convert(in, target, dir, o);
  });
}

}  // namespace lowbit::cli
