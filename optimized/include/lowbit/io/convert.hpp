// Whole-checkpoint conversion: a Hugging Face checkpoint (io/model.hpp) into a lowbit format and
// back, streaming tensor by tensor (docs/checkpoints.md).
//
// convert() selects the weights to quantize (the 2-D `*.weight` tensors of linear layers by default),
// encodes each with a Target, copies every other tensor unchanged (or as the Target rewrites it: QEFT's
// global reordering permutes embeddings and norms), and writes a checkpoint of the same shape into
// OUTDIR: model.safetensors, or shards of at most `shard_size` bytes with model.safetensors.index.json;
// the folder's other files are copied, and config.json gets the Target's `quantization_config`.
// dequantize() turns every recognised weight (io/model_layouts.hpp) back into a plain tensor.
//
// Memory: the input is mapped and each tensor's pages are released once it is done; a tensor's
// output is held until it is written; a shard's data goes to a temporary file in OUTDIR's temporary
// folder and is copied behind its header when the shard is complete (copy_file_range: no user memory).
// Peak memory is about the largest tensor's f32 values plus its output plus per-thread chunks.
// Threads: consecutive small tensors are converted at once, one per thread, and a large tensor is cut
// into chunks run on the threads, each chunk writing its own part of the output; tensors are written
// in name order, so the output is bit-identical for every thread count. Target::encode and rewrite
// must therefore be safe to call concurrently (they are const).
// Atomic: everything is written into OUTDIR.tmp.<pid> and renamed to OUTDIR at the end; an error or a
// signal leaves no OUTDIR behind. Every error is one lowbit::Error naming the file and tensor.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lowbit/io/model.hpp"
#include "lowbit/io/model_layouts.hpp"
#include "lowbit/formats/gse.hpp"
#include "lowbit/formats/mx.hpp"
#include "lowbit/fp8.hpp"
#include "lowbit/io/safetensors.hpp"
#include "lowbit/nf4.hpp"
#include "lowbit/owq.hpp"
#include "lowbit/qeft.hpp"

namespace lowbit::io::model {

// Runs body(i) for every i in [0, n) on up to `threads` threads (1: on the caller's thread). Bodies
// must write disjoint outputs; the first exception is rethrown once all have stopped.
class Parallel {
 public:
  explicit Parallel(unsigned threads = 0);  // 0: every core
  unsigned threads() const { return threads_; }
  void for_each(std::size_t n, const std::function<void(std::size_t)>& body) const;

 private:
  unsigned threads_;
};

// A tensor's values as f32, read on demand from its F32, F16 or BF16 bytes (exact conversions).
class Source {
 public:
  // Errc::data naming the tensor when its dtype is not F32, F16 or BF16.
  Source(const Model& m, const TensorInfo& t);
  const TensorInfo& info() const { return t_; }
  const std::string& name() const { return t_.name; }
  std::uint64_t size() const { return n_; }  // elements
  std::string torch_dtype() const;           // "float32", "float16", "bfloat16"
  // Elements [first, first + out.size()).
  void read(std::uint64_t first, std::span<float> out) const;
  std::vector<float> read_all(const Parallel& par) const;
  // The tensor's own bytes, in its dtype.
  std::span<const std::uint8_t> bytes() const { return m_.bytes(t_); }

 private:
  const Model& m_;
  const TensorInfo& t_;
  std::uint64_t n_;
};

// One target format of convert(): how a selected weight becomes the tensors of its layout.
class Target {
 public:
  virtual ~Target() = default;
  // The format as io/model_layouts.hpp recognises the output (e.g. "nf4-dq").
  virtual std::string format() const = 0;
  // Whole-model state from every weight selected (QEFT's global order); called once before encode().
  virtual void prepare(const Model&, std::span<const TensorInfo* const> /*selected*/, const Parallel&) {}
  // The output tensors of one selected weight (the weight first; names as the layout's docs say).
  virtual std::vector<safetensors::Tensor> encode(const Source& w, const Parallel& par) const = 0;
  // The f32 weight that decode(format(), encode(w)) approximates (--json's round-trip error is
  // measured against it): w itself unless the target permutes it (QEFT's reordering).
  virtual std::vector<float> effective(const Source& w, const Parallel& par) const { return w.read_all(par); }
  // A tensor that is not selected, rewritten; nullopt (the default): copied unchanged.
  virtual std::optional<safetensors::Tensor> rewrite(const Model&, const TensorInfo&) const { return std::nullopt; }
  // config.json's "quantization_config" as JSON text (the loaders' keys); `compute_dtype` is the
  // torch name of the selected weights' dtype. Empty: none.
  virtual std::string quantization_config(const std::string& compute_dtype) const = 0;
  // The options, recorded in __metadata__ as "lowbit.<key>".
  virtual safetensors::Metadata options() const = 0;
};

// A weight decoded to f32, in the shape it had before encoding.
struct Decoded {
  std::string name;  // the plain weight's name (for QuantLinear buffers <P>.qweight: <P>.weight)
  std::vector<std::uint64_t> shape;
  std::vector<float> values;
  std::string source_dtype;  // the torch dtype the layout records ("bfloat16"); empty if it records none
};
// The values of a weight stored in `format` (as recognise() names it, "plain" excepted) from its
// tensors: the weight's own first, then its companions. Errc::unsupported for a format lowbit cannot
// decode; Errc::data for tensors that do not hold it.
Decoded decode(const std::string& format, std::span<const safetensors::Tensor> tensors, const Parallel& par);

struct Progress {
  std::size_t tensors_done = 0, tensors = 0;
  std::uint64_t bytes_done = 0, bytes = 0;  // input bytes
  double seconds = 0;                       // since the start
};
// What --json reports per converted weight.
struct TensorReport {
  std::string name, source_dtype, format;
  std::vector<std::uint64_t> shape;
  double rel_rms_error = 0, max_abs_error = 0;  // of the round trip decode(encode(w)) against w
  double seconds = 0;
};

struct ConvertOptions {
  std::vector<std::string> include, exclude;  // shell globs on tensor names (fnmatch)
  std::uint64_t shard_size = 5'000'000'000;   // bytes of tensor data per output shard
  unsigned threads = 0;                       // 0: every core
  std::function<void(const Progress&)> progress;      // after each tensor
  std::function<void(const TensorReport&)> report;    // after each converted weight (decodes it again)
};

// The tensors convert() quantizes: with no include globs, the 2-D F32/F16/BF16 tensors named weight or *.weight except
// those matching *embed*, *norm* or lm_head*; with include globs, the tensors matching one of them;
// then those matching an exclude glob are dropped. A selected tensor that is not 2-D, or not
// F32/F16/BF16, is Errc::data naming it.
std::vector<const TensorInfo*> select(const Model& m, const ConvertOptions& o);

// `outdir` must be an existing empty folder (the tool makes a temporary one and renames it) that
// neither holds the input nor lies inside a MODEL folder (whose files are copied): Errc::invalid
// otherwise; Errc::data / Errc::io as the header comment says.
void convert(const Model& in, Target& target, const std::string& outdir, const ConvertOptions& o = {});

// Every recognised weight decoded and stored as `to` ("BF16", "F16", "F32"; values rounded to
// nearest even), under the weight's name without its companions; plain tensors copied. With `to`
// empty, each weight is stored in the dtype its layout records (F32 when none). The quantization_config
// is removed from config.json.
void dequantize(const Model& in, const std::string& to, const std::string& outdir, const ConvertOptions& o = {});

// ---- the targets: one per family, with that family's options ------------------------------------------

// bitsandbytes' Linear4bit layout (io/bnb_checkpoint.hpp): o.table nf4 or fp4, o.block the blocksize,
// o.profile the peer whose rounding to reproduce; with `dq`, double quantization of the absmax.
std::unique_ptr<Target> bnb_target(const nf4::Options& o, const std::optional<nf4::DoubleQuantOptions>& dq);

// FP8 weights with f32 scales (docs/formats/fp8.md, "Checkpoint layout"): one scale per tensor or per
// row as compressed-tensors stores them (<w>_scale), or per 128x128 block as DeepSeek-V3 does
// (<w>_scale_inv). Each scale is max(amax / the format's max finite value, FLT_EPSILON) in f32 and
// each element fp8::encode(x / scale) (f32 division; saturating, rne). Non-finite weights are Errc::data.
enum class Fp8Scale { tensor, channel, block };
inline constexpr std::uint64_t kFp8Block = 128;  // the block edge of Fp8Scale::block
std::unique_ptr<Target> fp8_target(fp8::Format format, Fp8Scale scale);

// QEFT's and OWQ's QuantLinear buffers per layer (io/weak_checkpoint.hpp) under the layer's prefix
// (the weight's name less ".weight"), with k weak columns per layer chosen from calibration
// statistics or the weights alone (docs/formats/qeft-owq.md, "Checkpoint layout").
struct WeakConvertOptions {
  std::size_t k = 0;  // weak columns of every selected layer (and of QEFT's global index)
  // A .safetensors file with `<P>.input_sq_sum` F32 [IC] per selected layer: the sum over the
  // calibration tokens of x_j^2 per input column. Empty: the weight-only rule (column norms).
  std::string calibration;
  // QEFT: reorder the whole model by the global index (Llama's roles, or `roles`); without a role
  // mapping that fits the model, or with reorder false, every layer's input is gathered at run time.
  bool reorder = true;
  std::string roles;  // JSON text {"role": "name pattern with {i}", ...}; empty: Llama's
};
std::unique_ptr<Target> qeft_target(const qeft::Options& o, const WeakConvertOptions& w);
std::unique_ptr<Target> owq_target(const owq::Options& o, const WeakConvertOptions& w);

// lowbit's own layout of the block formats (docs/checkpoints.md, "GSE and MX layouts"): <w> holds the
// element codes of [OC, IC] with the blocks running along each row (I8, or U8; 4-bit codes two a byte,
// the first in the low nibble), <w>.gse_exponents / <w>.mx_scales U8 [OC, ceil(IC / block)] the shared
// exponent fields / E8M0 scales, and <w>.gse_format / <w>.mx_format the JSON of the format, the shape and
// the source dtype. Each row is encoded as gse::encode / mx::encode encode it on their own; with
// Rounding::sr the Philox key is FNV-1a-64 of `seed`'s 8 little-endian bytes then the tensor's name, and
// element (r, c) has stream index r * IC + c, so the output is the same for every thread count.
std::unique_ptr<Target> gse_target(const gse::Format& format, Rounding rounding, std::uint64_t seed = 0);
std::unique_ptr<Target> mx_target(mx::Format format, Rounding rounding, std::uint64_t seed = 0);

// gpt-oss's MXFP4 layout (io/model_layouts.hpp "mxfp4-gptoss", docs/checkpoints.md): <w>.blocks U8 [OC, IC / 32,
// 16] (32 E2M1 codes a row of 16 bytes, element 2k in the low nibble of byte k) and <w>.scales U8 [OC, IC / 32]
// (E8M0), each row encoded as mx_target(mx::Format::fp4_e2m1, rounding, seed) encodes it (the same codes and
// scales; sr the same stream). The layout keeps no shape and no NaN: IC must be a multiple of 32 and every
// weight finite (else Errc::data naming the tensor). Its quantization_config is lowbit's own.
std::unique_ptr<Target> gptoss_target(Rounding rounding, std::uint64_t seed = 0);

}  // namespace lowbit::io::model
