#include "lowbit/io/gse_file.hpp"

#include <fmt/format.h>

#include <cstring>

#include "lowbit/gse.hpp"

namespace lowbit::io {
namespace {

constexpr char kMagic[4] = {'L', 'B', 'G', 'S'};
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kHeader = 32;

template <class T> void put(std::vector<std::uint8_t>& out, std::size_t at, T v) {
  std::memcpy(out.data() + at, &v, sizeof v);  // little-endian targets only
}
[[noreturn]] void fail(const std::string& what) { throw Error(what, Errc::data); }

template <class T> T get(std::span<const std::uint8_t> in, std::size_t at) {
  T v;
  std::memcpy(&v, in.data() + at, sizeof v);
  return v;
}

}  // namespace

std::vector<std::uint8_t> write_gse(const GseFile& f) {
  const std::size_t payload = gse::packed_bytes(f.codes.size(), f.format);
  std::vector<std::uint8_t> out(kHeader + payload, 0);
  std::memcpy(out.data(), kMagic, 4);
  out[4] = kVersion;
  out[5] = static_cast<std::uint8_t>(f.format.bits);
  out[6] = static_cast<std::uint8_t>(f.format.exp_bits);
  out[7] = static_cast<std::uint8_t>((f.format.mantissa_overflow == gse::MantissaOverflow::bump ? 1 : 0) |
                                     (f.format.exponent_overflow == gse::ExponentOverflow::nan ? 2 : 0));
  put<std::uint16_t>(out, 8, static_cast<std::uint16_t>(f.format.group));
  put<std::uint16_t>(out, 10, static_cast<std::uint16_t>(f.format.exp_bias));
  put<std::int16_t>(out, 12, static_cast<std::int16_t>(f.format.exp_offset));
  out[14] = static_cast<std::uint8_t>(f.rounding);
  put<std::uint64_t>(out, 16, f.codes.size());
  put<std::uint64_t>(out, 24, f.seed);
  gse::pack(f.codes, f.exps, f.format, std::span(out).subspan(kHeader));
  return out;
}

GseFile read_gse(std::span<const std::uint8_t> in) {
  if (in.size() < kHeader || std::memcmp(in.data(), kMagic, 4) != 0)
    fail("not a .gse stream (no LBGS header)");
  if (in[4] != kVersion) fail(fmt::format(".gse version {} is not supported (this is version {})", in[4], kVersion));
  GseFile f;
  f.format.bits = in[5];
  f.format.exp_bits = in[6];
  if (in[7] & ~3u) fail(fmt::format(".gse header: unknown flags 0x{:02x}", in[7]));
  f.format.mantissa_overflow = in[7] & 1 ? gse::MantissaOverflow::bump : gse::MantissaOverflow::saturate;
  f.format.exponent_overflow = in[7] & 2 ? gse::ExponentOverflow::nan : gse::ExponentOverflow::saturate;
  f.format.group = get<std::uint16_t>(in, 8);
  f.format.exp_bias = get<std::uint16_t>(in, 10);
  f.format.exp_offset = get<std::int16_t>(in, 12);
  if (const auto error = validate(f.format)) fail(".gse header: " + *error);
  if (in[14] > static_cast<std::uint8_t>(Rounding::sr)) fail(fmt::format(".gse header: unknown rounding {}", in[14]));
  f.rounding = static_cast<Rounding>(in[14]);
  const std::uint64_t n = get<std::uint64_t>(in, 16);
  f.seed = get<std::uint64_t>(in, 24);
  const std::uint64_t max_n = (in.size() - kHeader) * 8 / static_cast<std::uint64_t>(f.format.bits);
  if (n > max_n || kHeader + gse::packed_bytes(n, f.format) != in.size())
    fail(fmt::format(".gse stream has {} payload bytes, but {} elements need {}", in.size() - kHeader, n,
                     n > max_n ? std::string("more") : std::to_string(gse::packed_bytes(n, f.format))));
  f.codes.resize(n);
  f.exps.resize(f.format.groups(n));
  try {
    gse::unpack(in.subspan(kHeader), f.format, f.codes, f.exps);
  } catch (const Error& e) {
    fail(std::string(".gse payload: ") + e.what());
  }
  return f;
}

}  // namespace lowbit::io
