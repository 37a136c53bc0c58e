// convert gse: GSE-INT codes and their shared exponent fields, in lowbit's block layout (convert_blocks.hpp).
#include <fmt/format.h>

#include "convert_blocks.hpp"
#include "lowbit/error.hpp"
#include "lowbit/gse.hpp"

namespace lowbit::io::model {
namespace {

const char* overflow_name(gse::MantissaOverflow m) { return m == gse::MantissaOverflow::bump ? "bump" : "saturate"; }
const char* overflow_name(gse::ExponentOverflow e) { return e == gse::ExponentOverflow::nan ? "nan" : "saturate"; }

class GseFormat final : public detail::BlockFormat {
 public:
  explicit GseFormat(const gse::Format& f) : f_(f) {
    if (const auto error = gse::validate(f)) throw Error("gse: " + *error, Errc::invalid);
  }

  const detail::BlockFamily& family() const override { return detail::kGseFamily; }
  std::string name() const override { return "gse"; }
  std::size_t block() const override { return static_cast<std::size_t>(f_.group); }
  bool nibbles() const override { return f_.bits == 4; }
  bool signed_codes() const override { return true; }

  void fields(nlohmann::ordered_json& j) const override {
    j["bits"] = f_.bits;
    j["group"] = f_.group;
    j["exp_bits"] = f_.exp_bits;
    j["exp_bias"] = f_.exp_bias;
    j["exp_offset"] = f_.exp_offset;
    j["mantissa_overflow"] = overflow_name(f_.mantissa_overflow);
    j["exponent_overflow"] = overflow_name(f_.exponent_overflow);
  }

  std::string describe() const override {
    return fmt::format("{}-bit codes, group {}, {}-bit exponents, bias {}, offset {}", f_.bits, f_.group, f_.exp_bits, f_.exp_bias,
                       f_.exp_offset);
  }

  void encode(std::span<const float> row, std::span<std::uint8_t> codes, std::span<std::uint8_t> exps, Rounding r, std::uint64_t key,
              std::uint64_t index0) const override {
    gse::encode(row, std::span(reinterpret_cast<std::int8_t*>(codes.data()), codes.size()), exps,
                detail::row_options<gse::Options>(f_, r, key, index0));
  }

  void decode(std::span<const std::uint8_t> codes, std::span<const std::uint8_t> exps, std::span<float> out) const override {
    gse::Options o;
    o.format = f_;
    gse::decode(std::span(reinterpret_cast<const std::int8_t*>(codes.data()), codes.size()), exps, out, o);
  }

 private:
  gse::Format f_;
};

}  // namespace

std::unique_ptr<detail::BlockFormat> detail::gse_block_format(const nlohmann::json& j) {
  if (json_string(j, "format") != "gse") throw Error(fmt::format("format \"{}\" is not gse", json_string(j, "format")), Errc::data);
  gse::Format f;
  f.bits = json_int(j, "bits");
  f.group = json_int(j, "group");
  f.exp_bits = json_int(j, "exp_bits");
  f.exp_bias = json_int(j, "exp_bias");
  f.exp_offset = json_int(j, "exp_offset");
  const std::string m = json_string(j, "mantissa_overflow"), e = json_string(j, "exponent_overflow");
  if (m != "saturate" && m != "bump") throw Error(fmt::format("mantissa_overflow \"{}\" is not saturate or bump", m), Errc::data);
  if (e != "saturate" && e != "nan") throw Error(fmt::format("exponent_overflow \"{}\" is not saturate or nan", e), Errc::data);
  f.mantissa_overflow = m == "bump" ? gse::MantissaOverflow::bump : gse::MantissaOverflow::saturate;
  f.exponent_overflow = e == "nan" ? gse::ExponentOverflow::nan : gse::ExponentOverflow::saturate;
  if (const auto error = gse::validate(f)) throw Error(*error, Errc::data);
  return std::make_unique<GseFormat>(f);
}

std::unique_ptr<Target> gse_target(const gse::Format& format, Rounding rounding, std::uint64_t seed) {
  return detail::block_target(std::make_unique<GseFormat>(format), rounding, seed);
}

}  // namespace lowbit::io::model
