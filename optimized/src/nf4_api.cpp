#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "checks.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/nf4.hpp"
#include "lowbit/reference/nf4.hpp"
#include "lowbit/reference/torch_ops.hpp"

namespace lowbit::nf4 {
namespace {

using detail::check_size;


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
  detail::impl_of(o.impl).encode(in.size(), in.data(), packed.data(), absmax.data(), &p);
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
  detail::impl_of(o.impl).decode(out.size(), packed.data(), absmax.data(), out.data(), &p);
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
  const Impl& impl = detail::impl_of(o.impl);
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

DynamicMap dynamic_map(int lanes, bool fused) {
  if (lanes < 1) throw Error(fmt::format("dynamic_map: lanes must be at least 1, not {}", lanes));
  return ref::bnb_dynamic_map(lanes, fused);
}

DoubleQuantized double_quantize(std::span<const float> absmax, const Options& o, const DoubleQuantOptions& dq) {
  const DynamicMap map = dq.map ? *dq.map : dynamic_map();
  if (!ref::valid_dynamic_map(map)) throw Error("the double quantization map is not finite, within [-1, 1] and non-decreasing");
  if (dq.offset && !std::isfinite(*dq.offset)) throw Error(fmt::format("the double quantization offset {} is not finite", *dq.offset));
  const NestedFn nested = detail::impl_of(o.impl).nested;
  if (o.profile.nested != Nested::exact_nearest_even || !nested) return ref::nf4_double_quantize(absmax, o.profile.nested, map, dq.offset);
  // The lowbit profile's: the reference's exact search is a multiprecision one, the kernels' are not.
  DoubleQuantized r{dq.offset ? *dq.offset : ref::torch_mean_f32(absmax), std::vector<std::uint8_t>(absmax.size()),
                    std::vector<float>(blocks(absmax.size(), kNestedBlock)), map, kNestedBlock};
  nested(absmax.size(), absmax.data(), r.offset, map.data(), r.codes.data(), r.nested_absmax.data());
  return r;
}

void double_dequantize(const DoubleQuantized& q, std::span<float> absmax) {
  if (q.nested_block != kNestedBlock)
    throw Error(fmt::format("nested block {} is not supported (bitsandbytes uses {})", q.nested_block, kNestedBlock),
                Errc::unsupported);
  if (!ref::valid_dynamic_map(q.map)) throw Error("the double quantization map is not finite, within [-1, 1] and non-decreasing");
  check_size("absmax", absmax.size(), q.codes.size());
  check_size("nested_absmax", q.nested_absmax.size(), blocks(q.codes.size(), kNestedBlock));
  ref::nf4_double_dequantize(q.codes, q.nested_absmax, q.offset, q.map, absmax);
}

std::vector<float> double_dequantize(const DoubleQuantized& q) {
  std::vector<float> absmax(q.codes.size());
  double_dequantize(q, std::span(absmax));
  return absmax;
}

}  // namespace lowbit::nf4
