// The GSE / MX checkpoint layout over a BlockFormat: the target (rows in parallel, 4-bit codes packed
// two a byte), the JSON companion, and the decoder; and gpt-oss's MXFP4 layout, written and read with the
// same rows.
#include "convert_blocks.hpp"

#include <fmt/format.h>

#include "convert_families.hpp"
#include "lowbit/error.hpp"
#include "layout_names.hpp"
#include "lowbit/mx.hpp"
#include "strict_json.hpp"

namespace lowbit::io::model::detail {
namespace {

[[noreturn]] void fail(const std::string& what) { throw Error(what, Errc::data); }

// FNV-1a-64 of seed's 8 little-endian bytes, then the name: each weight's own sr stream.
std::uint64_t sr_key(std::uint64_t seed, const std::string& name) {
  std::uint64_t h = 0xcbf29ce484222325u;
  const auto add = [&h](std::uint8_t b) { h = (h ^ b) * 0x100000001b3u; };
  for (int i = 0; i < 8; ++i) add(static_cast<std::uint8_t>(seed >> (8 * i)));
  for (char c : name) add(static_cast<std::uint8_t>(c));
  return h;
}

std::uint64_t row_bytes(const BlockFormat& f, std::uint64_t ic) { return f.nibbles() ? (ic + 1) / 2 : ic; }
std::uint64_t row_blocks(const BlockFormat& f, std::uint64_t ic) { return (ic + f.block() - 1) / f.block(); }

// Element 2k in the low nibble of byte k, 2k + 1 in the high one; an odd row's last high nibble is 0.
void pack_nibbles(std::span<const std::uint8_t> codes, std::span<std::uint8_t> packed) {
  std::fill(packed.begin(), packed.end(), 0);
  for (std::size_t i = 0; i < codes.size(); ++i) packed[i / 2] |= static_cast<std::uint8_t>((codes[i] & 0xF) << (i % 2 * 4));
}

// Two's complement nibbles sign-extended to a byte when `sign`.
void unpack_nibbles(std::span<const std::uint8_t> packed, bool sign, std::span<std::uint8_t> codes) {
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const std::uint8_t v = (packed[i / 2] >> (i % 2 * 4)) & 0xF;
    codes[i] = sign && (v & 8) ? static_cast<std::uint8_t>(v | 0xF0) : v;
  }
}

std::string layout_json(const BlockFormat& f, std::uint64_t oc, std::uint64_t ic, const std::string& dtype) {
  nlohmann::ordered_json j{{"format", f.name()}};
  f.fields(j);
  j["shape"] = {oc, ic};
  j["dtype"] = dtype;
  return j.dump();
}

std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

const safetensors::Tensor* find(std::span<const safetensors::Tensor> tensors, const std::string& name) {
  for (const safetensors::Tensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

// A weight's rows encoded: codes (4-bit ones packed two a byte) and scale bytes, [oc, row_bytes] and
// [oc, row_blocks] row-major.
struct Rows {
  std::uint64_t oc, ic, bytes, blocks;
  std::vector<std::uint8_t> codes, scales;
};
Rows encode_rows(const BlockFormat& f, const Source& w, Rounding rounding, std::uint64_t seed, const Parallel& par) {
  Rows out{w.info().shape[0], w.info().shape[1], row_bytes(f, w.info().shape[1]), row_blocks(f, w.info().shape[1]), {}, {}};
  out.codes.resize(out.oc * out.bytes);
  out.scales.resize(out.oc * out.blocks);
  const std::uint64_t key = sr_key(seed, w.name()), ic = out.ic, rb = out.bytes, nb = out.blocks;
  each_rows(out.oc, ic, par, [&](std::uint64_t first, std::uint64_t rows) {
    std::vector<float> x(ic);
    std::vector<std::uint8_t> unpacked(f.nibbles() ? ic : 0);
    for (std::uint64_t r = first; r < first + rows; ++r) {
      w.read(r * ic, x);
      const std::span<std::uint8_t> codes = std::span(out.codes).subspan(r * rb, rb);
      f.encode(x, f.nibbles() ? std::span(unpacked) : codes, std::span(out.scales).subspan(r * nb, nb), rounding, key, r * ic);
      if (f.nibbles()) pack_nibbles(unpacked, codes);
    }
  });
  return out;
}

// A target that writes a BlockFormat's rows: its options (__metadata__ and lowbit's quantization_config)
// are the format's keys of the JSON companion, the rounding and, for sr, the seed.
class RowsTarget : public Target {
 public:
  RowsTarget(std::unique_ptr<BlockFormat> f, Rounding rounding, std::uint64_t seed) : f_(std::move(f)), rounding_(rounding), seed_(seed) {
    nlohmann::ordered_json fields;
    f_->fields(fields);
    for (const auto& [key, value] : fields.items()) options_[key] = value.is_string() ? value.get<std::string>() : value.dump();
    options_["rounding"] = std::string(name(rounding));
    if (rounding == Rounding::sr) options_["seed"] = std::to_string(seed);
  }

  std::string quantization_config(const std::string&) const override { return lowbit_quantization_config(*this); }
  safetensors::Metadata options() const override { return options_; }

 protected:
  const BlockFormat& row_format() const { return *f_; }
  Rows rows(const Source& w, const Parallel& par) const { return encode_rows(*f_, w, rounding_, seed_, par); }

 private:
  std::unique_ptr<BlockFormat> f_;
  Rounding rounding_;
  std::uint64_t seed_;
  safetensors::Metadata options_;
};

// lowbit's layout: the codes under the weight's name, the scales and the JSON companion.
class BlockTarget final : public RowsTarget {
 public:
  using RowsTarget::RowsTarget;

  std::string format() const override { return row_format().name(); }

  std::vector<safetensors::Tensor> encode(const Source& w, const Parallel& par) const override {
    const BlockFormat& f = row_format();
    Rows r = rows(w, par);
    std::vector<std::uint8_t> json = bytes_of(layout_json(f, r.oc, r.ic, w.torch_dtype()));
    const std::uint64_t json_size = json.size();
    return {{w.name(), f.signed_codes() && !f.nibbles() ? "I8" : "U8", {r.oc, r.bytes}, std::move(r.codes)},
            {scales_name(w.name(), f.family()), "U8", {r.oc, r.blocks}, std::move(r.scales)},
            {format_name(w.name(), f.family()), "U8", {json_size}, std::move(json)}};
  }
};

// gpt-oss's MXFP4 (io/convert.hpp gptoss_target): the MXFP4 rows of lowbit's layout, with gpt-oss's names and
// shapes and no JSON companion; whole blocks and finite weights only.
class GptossTarget final : public RowsTarget {
 public:
  GptossTarget(Rounding rounding, std::uint64_t seed) : RowsTarget(mx_row_format(mx::Format::fp4_e2m1), rounding, seed) {}

  std::string format() const override { return "mxfp4-gptoss"; }

  std::vector<safetensors::Tensor> encode(const Source& w, const Parallel& par) const override {
    const std::uint64_t ic = w.info().shape[1];
    if (ic % mx::kBlock != 0)
      fail(fmt::format("tensor '{}' [{}, {}]: gpt-oss's MXFP4 holds whole blocks of {} along a row, and {} is not a multiple of {}",
                       w.name(), w.info().shape[0], ic, mx::kBlock, ic, mx::kBlock));
    Rows r = rows(w, par);
    for (std::size_t i = 0; i < r.scales.size(); ++i)
      if (r.scales[i] == mx::kE8m0Nan)  // a NaN or Inf in the block: gpt-oss's readers would scale it by 2^128
        fail(fmt::format("tensor '{}' row {}, block {}: a weight that is not finite (gpt-oss's MXFP4 has no NaN)", w.name(),
                         i / r.blocks, i % r.blocks));
    const names::gptoss::Names n = names::gptoss::of_weight(w.name());
    return {{n.blocks, "U8", {r.oc, r.blocks, r.bytes / r.blocks}, std::move(r.codes)},
            {n.scales, "U8", {r.oc, r.blocks}, std::move(r.scales)}};
  }
};

}  // namespace

std::unique_ptr<Target> block_target(std::unique_ptr<BlockFormat> f, Rounding rounding, std::uint64_t seed) {
  return std::make_unique<BlockTarget>(std::move(f), rounding, seed);
}

int json_int(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number_integer()) fail(fmt::format("no integer \"{}\"", key));
  const std::int64_t v = j[key].get<std::int64_t>();
  if (v < -(1 << 20) || v > (1 << 20)) fail(fmt::format("\"{}\" {} is out of range", key, v));
  return static_cast<int>(v);
}

std::string json_string(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) fail(fmt::format("no string \"{}\"", key));
  return j[key].get<std::string>();
}

std::string BlockLayout::describe() const { return fmt::format("{}, {} [{}, {}]", format->describe(), dtype, oc, ic); }

BlockLayout read_block_layout(const BlockFamily& family, const std::string& tensor, std::span<const std::uint8_t> json) {
  const auto bad = [&](const std::string& what) { fail(fmt::format("tensor '{}': {}", tensor, what)); };
  const nlohmann::json j = parse_strict_json(std::string_view(reinterpret_cast<const char*>(json.data()), json.size()), "the format JSON", 3, bad);
  if (!j.is_object() || !j.contains("format") || !j["format"].is_string()) bad("not a JSON object with a \"format\" string");
  BlockLayout l;
  try {
    l.format = family.name == kGseFamily.name ? gse_block_format(j) : mx_block_format(j);
  } catch (const Error& e) {
    bad(e.what());
  }
  const nlohmann::json& shape = j.contains("shape") ? j["shape"] : nlohmann::json();
  if (!shape.is_array() || shape.size() != 2 || !shape[0].is_number_unsigned() || !shape[1].is_number_unsigned())
    bad("\"shape\" is not [OC, IC]");
  l.oc = shape[0];
  l.ic = shape[1];
  const nlohmann::json& dtype = j.contains("dtype") ? j["dtype"] : nlohmann::json();
  if (!dtype.is_string() || (dtype != "float32" && dtype != "float16" && dtype != "bfloat16")) bad("\"dtype\" is not float32, float16 or bfloat16");
  l.dtype = dtype;
  // Every key is one the layout writes: a JSON of another version is refused, not misread.
  const nlohmann::json written = nlohmann::json::parse(layout_json(*l.format, l.oc, l.ic, l.dtype));
  for (const auto& [key, value] : j.items())
    if (!written.contains(key)) bad(fmt::format("unknown key \"{}\"", key));
  return l;
}

Decoded decode_blocks(std::span<const safetensors::Tensor> tensors, const Parallel& par) {
  const safetensors::Tensor& w = tensors.front();
  const BlockFamily* family = nullptr;
  const safetensors::Tensor* json = nullptr;
  for (const BlockFamily& f : kBlockFamilies)
    if ((json = find(tensors, format_name(w.name, f)))) {
      family = &f;
      break;
    }
  if (!json) fail(fmt::format("tensor '{}' has no '{}' or '{}'", w.name, format_name(w.name, kGseFamily), format_name(w.name, kMxFamily)));
  const BlockLayout l = read_block_layout(*family, json->name, json->bytes);
  const BlockFormat& f = *l.format;
  const std::uint64_t rb = row_bytes(f, l.ic), nb = row_blocks(f, l.ic);
  const char* dtype = f.signed_codes() && !f.nibbles() ? "I8" : "U8";
  if (w.dtype != dtype || w.shape != std::vector{l.oc, rb})
    fail(fmt::format("tensor '{}' is {} [{}], not the {} [{}, {}] of {} codes of [{}, {}]", w.name, w.dtype, fmt::join(w.shape, ", "), dtype, l.oc,
                     rb, f.name(), l.oc, l.ic));
  const std::string sname = scales_name(w.name, *family);
  const safetensors::Tensor* s = find(tensors, sname);
  if (!s) fail(fmt::format("tensor '{}' has no '{}'", w.name, sname));
  if (s->dtype != "U8" || s->shape != std::vector{l.oc, nb})
    fail(fmt::format("tensor '{}' is {} [{}], not U8 [{}, {}]", s->name, s->dtype, fmt::join(s->shape, ", "), l.oc, nb));
  std::vector<float> values(l.oc * l.ic);
  each_rows(l.oc, l.ic, par, [&](std::uint64_t first, std::uint64_t rows) {
    std::vector<std::uint8_t> unpacked(f.nibbles() ? l.ic : 0);
    for (std::uint64_t r = first; r < first + rows; ++r) {
      const std::span<const std::uint8_t> codes = std::span(w.bytes).subspan(r * rb, rb);
      if (f.nibbles()) unpack_nibbles(codes, f.signed_codes(), unpacked);
      try {
        f.decode(f.nibbles() ? std::span<const std::uint8_t>(unpacked) : codes, std::span(s->bytes).subspan(r * nb, nb),
                 std::span(values).subspan(r * l.ic, l.ic));
      } catch (const Error& e) {
        fail(fmt::format("tensor '{}' row {}: {}", w.name, r, e.what()));
      }
    }
  });
  return {w.name, {l.oc, l.ic}, std::move(values), l.dtype};
}

// gpt-oss's MXFP4 as openai/gpt-oss's Checkpoint._get_mxfp4_tensor reads it: 32 E2M1 codes in each row of
// 16 bytes of <w>.blocks (element 2k in the low nibble of byte k), scaled by 2^(<w>.scales - 127); lowbit's
// MXFP4 decoder, which differs only at scale 0xFF (E8M0's NaN; gpt-oss's ldexp gives 2^128 times the element).
Decoded decode_gptoss(std::span<const safetensors::Tensor> tensors, const Parallel& par) {
  const safetensors::Tensor& b = tensors.front();
  const std::optional<names::gptoss::Names> n = names::gptoss::of_blocks(b.name);
  const safetensors::Tensor* s = n ? find(tensors, n->scales) : nullptr;
  if (!s) fail(fmt::format("tensor '{}' has no gpt-oss scales", b.name));
  if (b.dtype != "U8" || b.shape.size() < 2 || b.shape.back() != 16 || s->dtype != "U8" ||
      s->shape != std::vector(b.shape.begin(), b.shape.end() - 1))
    fail(fmt::format("tensors '{}' {} [{}] and '{}' {} [{}] are not gpt-oss's blocks [..., G, 16] and scales [..., G]", b.name, b.dtype,
                     fmt::join(b.shape, ", "), s->name, s->dtype, fmt::join(s->shape, ", ")));
  std::vector<std::uint64_t> shape = s->shape;
  shape.back() *= 32;
  const std::uint64_t ic = shape.back(), oc = s->bytes.size() * 32 / ic;
  std::vector<float> values(oc * ic);
  mx::Options o;
  o.format = mx::Format::fp4_e2m1;
  each_rows(oc, ic, par, [&](std::uint64_t first, std::uint64_t rows) {
    std::vector<std::uint8_t> codes(ic);
    for (std::uint64_t r = first; r < first + rows; ++r) {
      unpack_nibbles(std::span(b.bytes).subspan(r * ic / 2, ic / 2), false, codes);
      mx::decode(codes, std::span(s->bytes).subspan(r * ic / 32, ic / 32), std::span(values).subspan(r * ic, ic), o);
    }
  });
  return {n->weight, shape, std::move(values), "bfloat16"};
}

}  // namespace lowbit::io::model::detail

namespace lowbit::io::model {

std::unique_ptr<Target> gptoss_target(Rounding rounding, std::uint64_t seed) { return std::make_unique<detail::GptossTarget>(rounding, seed); }

}  // namespace lowbit::io::model
