// bitsandbytes' Linear4bit checkpoint layout (QuantState.as_dict(packed=True) / from_dict, as
// Hugging Face checkpoints hold it in .safetensors). Under a tensor prefix P (default "weight"):
//
//   P                                   U8  [(n+1)/2, 1]   packed 4-bit codes, first element high nibble
//   P.absmax                            F32 [nb]           per-block absmax          (not nested)
//                                       U8  [nb]           8-bit codes of absmax - offset (nested)
//   P.quant_map                         F32 [16]           the 4-bit code table (NF4 or bnb FP4)
//   P.nested_absmax                     F32 [nb2]          nested only: absmax of each nested block
//   P.nested_quant_map                  F32 [256]          nested only: the 8-bit (dynamic) map
//   P.quant_state.bitsandbytes__<type>  U8  [len]          UTF-8 JSON of the non-tensor fields
//
// with n = product(shape), nb = ceil(n / blocksize), nb2 = ceil(nb / nested_blocksize). The JSON is
// byte for byte what Python's json.dumps writes for the dict as_dict builds: keys in the order
// quant_type, blocksize, dtype, shape [, nested_blocksize, nested_dtype, nested_offset], separators
// ", " and ": ", nested_offset as Python's repr of the double holding the fp32 offset
// (python_float_repr below). Readers use the stored quant_map and nested_quant_map.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lowbit/io/safetensors.hpp"
#include "lowbit/nf4.hpp"

namespace lowbit::io::bnb {

// Double quantization of the absmax values (compress_statistics=True).
struct Bnb4bitNested {
  std::vector<std::uint8_t> codes;   // P.absmax as U8: 8-bit codes of absmax - offset, one per block
  std::vector<float> nested_absmax;  // one per nested block
  std::vector<float> nested_map;     // 256 entries (bitsandbytes' signed dynamic map)
  std::uint64_t nested_blocksize = 256;
  std::string nested_dtype = "float32";
  float offset = 0.0f;  // added after dequantizing the codes

  bool operator==(const Bnb4bitNested&) const = default;
};

struct Bnb4bitState {
  std::string quant_type = "nf4";  // "nf4" or "fp4"
  std::uint64_t blocksize = 64;
  std::string dtype = "float32";      // torch dtype name of the original tensor, without "torch."
  std::vector<std::uint64_t> shape;   // the original tensor's shape
  std::vector<std::uint8_t> packed;   // (n+1)/2 bytes
  std::vector<float> absmax;          // nb values; empty when nested
  std::optional<Bnb4bitNested> nested;
  std::vector<float> quant_map;       // 16 entries

  std::uint64_t elements() const;  // product of shape; throws on overflow
  bool operator==(const Bnb4bitState&) const = default;  // floats compared by value (use bits in tests)
};

// The non-tensor fields, i.e. the payload of P.quant_state.bitsandbytes__<type>.
struct QuantStateJson {
  std::string quant_type = "nf4";
  std::uint64_t blocksize = 64;
  std::string dtype = "float32";
  std::vector<std::uint64_t> shape;
  struct Nested {
    std::uint64_t blocksize = 256;
    std::string dtype = "float32";
    float offset = 0.0f;
  };
  std::optional<Nested> nested;
};

// Python's repr(float(x)) (what json.dumps writes): the shortest digits that round-trip the double;
// positional notation with at least one fractional digit ("129.625", "2.0") when the decimal
// exponent e of the leading digit satisfies -4 <= e < 16, else "d[.ddd]e[+-]XX" with at least two
// exponent digits ("1e-05", "1e+16", "1.5e+300"); "-0.0"; json.dumps' "NaN", "Infinity", "-Infinity".
std::string python_float_repr(double x);

// Exactly the bytes json.dumps writes. Throws lowbit::Error when a string field is not a
// plain identifier (so that no escaping question arises) or quant_type is not nf4/fp4.
std::string encode_quant_state_json(const QuantStateJson& q);
// Accepts any key order and whitespace (json.loads does); NaN/Infinity/-Infinity as json.dumps
// writes them. Throws lowbit::Error (Errc::data) naming the field for anything else (and for
// arrays or objects nested deeper than 128 levels).
QuantStateJson decode_quant_state_json(std::string_view json);

QuantStateJson quant_state_json(const Bnb4bitState& s);

// Checks every size against shape/blocksize (lowbit::Error naming the tensor) and returns the
// tensors in the order of the table above; prefix must not be empty.
std::vector<safetensors::Tensor> to_tensors(const Bnb4bitState& s, std::string_view prefix = "weight");
// Reads the tensors named prefix and prefix + ".<field>"; tensors outside the prefix are ignored,
// an unknown prefix + "." field is an error (Errc::data). Checks what to_tensors checks, and that
// the quant_state JSON agrees with the tensors (type suffix, nested or not).
Bnb4bitState from_tensors(std::span<const safetensors::Tensor> tensors, std::string_view prefix = "weight");

// ---- the state of lowbit::nf4 data, in one call ------------------------------------------------------

// The Linear4bit state of a weight `in` of `shape` (the product of shape is in.size(); a 2-D
// [OC, IC] weight is what bitsandbytes stores for a layer): nf4::encode with o (its table gives
// quant_type and quant_map, its block the blocksize), then, with `dq`, nf4::double_quantize of
// the absmax with o's profile. dtype "float32".
Bnb4bitState encode(std::span<const float> in, std::vector<std::uint64_t> shape, const nf4::Options& o = {},
                    const std::optional<nf4::DoubleQuantOptions>& dq = std::nullopt);

// encode's second half: the state of codes `e` that nf4::encode computed with o.
Bnb4bitState state(nf4::Encoded e, std::vector<std::uint64_t> shape, const nf4::Options& o = {},
                   const std::optional<nf4::DoubleQuantOptions>& dq = std::nullopt);

// The weight a state holds, product(shape) values (nested absmax double dequantized with the
// stored map first). The quant_map must be bitsandbytes' table of quant_type and the blocksize one
// nf4 supports (Errc::unsupported otherwise). Decoding is the same for every nf4 profile.
std::vector<float> decode(const Bnb4bitState& s);

// The nested state of double quantized absmax values, and back (nested_dtype "float32").
Bnb4bitNested nested(const nf4::DoubleQuantized& q);
nf4::DoubleQuantized double_quantized(const Bnb4bitNested& n);

}  // namespace lowbit::io::bnb
