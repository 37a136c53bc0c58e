#include "lowbit/reference/packing.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "lowbit/error.hpp"

namespace lowbit::ref {
namespace {

// One group at a time: its lcm(W, 8) bits (at most 24) as a little-endian word, code j of the group
// at bit j*W. The last group may be partial: its k codes fill ceil(k*W / 8) bytes. The whole groups
// have compile-time sizes, so their loops unroll.
template <unsigned W> struct Groups {
  static constexpr std::size_t kCodes = fp8::packing_of_width(W).codes_per_group;
  static constexpr std::size_t kBytes = fp8::packing_of_width(W).bytes_per_group;

  // k codes (a whole group, or the last, partial one) -> ceil(k*W / 8) bytes.
  static void put(const std::uint8_t* codes, std::size_t k, std::uint8_t* out) {
    std::uint32_t word = 0;
    for (std::size_t j = 0; j < k; ++j) word |= std::uint32_t{codes[j]} << (j * W);
    for (std::size_t b = 0; b < ceil_div(k * W, 8); ++b) out[b] = static_cast<std::uint8_t>(word >> (8 * b));
  }
  // The inverse; false when a padding bit (past code k-1, in the last byte) is set.
  static bool get(const std::uint8_t* in, std::size_t k, std::uint8_t* codes) {
    std::uint32_t word = 0;
    for (std::size_t b = 0; b < ceil_div(k * W, 8); ++b) word |= std::uint32_t{in[b]} << (8 * b);
    for (std::size_t j = 0; j < k; ++j) codes[j] = static_cast<std::uint8_t>((word >> (j * W)) & ((1u << W) - 1));
    return (word >> (k * W)) == 0;
  }

  static void pack(std::size_t n, const std::uint8_t* codes, std::uint8_t* out) {
    const std::size_t whole = n / kCodes;
    for (std::size_t g = 0; g < whole; ++g) put(codes + g * kCodes, kCodes, out + g * kBytes);
    if (n % kCodes) put(codes + whole * kCodes, n % kCodes, out + whole * kBytes);
  }
  static void unpack(std::size_t n, const std::uint8_t* in, std::uint8_t* codes) {
    const std::size_t whole = n / kCodes;
    for (std::size_t g = 0; g < whole; ++g) get(in + g * kBytes, kCodes, codes + g * kCodes);  // no padding
    const std::size_t k = n % kCodes, last = whole * kBytes + ceil_div(k * W, 8) - 1;
    if (k && !get(in + whole * kBytes, k, codes + whole * kCodes))
      throw Error(fmt::format("the padding bits of byte {} are not zero (0x{:02x})", last, in[last]), Errc::data);
  }
};

template <class F> void with_width(fp8::Format f, F run) {
  switch (traits(f).width()) {
    case 4: return run(Groups<4>{});
    case 6: return run(Groups<6>{});
    default: return run(Groups<8>{});
  }
}

}  // namespace

void fp8_pack(std::size_t n, const std::uint8_t* codes, std::uint8_t* out, fp8::Format f) {
  const int w = traits(f).width();
  std::uint8_t any = 0;  // every code's bits OR-ed: one test for the whole input
  for (std::size_t i = 0; i < n; ++i) any |= codes[i];
  if (any >> w) {
    const std::size_t i = static_cast<std::size_t>(std::find_if(codes, codes + n, [w](std::uint8_t c) { return c >> w; }) - codes);
    throw Error(fmt::format("code {} is 0x{:02x}: not a {}-bit {} code", i, codes[i], w, traits(f).name), Errc::data);
  }
  with_width(f, [&](auto g) { g.pack(n, codes, out); });
}

void fp8_unpack(std::size_t n, const std::uint8_t* in, std::uint8_t* codes, fp8::Format f) {
  with_width(f, [&](auto g) { g.unpack(n, in, codes); });
}

}  // namespace lowbit::ref
