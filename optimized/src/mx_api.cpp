#include <fmt/format.h>

#include <algorithm>

#include "checks.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/mx.hpp"

namespace lowbit::mx {
namespace {

using detail::check_size;


EncodeFn encode_fn(const Impl& impl) { return impl.encode_f32 ? impl.encode_f32 : kernels::reference<Impl>().encode_f32; }
DecodeFn decode_fn(const Impl& impl) { return impl.decode_f32 ? impl.decode_f32 : kernels::reference<Impl>().decode_f32; }

// Codes outside the element's width (FP6: 6 bits, FP4: 4 bits) are not codes of the format. One pass that
// the compiler vectorizes ORs them together (a byte-at-a-time test cost as much as the SIMD decoding); the
// first such code is looked for only when there is one.
void check_codes(std::span<const std::uint8_t> codes, Format f) {
  if (f == Format::int8) return;
  const unsigned width = static_cast<unsigned>(traits(f).element.total_bits());
  if (width == 8) return;
  const std::uint8_t unused = static_cast<std::uint8_t>(0xFFu << width);
  std::uint8_t all = 0;
  for (const std::uint8_t c : codes) all |= c;
  if (!(all & unused)) return;
  const auto bad = std::find_if(codes.begin(), codes.end(), [unused](std::uint8_t c) { return (c & unused) != 0; });
  throw Error(fmt::format("code 0x{:02x} at element {} has bits above the {}-bit element", *bad, bad - codes.begin(), width),
              Errc::data);
}

}  // namespace

std::size_t blocks(std::size_t n) { return ceil_div(n, static_cast<std::size_t>(kBlock)); }

BlockStats encode(std::span<const float> in, std::span<std::uint8_t> codes, std::span<std::uint8_t> scales,
                  const Options& o) {
  check_size("codes", codes.size(), in.size());
  check_size("scales", scales.size(), blocks(in.size()));
  detail::check_rounding("MX", o.rounding);
  const EncodeParams p{o.format, o.rounding, o.seed, o.index0};
  BlockStats stats;
  encode_fn(detail::impl_of(o.impl))(in.size(), in.data(), codes.data(), scales.data(), &p, &stats);
  return stats;
}

Encoded encode(std::span<const float> in, const Options& o) {
  Encoded e{std::vector<std::uint8_t>(in.size()), std::vector<std::uint8_t>(blocks(in.size())), {}};
  e.stats = encode(in, std::span(e.codes), std::span(e.scales), o);
  return e;
}

void decode(std::span<const std::uint8_t> codes, std::span<const std::uint8_t> scales, std::span<float> out,
            const Options& o) {
  check_size("output", out.size(), codes.size());
  check_size("scales", scales.size(), blocks(codes.size()));
  check_codes(codes, o.format);
  const DecodeParams p{o.format};
  decode_fn(detail::impl_of(o.impl))(codes.size(), codes.data(), scales.data(), out.data(), &p);
}

std::vector<float> decode(std::span<const std::uint8_t> codes, std::span<const std::uint8_t> scales, const Options& o) {
  std::vector<float> out(codes.size());
  decode(codes, scales, std::span(out), o);
  return out;
}

BlockStats quantize(std::span<const float> in, std::span<float> out, const Options& o) {
  check_size("output", out.size(), in.size());
  constexpr std::size_t kChunk = kBlock * 512;  // whole blocks: every block keeps its own scale
  std::vector<std::uint8_t> codes(std::min(in.size(), kChunk)), scales(blocks(codes.size()));
  BlockStats stats;
  Options part = o;
  for (std::size_t i = 0; i < in.size(); i += kChunk) {
    const std::size_t n = std::min(kChunk, in.size() - i), b = blocks(n);
    part.index0 = o.index0 + i;
    stats += encode(in.subspan(i, n), std::span(codes).first(n), std::span(scales).first(b), part);
    decode(std::span<const std::uint8_t>(codes).first(n), std::span<const std::uint8_t>(scales).first(b),
           out.subspan(i, n), part);
  }
  return stats;
}

std::vector<float> quantize(std::span<const float> in, const Options& o) {
  std::vector<float> out(in.size());
  quantize(in, std::span(out), o);
  return out;
}

}  // namespace lowbit::mx
