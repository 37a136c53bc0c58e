#include <fmt/format.h>

#include "lowbit/kernels.hpp"
#include "lowbit/nf4.hpp"

namespace lowbit::nf4 {
namespace {

void check_size(std::string_view what, std::size_t got, std::size_t want) {
  if (got != want) throw Error(fmt::format("{} has {} elements, expected {}", what, got, want));
}

}  // namespace

Nf4Params params(const Options& o) {
  const Nf4Profile* p = find_nf4_profile(o.profile);
  if (!p) throw Error(fmt::format("unknown NF4 profile '{}' (valid: lowbit, bnb-cuda, bnb-cpu, bnb-torch)", o.profile));
  if (!valid_nf4_block(o.block)) throw Error(fmt::format("block must be a power of two in 32..4096, got {}", o.block));
  return make_nf4_params(o.table, *p, o.block);
}

void quantize(std::span<const float> in, std::span<std::uint8_t> packed, std::span<float> absmax, const Options& o) {
  const Nf4Params p = params(o);
  check_size("packed", packed.size(), nf4_packed_bytes(in.size()));
  check_size("absmax", absmax.size(), nf4_blocks(in.size(), o.block));
  (o.impl ? *o.impl : nf4_best()).quantize(in.size(), in.data(), packed.data(), absmax.data(), &p);
}

void dequantize(std::span<const std::uint8_t> packed, std::span<const float> absmax, std::span<float> out,
                const Options& o) {
  const Nf4Params p = params(o);
  check_size("packed", packed.size(), nf4_packed_bytes(out.size()));
  check_size("absmax", absmax.size(), nf4_blocks(out.size(), o.block));
  (o.impl ? *o.impl : nf4_best()).dequantize(out.size(), packed.data(), absmax.data(), out.data(), &p);
}

}  // namespace lowbit::nf4
