// Whole-checkpoint conversion (io/convert.hpp) over a generated BF16 checkpoint of 8 weights of
// 4096 x 8192 (512 MiB, written once to the temporary folder and then in the page cache): NF4 with
// double quantization (>= 1 GB/s of input with 2 threads is the goal: read bytes_per_second), and
// the same model copied through the pipeline with nothing selected (the I/O alone: the baseline of
// the target, which asks that converting cost no more than copying). Bytes are input bytes; each
// iteration writes a fresh output folder, removed outside the timing.
#include <fmt/format.h>
#include <unistd.h>

#include <bit>
#include <filesystem>

#include "bench.hpp"
#include "lowbit/io/convert.hpp"
#include "lowbit/io/files.hpp"

namespace lowbit::bench {
namespace {

namespace fs = std::filesystem;
namespace md = io::model;

const std::string& checkpoint() {
  static const std::string path = [] {
    const fs::path dir = fs::temp_directory_path() / fmt::format("lowbit_bench_model.{}", ::getpid());
    fs::create_directories(dir);
    const std::vector<float> x = normal_floats(std::size_t{4096} * 8192);
    std::vector<std::uint16_t> bf16(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) bf16[i] = static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(x[i] / 1024) >> 16);
    std::vector<io::safetensors::Tensor> tensors;
    for (int l = 0; l < 8; ++l)
      tensors.push_back(io::safetensors::make_tensor(fmt::format("model.layers.{}.mlp.up_proj.weight", l), "BF16", {4096, 8192}, bf16));
    io::write_file((dir / "model.safetensors").string(), io::safetensors::write(tensors, {{"format", "pt"}}));
    std::atexit([] { fs::remove_all(fs::temp_directory_path() / fmt::format("lowbit_bench_model.{}", ::getpid())); });
    return dir.string();
  }();
  return path;
}

std::string convert_name(std::string_view what) { return fmt::format("BM_convert_{}_bf16", what); }

void register_convert() {
  const auto add = [](std::string_view what, auto make_target, std::vector<std::string> exclude) {
    benchmark::RegisterBenchmark(convert_name(what).c_str(), [make_target, exclude](benchmark::State& s) {
      const md::Model in = md::Model::open(checkpoint());
      md::ConvertOptions o;
      o.threads = static_cast<unsigned>(s.range(0));
      o.exclude = exclude;
      const fs::path out = fs::path(checkpoint()).parent_path() / fmt::format("lowbit_bench_out.{}", ::getpid());
      for (auto _ : s) {
        s.PauseTiming();
        fs::remove_all(out);
        fs::create_directories(out);
        auto target = make_target();
        s.ResumeTiming();
        md::convert(in, *target, out.string(), o);
      }
      fs::remove_all(out);
      s.SetBytesProcessed(s.iterations() * static_cast<std::int64_t>(in.total_bytes()));
    })->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);
  };
  const auto nf4_dq = [] { return md::bnb_target({}, nf4::DoubleQuantOptions{}); };
  add("nf4_dq", nf4_dq, {});
  add("copy", nf4_dq, {"*"});
  const auto run = [](std::string_view what) { return at(convert_name(what), 2) + "/min_time:3.000/real_time"; };
  targets().push_back({"convert nf4+dq (bf16, 2 threads) vs copying the model", run("nf4_dq"), run("copy"), 1.0});
}

const bool registered = [] {
  register_convert();
  return true;
}();

}  // namespace
}  // namespace lowbit::bench
