#include "lowbit/io/convert.hpp"

#include <fmt/format.h>
#include <fnmatch.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "convert_families.hpp"
#include "lowbit/c_api.h"
#include "lowbit/error.hpp"
#include "lowbit/io/files.hpp"
#include "lowbit/reference/binary_float.hpp"
#include "lowbit/reference/weak.hpp"
#include "shard_writer.hpp"

namespace lowbit::io::model {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void fail(const std::string& what, Errc e = Errc::data) { throw Error(what, e); }

std::uint64_t elements(const std::vector<std::uint64_t>& shape) {
  std::uint64_t n = 1;
  for (std::uint64_t d : shape) n *= d;
  return n;
}

// The source dtypes, as safetensors and torch name them.
struct FloatDtype {
  std::string_view safetensors, torch;
};
constexpr FloatDtype kFloatDtypes[] = {{"F32", "float32"}, {"F16", "float16"}, {"BF16", "bfloat16"}};

const FloatDtype* float_dtype(std::string_view safetensors) {
  for (const FloatDtype& d : kFloatDtypes)
    if (d.safetensors == safetensors) return &d;
  return nullptr;
}
bool is_float(std::string_view dtype) { return float_dtype(dtype) != nullptr; }

bool matches(const std::vector<std::string>& globs, const std::string& name) {
  return std::any_of(globs.begin(), globs.end(), [&](const std::string& g) { return ::fnmatch(g.c_str(), name.c_str(), 0) == 0; });
}

constexpr std::size_t kChunk = std::size_t{1} << 20;  // elements per parallel chunk of an elementwise pass

std::vector<std::uint8_t> store(std::span<const float> v, const std::string& dtype, const Parallel& par) {
  const std::size_t width = dtype == "F32" ? 4 : 2;
  std::vector<std::uint8_t> out(v.size() * width);
  par.for_each((v.size() + kChunk - 1) / kChunk, [&](std::size_t c) {
    const std::size_t b = c * kChunk, e = std::min(v.size(), b + kChunk);
    for (std::size_t i = b; i < e; ++i) {
      // to nearest even; NaN becomes the default quiet NaN of its sign
      const std::uint32_t bits = dtype == "F32" ? std::bit_cast<std::uint32_t>(v[i])
                                 : dtype == "BF16" ? ref::convert_nearest<bf16>(v[i]).bits
                                                   : ref::convert_nearest<f16>(v[i]).bits;
      std::memcpy(out.data() + i * width, &bits, width);  // little-endian: the low bytes
    }
  });
  return out;
}

// F32 for a torch name that is not one of kFloatDtypes (a layout that records none).
std::string dtype_of_torch(std::string_view torch) {
  for (const FloatDtype& d : kFloatDtypes)
    if (d.torch == torch) return std::string(d.safetensors);
  return "F32";
}

// OUTDIR must be an empty folder that neither holds the input nor lies in a MODEL folder.
void check_outdir(const Model& in, const std::string& outdir) {
  std::error_code ec;
  if (!fs::is_directory(outdir, ec)) fail(fmt::format("{}: not a folder", outdir), Errc::invalid);
  if (!fs::is_empty(outdir, ec)) fail(fmt::format("{}: the output folder is not empty", outdir), Errc::invalid);
  const fs::path out = fs::weakly_canonical(outdir);
  for (const Shard& s : in.shards())
    if (fs::weakly_canonical(fs::path(s.path).parent_path()) == out)
      fail(fmt::format("{}: the output folder holds the input model", outdir), Errc::invalid);
  if (const fs::path folder = in.folder().empty() ? fs::path() : fs::weakly_canonical(in.folder()); !folder.empty())  // its files are copied
    for (fs::path q = out; !q.empty() && q != q.parent_path(); q = q.parent_path())
      if (q == folder)
        fail(fmt::format("{}: the output folder lies inside the input model's folder", outdir), Errc::invalid);
}

// The folder's other files (config.json with its quantization_config replaced: `qc` empty removes it).
void copy_others(const Model& in, const std::string& outdir, const std::string& qc) {
  if (in.folder().empty()) return;
  std::set<std::string> skip{std::string(kIndexFile)};
  for (const Shard& s : in.shards()) skip.insert(fs::path(s.path).filename().string());
  for (const fs::directory_entry& e : fs::directory_iterator(in.folder())) {
    const std::string name = e.path().filename().string(), to = outdir + "/" + name;
    if (skip.count(name)) continue;
    if (name == "config.json") {
      nlohmann::ordered_json config;
      try {
        const std::vector<std::uint8_t> text = read_file(e.path().string());
        config = nlohmann::ordered_json::parse(text.begin(), text.end());
      } catch (const nlohmann::json::exception& x) {
        fail(fmt::format("{}: not JSON: {}", e.path().string(), x.what()));
      }
      if (!config.is_object()) fail(fmt::format("{}: not a JSON object", e.path().string()));
      if (qc.empty()) config.erase("quantization_config");
      else config["quantization_config"] = nlohmann::ordered_json::parse(qc);
      const std::string text = config.dump(2) + "\n";
      write_file(to, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    } else if (e.is_directory() || e.is_regular_file()) {  // links followed: a Hugging Face cache links its blobs
      fs::copy(e.path(), to, fs::copy_options::recursive);
    } else {
      fail(fmt::format("{}: neither a file nor a folder; not copied", e.path().string()));
    }
  }
}

safetensors::Metadata metadata(const std::string& format, const safetensors::Metadata& options) {
  safetensors::Metadata m{{"format", "pt"}, {"lowbit.version", LOWBIT_VERSION_STRING}, {"lowbit.format", format}};
  for (const auto& [k, v] : options) m["lowbit." + k] = v;
  return m;
}

ShardWriter::Item item(const safetensors::Tensor& t) { return {t.name, t.dtype, t.shape, t.bytes}; }
ShardWriter::Item item(const Model& m, const TensorInfo& t) { return {t.name, t.dtype, t.shape, m.bytes(t)}; }

constexpr std::uint64_t kSmallTensor = 4 << 20, kBatchBytes = 64 << 20;

// Walks the tensors in name order in batches: consecutive tensors of at most kSmallTensor bytes (up to
// kBatchBytes together) are computed at once, one per thread; a larger tensor is a batch of its own
// and its computation cuts it into chunks for the threads. Then each tensor of the batch is written in
// order, its pages released and progress reported. compute(t) must be safe to run concurrently.
template <class Compute, class Write>
void each_tensor(const Model& in, const ConvertOptions& o, const Parallel& par, Compute compute, Write write) {
  using Result = decltype(compute(in.tensors().front()));
  const std::vector<TensorInfo>& ts = in.tensors();
  const auto start = std::chrono::steady_clock::now();
  Progress p{0, ts.size(), 0, in.total_bytes(), 0};
  for (std::size_t b = 0; b < ts.size();) {
    std::size_t e = b + 1;
    for (std::uint64_t bytes = ts[b].bytes; ts[b].bytes <= kSmallTensor && e < ts.size() && ts[e].bytes <= kSmallTensor &&
                                            bytes + ts[e].bytes <= kBatchBytes;)
      bytes += ts[e++].bytes;
    std::vector<std::optional<Result>> results(e - b);
    par.for_each(e - b, [&](std::size_t i) { results[i].emplace(compute(ts[b + i])); });
    for (std::size_t i = b; i < e; ++i) {
      write(ts[i], *results[i - b]);
      results[i - b].reset();
      in.release(ts[i]);
      ++p.tensors_done;
      p.bytes_done += ts[i].bytes;
      p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (o.progress) o.progress(p);
    }
    b = e;
  }
}

TensorReport measure(const Source& s, const Target& target, const std::vector<safetensors::Tensor>& out, const Parallel& par,
                     double seconds) {
  const Decoded d = decode(target.format(), out, par);
  const std::vector<float> x = target.effective(s, par);
  double err2 = 0, ref2 = 0, max_abs = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double e = static_cast<double>(d.values[i]) - x[i];
    err2 += e * e;
    ref2 += static_cast<double>(x[i]) * x[i];
    max_abs = std::max(max_abs, std::abs(e));
  }
  return {s.name(), s.torch_dtype(), target.format(), s.info().shape, ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2),
          max_abs, seconds};
}

}  // namespace

void detail::read_f32(std::string_view dtype, const std::uint8_t* p, std::uint64_t first, std::span<float> out) {
  if (dtype == "F32") {
    std::memcpy(out.data(), p + first * 4, out.size() * 4);
    return;
  }
  const auto each = [&](auto widen) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      std::uint16_t h;
      std::memcpy(&h, p + (first + i) * 2, 2);
      out[i] = widen(h);
    }
  };
  if (dtype == "BF16") each([](std::uint16_t h) { return std::bit_cast<float>(std::uint32_t{h} << 16); });
  else each([](std::uint16_t h) { return ref::f16_to_f32(h); });
}

std::string detail::lowbit_quantization_config(const Target& t) {
  nlohmann::ordered_json j{{"quant_method", "lowbit"}, {"format", t.format()}};
  for (const auto& [k, v] : t.options()) {  // the metadata's strings, as JSON numbers and booleans where they are
    const std::size_t digits = v.starts_with('-') ? 1 : 0;
    const bool integer = v.size() > digits && v.size() < 19 && v.find_first_not_of("0123456789", digits) == std::string::npos;
    if (integer) j[k] = std::stoll(v);
    else if (v == "true" || v == "false") j[k] = v == "true";
    else j[k] = v;
  }
  return j.dump();
}

Parallel::Parallel(unsigned threads) : threads_(threads ? threads : std::max(1u, std::thread::hardware_concurrency())) {}

void Parallel::for_each(std::size_t n, const std::function<void(std::size_t)>& body) const {
  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(threads_, n));
  if (workers <= 1) {
    for (std::size_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex m;
  const auto run = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        body(i);
      } catch (...) {
        const std::lock_guard lock(m);
        if (!error) error = std::current_exception();
        next = n;
      }
    }
  };
  std::vector<std::jthread> pool;
  for (unsigned t = 1; t < workers; ++t) pool.emplace_back(run);
  run();
  pool.clear();
  if (error) std::rethrow_exception(error);
}

Source::Source(const Model& m, const TensorInfo& t) : m_(m), t_(t), n_(elements(t.shape)) {
  if (!is_float(t.dtype)) fail(fmt::format("{}: tensor '{}' is {}, not F32, F16 or BF16", m.path(), t.name, t.dtype));
}

std::string Source::torch_dtype() const { return std::string(float_dtype(t_.dtype)->torch); }  // the constructor checked it

void Source::read(std::uint64_t first, std::span<float> out) const {
  if (first > n_ || out.size() > n_ - first) fail(fmt::format("tensor '{}': elements past its end read", t_.name), Errc::internal);
  detail::read_f32(t_.dtype, bytes().data(), first, out);
}

std::vector<float> Source::read_all(const Parallel& par) const {
  std::vector<float> v(n_);
  par.for_each((n_ + kChunk - 1) / kChunk, [&](std::size_t c) {
    const std::size_t b = c * kChunk;
    read(b, std::span(v).subspan(b, std::min<std::size_t>(kChunk, n_ - b)));
  });
  return v;
}

Decoded decode(const std::string& format, std::span<const safetensors::Tensor> tensors, const Parallel& par) {
  if (tensors.empty()) fail(fmt::format("decode {}: no tensors", format), Errc::invalid);
  for (const detail::Decoder& d : detail::kDecoders)
    if (format == d.format || format.starts_with(std::string(d.format) + "-")) return d.decode(tensors, par);
  fail(fmt::format("tensor '{}': lowbit cannot decode format '{}'", tensors.front().name, format), Errc::unsupported);
}

std::vector<const TensorInfo*> select(const Model& m, const ConvertOptions& o) {
  std::vector<const TensorInfo*> out;
  for (const TensorInfo& t : m.tensors()) {
    const bool chosen = o.include.empty() ? t.shape.size() == 2 && is_float(t.dtype) && (t.name == "weight" || t.name.ends_with(".weight")) &&
                                                !matches({"*embed*", "*norm*", "*lm_head*"}, t.name)
                                          : matches(o.include, t.name);
    if (!chosen || matches(o.exclude, t.name)) continue;
    if (t.shape.size() != 2)
      fail(fmt::format("{}: tensor '{}' [{}] is selected but not 2-D, and the formats quantize linear layers' [OC, IC] weights",
                       m.path(), t.name, fmt::join(t.shape, ", ")));
    if (!is_float(t.dtype)) fail(fmt::format("{}: tensor '{}' is selected but {}, not F32, F16 or BF16", m.path(), t.name, t.dtype));
    out.push_back(&t);
  }
  return out;
}

void convert(const Model& in, Target& target, const std::string& outdir, const ConvertOptions& o) {
  check_outdir(in, outdir);
  const Parallel par(o.threads);
  const std::vector<const TensorInfo*> selected = select(in, o);
  target.prepare(in, selected, par);
  const std::set<const TensorInfo*> chosen(selected.begin(), selected.end());
  ShardWriter writer(outdir, o.shard_size, metadata(target.format(), target.options()));
  struct Converted {
    std::vector<safetensors::Tensor> out;  // empty: copied
    double seconds = 0;
  };
  each_tensor(
      in, o, par,
      [&](const TensorInfo& t) {
        const auto start = std::chrono::steady_clock::now();
        Converted c;
        if (chosen.count(&t)) c.out = target.encode(Source(in, t), par);
        else if (std::optional<safetensors::Tensor> r = target.rewrite(in, t)) c.out.push_back(std::move(*r));
        c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return c;
      },
      [&](const TensorInfo& t, const Converted& c) {
        if (c.out.empty()) return writer.add(std::array{item(in, t)});
        if (o.report && chosen.count(&t)) o.report(measure(Source(in, t), target, c.out, par, c.seconds));
        std::vector<ShardWriter::Item> items;
        for (const safetensors::Tensor& x : c.out) items.push_back(item(x));
        writer.add(items);
      });
  writer.finish();
  const std::string compute = selected.empty() ? "float32" : Source(in, *selected.front()).torch_dtype();
  copy_others(in, outdir, target.quantization_config(compute));
}

void dequantize(const Model& in, const std::string& to, const std::string& outdir, const ConvertOptions& o) {
  if (!to.empty() && !is_float(to)) fail(fmt::format("cannot dequantize to {}: BF16, F16 or F32", to), Errc::invalid);
  check_outdir(in, outdir);
  const Parallel par(o.threads);
  std::map<const TensorInfo*, const Weight*> weight_of;
  const std::vector<Weight> weights = recognise(in);
  for (const Weight& w : weights) weight_of[w.tensor] = &w;
  ShardWriter writer(outdir, o.shard_size, metadata("plain", {}));
  struct Plain {
    std::optional<Decoded> d;  // none: copied (plain) or skipped (a companion, which its weight reads)
    std::string dtype;
    std::vector<std::uint8_t> bytes;
  };
  each_tensor(
      in, o, par,
      [&](const TensorInfo& t) {
        Plain r;
        const auto it = weight_of.find(&t);
        if (it == weight_of.end() || it->second->format == "plain") return r;
        const Weight& w = *it->second;
        std::vector<safetensors::Tensor> tensors{in.load(t)};
        for (const TensorInfo* c : w.companions) tensors.push_back(in.load(*c));
        try {
          r.d = decode(w.format, tensors, par);
        } catch (const Error& e) {
          throw Error(fmt::format("{}: tensor '{}': {}", in.path(), t.name, e.what()), e.code());
        }
        r.dtype = !to.empty() ? to : dtype_of_torch(r.d->source_dtype);
        r.bytes = store(r.d->values, r.dtype, par);
        r.d->values = {};
        for (const TensorInfo* c : w.companions) in.release(*c);
        return r;
      },
      [&](const TensorInfo& t, const Plain& r) {
        if (r.d) writer.add(std::array{ShardWriter::Item{r.d->name, r.dtype, r.d->shape, r.bytes}});
        else if (weight_of.count(&t)) writer.add(std::array{item(in, t)});
      });
  writer.finish();
  copy_others(in, outdir, "");
}

}  // namespace lowbit::io::model
