// convert mxint8|mxfp8-*|mxfp6-*|mxfp4-e2m1: OCP MX element codes and their E8M0 scales, in lowbit's
// block layout (convert_blocks.hpp).
#include <fmt/format.h>

#include "convert_blocks.hpp"
#include "lowbit/error.hpp"
#include "lowbit/mx.hpp"

namespace lowbit::io::model {
namespace {

class MxFormat final : public detail::BlockFormat {
 public:
  explicit MxFormat(mx::Format f) : f_(f) {}

  const detail::BlockFamily& family() const override { return detail::kMxFamily; }
  std::string name() const override { return std::string(traits(f_).name); }
  std::size_t block() const override { return mx::kBlock; }
  bool nibbles() const override { return f_ == mx::Format::fp4_e2m1; }
  bool signed_codes() const override { return f_ == mx::Format::int8; }
  void fields(nlohmann::ordered_json& j) const override { j["block"] = mx::kBlock; }
  std::string describe() const override { return fmt::format("block {}, E8M0 scales", mx::kBlock); }

  void encode(std::span<const float> row, std::span<std::uint8_t> codes, std::span<std::uint8_t> scales, Rounding r, std::uint64_t key,
              std::uint64_t index0) const override {
    mx::encode(row, codes, scales, detail::row_options<mx::Options>(f_, r, key, index0));
  }

  void decode(std::span<const std::uint8_t> codes, std::span<const std::uint8_t> scales, std::span<float> out) const override {
    mx::Options o;
    o.format = f_;
    mx::decode(codes, scales, out, o);
  }

 private:
  mx::Format f_;
};

}  // namespace

std::unique_ptr<detail::BlockFormat> detail::mx_block_format(const nlohmann::json& j) {
  const std::string name = json_string(j, "format");
  const std::optional<mx::Format> f = mx::parse_format(name);
  if (!f) throw Error(fmt::format("format \"{}\" is not an MX format", name), Errc::data);
  if (json_int(j, "block") != mx::kBlock) throw Error(fmt::format("block {} is not MX's {}", json_int(j, "block"), mx::kBlock), Errc::data);
  return mx_row_format(*f);
}

std::unique_ptr<detail::BlockFormat> detail::mx_row_format(mx::Format f) { return std::make_unique<MxFormat>(f); }

std::unique_ptr<Target> mx_target(mx::Format format, Rounding rounding, std::uint64_t seed) {
  return detail::block_target(detail::mx_row_format(format), rounding, seed);
}

}  // namespace lowbit::io::model
