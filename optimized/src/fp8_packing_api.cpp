// fp8::pack / unpack: the size checks, then the reference (scalar; see lowbit/reference/packing.hpp).
#include <fmt/format.h>

#include "lowbit/fp8.hpp"
#include "lowbit/reference/packing.hpp"

namespace lowbit::fp8 {
namespace {

void check_packed(std::string_view what, std::size_t bytes, std::size_t n, Format format) {
  if (bytes != packed_size(format, n))
    throw Error(fmt::format("{} has {} bytes; {} packed {} codes take {}", what, bytes, n, traits(format).name,
                            packed_size(format, n)));
}

}  // namespace

void pack(std::span<const std::uint8_t> codes, std::span<std::uint8_t> out, Format format) {
  check_packed("output", out.size(), codes.size(), format);
  ref::fp8_pack(codes.size(), codes.data(), out.data(), format);
}

std::vector<std::uint8_t> pack(std::span<const std::uint8_t> codes, Format format) {
  std::vector<std::uint8_t> out(packed_size(format, codes.size()));
  pack(codes, std::span(out), format);
  return out;
}

void unpack(std::span<const std::uint8_t> in, std::span<std::uint8_t> codes, Format format) {
  check_packed("packed input", in.size(), codes.size(), format);
  ref::fp8_unpack(codes.size(), in.data(), codes.data(), format);
}

std::vector<std::uint8_t> unpack(std::span<const std::uint8_t> in, std::size_t n, Format format) {
  std::vector<std::uint8_t> codes(n);
  unpack(in, std::span(codes), format);
  return codes;
}

}  // namespace lowbit::fp8
