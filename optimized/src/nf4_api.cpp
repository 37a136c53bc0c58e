#include <fmt/format.h>

#include <algorithm>

#include "lowbit/kernels.hpp"
#include "lowbit/nf4.hpp"

namespace lowbit::nf4 {
namespace {

void check_size(std::string_view what, std::size_t got, std::size_t want) {
  if (got != want) throw Error(fmt::format("{} has {} elements, expected {}", what, got, want));
}

const Impl& impl_of(const Options& o) { return o.impl ? *o.impl : kernels::best<Impl>(); }

}  // namespace

const Profile& profile(std::string_view name) {
  if (const Profile* p = find_profile(name)) return *p;
  std::string names;
  for (const Profile& p : kProfiles) names += fmt::format("{}{}", names.empty() ? "" : ", ", p.name);
  throw Error(fmt::format("unknown NF4 profile '{}' (valid: {})", name, names));
}

Params params(const Options& o) {
  if (!valid_block(o.block)) throw Error(fmt::format("block must be a power of two in 32..4096, got {}", o.block));
  if (o.table != Table::nf4 && o.table != Table::fp4) throw Error("table must be nf4 or fp4");
  return make_params(o.table, o.profile, o.block);
}

void encode(std::span<const float> in, std::span<std::uint8_t> packed, std::span<float> absmax, const Options& o) {
  const Params p = params(o);
  check_size("packed", packed.size(), packed_bytes(in.size()));
  check_size("absmax", absmax.size(), blocks(in.size(), o.block));
  impl_of(o).encode(in.size(), in.data(), packed.data(), absmax.data(), &p);
}

Encoded encode(std::span<const float> in, const Options& o) {
  params(o);
  Encoded e{std::vector<std::uint8_t>(packed_bytes(in.size())), std::vector<float>(blocks(in.size(), o.block))};
  encode(in, std::span(e.packed), std::span(e.absmax), o);
  return e;
}

void decode(std::span<const std::uint8_t> packed, std::span<const float> absmax, std::span<float> out,
            const Options& o) {
  const Params p = params(o);
  check_size("packed", packed.size(), packed_bytes(out.size()));
  check_size("absmax", absmax.size(), blocks(out.size(), o.block));
  impl_of(o).decode(out.size(), packed.data(), absmax.data(), out.data(), &p);
}

std::vector<float> decode(std::span<const std::uint8_t> packed, std::span<const float> absmax, std::size_t n,
                          const Options& o) {
  params(o);
  check_size("packed", packed.size(), packed_bytes(n));
  std::vector<float> out(n);
  decode(packed, absmax, std::span(out), o);
  return out;
}

// Whole blocks at a time, so that every block keeps its own absmax; in and out may alias.
void quantize(std::span<const float> in, std::span<float> out, const Options& o) {
  const Params p = params(o);
  check_size("output", out.size(), in.size());
  const std::size_t chunk = static_cast<std::size_t>(o.block) * 256;  // even: whole bytes
  std::vector<std::uint8_t> packed(packed_bytes(std::min(in.size(), chunk)));
  std::vector<float> absmax(blocks(std::min(in.size(), chunk), o.block));
  const Impl& impl = impl_of(o);
  for (std::size_t i = 0; i < in.size(); i += chunk) {
    const std::size_t n = std::min(chunk, in.size() - i);
    // Only the stream's last block may be partial, and the torch profiles treat it apart: a chunk
    // boundary falls on a block boundary, and a chunk is never shorter than a block but at the end.
    impl.encode(n, in.data() + i, packed.data(), absmax.data(), &p);
    impl.decode(n, packed.data(), absmax.data(), out.data() + i, &p);
  }
}

std::vector<float> quantize(std::span<const float> in, const Options& o) {
  std::vector<float> out(in.size());
  quantize(in, std::span(out), o);
  return out;
}

}  // namespace lowbit::nf4
