// The layout GSE and MX weights share (docs/checkpoints.md, "GSE and MX layouts"): codes of [OC, IC]
// in blocks along each row, one scale byte per block, and a JSON companion naming the format. A
// BlockFormat is one family's row codec; the target, the decoder and recognise() are written once
// over it (convert_blocks.cpp).
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "lowbit/io/convert.hpp"

namespace lowbit::io::model::detail {

// The names of a family's companions: <w>.<family>_<scales> and <w>.<family>_format.
struct BlockFamily {
  std::string_view name, scales;
};
inline constexpr BlockFamily kGseFamily{"gse", "exponents"}, kMxFamily{"mx", "scales"};
inline constexpr BlockFamily kBlockFamilies[] = {kGseFamily, kMxFamily};

inline std::string companion_name(const std::string& w, const BlockFamily& f, std::string_view what) {
  return w + "." + std::string(f.name) + "_" + std::string(what);
}
inline std::string scales_name(const std::string& w, const BlockFamily& f) { return companion_name(w, f, f.scales); }
inline std::string format_name(const std::string& w, const BlockFamily& f) { return companion_name(w, f, "format"); }

// One row of a weight <-> its codes (one a byte) and scale bytes.
class BlockFormat {
 public:
  virtual ~BlockFormat() = default;
  virtual const BlockFamily& family() const = 0;
  virtual std::string name() const = 0;       // as recognise() names it: "gse", "mxfp4-e2m1"
  virtual std::size_t block() const = 0;      // elements per scale byte
  virtual bool nibbles() const = 0;           // 4-bit codes, stored two a byte
  virtual bool signed_codes() const = 0;      // two's complement: I8 (or sign-extended nibbles)
  virtual void fields(nlohmann::ordered_json& j) const = 0;  // the format's keys of the JSON companion
  virtual std::string describe() const = 0;   // for inspect: "block 32, E8M0 scales"
  // sr draws from Philox(key) at stream index index0 + column.
  virtual void encode(std::span<const float> row, std::span<std::uint8_t> codes, std::span<std::uint8_t> scales, Rounding r,
                      std::uint64_t key, std::uint64_t index0) const = 0;
  virtual void decode(std::span<const std::uint8_t> codes, std::span<const std::uint8_t> scales, std::span<float> out) const = 0;
};

// The integer or string `key` of the JSON companion's object; Errc::data naming it when missing.
int json_int(const nlohmann::json& j, const char* key);
std::string json_string(const nlohmann::json& j, const char* key);

// A row's encode options (gse::Options, mx::Options): sr draws from Philox(key) at index0 + column.
template <class Options, class Format> Options row_options(const Format& f, Rounding r, std::uint64_t key, std::uint64_t index0) {
  Options o;
  o.format = f;
  o.rounding = r;
  o.seed = key;
  o.index0 = index0;
  return o;
}

// From the JSON companion's object (its "format" and the family's keys); Errc::data naming what is wrong.
std::unique_ptr<BlockFormat> gse_block_format(const nlohmann::json& j);
std::unique_ptr<BlockFormat> mx_block_format(const nlohmann::json& j);
std::unique_ptr<BlockFormat> mx_row_format(mx::Format f);

// What the JSON companion records.
struct BlockLayout {
  std::unique_ptr<BlockFormat> format;
  std::uint64_t oc = 0, ic = 0;
  std::string dtype;  // the source's torch dtype
  std::string describe() const;
};
// The companion `tensor` of `family` holding `json`; Errc::data naming the tensor when it is not one.
BlockLayout read_block_layout(const BlockFamily& family, const std::string& tensor, std::span<const std::uint8_t> json);

// Its options (__metadata__ "lowbit.<key>", and lowbit's quantization_config) are the format's keys of
// the JSON companion, the rounding and, for sr, the seed.
std::unique_ptr<Target> block_target(std::unique_ptr<BlockFormat> f, Rounding rounding, std::uint64_t seed);

}  // namespace lowbit::io::model::detail
