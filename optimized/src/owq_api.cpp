#include <fmt/format.h>

#include <algorithm>

#include "checks.hpp"
#include "lowbit/owq.hpp"
#include "weak_api.hpp"

namespace lowbit::owq {

using detail::check_size;
using detail::copy_out;
using detail::product;

Packed encode(std::size_t oc, std::size_t ic, std::span<const float> w, std::span<const std::int32_t> weak_columns,
              const Options& o, std::vector<Clamp>* clamped) {
  return ref::owq_pack(weak::quantize_layer(weak::Layout::owq, oc, ic, w, weak_columns, o), clamped);
}

void decode(const Packed& p, std::span<float> out, const Options& o) {
  copy_out("output", ref::owq_dequantize(p, o.path), out);
}

std::vector<float> decode(const Packed& p, const Options& o) { return ref::owq_dequantize(p, o.path); }

void quantize(std::size_t oc, std::size_t ic, std::span<const float> w, std::span<const std::int32_t> weak_columns,
              std::span<float> out, const Options& o) {
  decode(encode(oc, ic, w, weak_columns, o), out, o);
}

std::vector<float> quantize(std::size_t oc, std::size_t ic, std::span<const float> w,
                            std::span<const std::int32_t> weak_columns, const Options& o) {
  return decode(encode(oc, ic, w, weak_columns, o), o);
}

void pack(std::size_t oc, std::size_t ic, std::span<const std::uint8_t> codes, std::span<std::int32_t> qweight,
          const Options& o) {
  copy_out("qweight", pack(oc, ic, codes, o), qweight);
}

std::vector<std::int32_t> pack(std::size_t oc, std::size_t ic, std::span<const std::uint8_t> codes, const Options& o) {
  check_size("codes", codes.size(), product("codes", oc, ic));
  const unsigned limit = o.bits == 3 || o.bits == 4 ? 1u << o.bits : 0;
  if (!limit) throw Error(fmt::format("OWQ stores 3 or 4 bits, not {}", o.bits));
  if (const auto bad = std::find_if(codes.begin(), codes.end(), [&](std::uint8_t c) { return c >= limit; }); bad != codes.end())
    throw Error(fmt::format("code {} at element {} is not a {}-bit code", *bad, bad - codes.begin(), o.bits), Errc::data);
  return ref::owq_pack_codes(codes, oc, ic, o.bits);
}

void unpack(std::size_t oc, std::size_t ic, std::span<const std::int32_t> qweight, std::span<std::uint8_t> codes,
            const Options& o) {
  copy_out("codes", unpack(oc, ic, qweight, o), codes);
}

std::vector<std::uint8_t> unpack(std::size_t oc, std::size_t ic, std::span<const std::int32_t> qweight, const Options& o) {
  product("codes", oc, ic);
  return ref::owq_unpack_codes(qweight, oc, ic, o.bits);
}

void validate(const Packed& p) { ref::owq_validate(p); }

}  // namespace lowbit::owq
