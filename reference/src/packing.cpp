#include "lowbit/reference/packing.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "require.hpp"

namespace lowbit::ref {
namespace {

// Where bit b of code i lies: group i / codes_per_group starts at byte group * bytes_per_group, and
// the code at bit (i % codes_per_group) * w of the group (counted per group: never wraps).
struct BitPos {
  std::size_t byte;
  unsigned bit;
};
BitPos position(const fp8::Packing& p, std::size_t i, int b) {
  const std::size_t group = i / static_cast<std::size_t>(p.codes_per_group);
  const unsigned k = static_cast<unsigned>(i % static_cast<std::size_t>(p.codes_per_group) * p.bits + b);
  return {group * p.bytes_per_group + k / 8, k % 8};
}

}  // namespace

void fp8_pack(std::size_t n, const std::uint8_t* codes, std::uint8_t* out, fp8::Format f) {
  const fp8::Packing p = fp8::packing(f);
  std::fill_n(out, fp8::packed_size(f, n), std::uint8_t{0});
  for (std::size_t i = 0; i < n; ++i) {
    require(codes[i] >> p.bits == 0,
            fmt::format("code {} is 0x{:02x}: not a {}-bit {} code", i, codes[i], p.bits, traits(f).name), Errc::data);
    for (int b = 0; b < p.bits; ++b) {
      const BitPos at = position(p, i, b);
      out[at.byte] = static_cast<std::uint8_t>(out[at.byte] | ((codes[i] >> b) & 1u) << at.bit);
    }
  }
}

void fp8_unpack(std::size_t n, const std::uint8_t* in, std::uint8_t* codes, fp8::Format f) {
  const fp8::Packing p = fp8::packing(f);
  for (std::size_t i = 0; i < n; ++i) {
    unsigned c = 0;
    for (int b = 0; b < p.bits; ++b) {
      const BitPos at = position(p, i, b);
      c |= ((in[at.byte] >> at.bit) & 1u) << b;
    }
    codes[i] = static_cast<std::uint8_t>(c);
  }
  // The padding: the bits of the last byte past code n-1, which a partial group leaves.
  if (const std::size_t bytes = fp8::packed_size(f, n); n % static_cast<std::size_t>(p.codes_per_group)) {
    const BitPos end = position(p, n - 1, p.bits - 1);
    require(in[bytes - 1] >> end.bit >> 1 == 0,
            fmt::format("the padding bits of byte {} are not zero (0x{:02x})", bytes - 1, in[bytes - 1]), Errc::data);
  }
}

}  // namespace lowbit::ref
