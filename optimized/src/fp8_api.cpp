#include <fmt/format.h>

#include <algorithm>

#include "checks.hpp"
#include "lowbit/fp8.hpp"
#include "lowbit/kernels.hpp"

namespace lowbit::fp8 {

const Profile& profile(std::string_view name) {
  if (const Profile* p = find_profile(name)) return *p;
  std::string names;
  for (const Profile& p : kProfiles) names += fmt::format("{}{}", names.empty() ? "" : ", ", p.name);
  throw Error(fmt::format("unknown FP8 profile '{}' (valid: {})", name, names));
}

const Profile& profile_for(const Profile& p, Format format) {
  if (const Profile* r = resolve_profile(p, format)) return *r;
  std::string names;
  for (const Profile& q : kProfiles)
    if (applies(q, format)) names += fmt::format("{}{}", names.empty() ? "" : ", ", q.name);
  throw Error(fmt::format("profile '{}' does not apply to {} (its profiles: {})", p.name, traits(format).name, names));
}

namespace {

const Profile& resolved_profile(const Options& o) { return profile_for(o.profile, o.format); }

template <class In>
void encode_any(std::span<const In> in, std::span<std::uint8_t> out, const Options& o) {
  detail::check_size("output", out.size(), in.size());
  EncodeParams p = encode_params(o.format, resolved_profile(o), FloatTraits<In>::type, o.rounding, o.seed);
  p.index0 = o.index0;
  p.random_bits = detail::given_random_bits(o.random_bits, o.rounding, in.size());
  encode_kernel<In>(detail::impl_of(o.impl))(in.size(), in.data(), out.data(), &p);
}

template <class Out>
void decode_any(std::span<const std::uint8_t> in, std::span<Out> out, const Options& o) {
  detail::check_size("output", out.size(), in.size());
  // A sub-byte code sits in the low bits of its byte: a byte with higher bits set is no code.
  const int width = traits(o.format).width();
  if (const auto bad = std::find_if(in.begin(), in.end(), [&](std::uint8_t c) { return c >> width; }); width < 8 && bad != in.end())
    throw Error(fmt::format("byte 0x{:02x} at index {} is no {} code: it has bits above the low {}", *bad, bad - in.begin(),
                            traits(o.format).name, width));
  const DecodeParams p = decode_params(o.format, resolved_profile(o));
  decode_kernel<Out>(detail::impl_of(o.impl))(in.size(), in.data(), out.data(), &p);
}

// Through a bounded buffer of codes: in and out may alias.
template <class T> void quantize_any(std::span<const T> in, std::span<T> out, const Options& o) {
  detail::check_size("output", out.size(), in.size());
  constexpr std::size_t kChunk = 1 << 14;
  std::vector<std::uint8_t> codes(std::min(in.size(), kChunk));
  Options chunk = o;
  for (std::size_t i = 0; i < in.size(); i += kChunk) {
    const std::size_t n = std::min(kChunk, in.size() - i);
    chunk.index0 = o.index0 + i;
    if (!o.random_bits.empty()) chunk.random_bits = o.random_bits.subspan(i, n);
    encode_any(in.subspan(i, n), std::span(codes).first(n), chunk);
    decode_any(std::span<const std::uint8_t>(codes).first(n), out.subspan(i, n), chunk);
  }
}

template <class In> std::vector<std::uint8_t> encode_new(std::span<const In> in, const Options& o) {
  std::vector<std::uint8_t> out(in.size());
  encode_any(in, std::span(out), o);
  return out;
}

template <class T> std::vector<T> quantize_new(std::span<const T> in, const Options& o) {
  std::vector<T> out(in.size());
  quantize_any(in, std::span(out), o);
  return out;
}

}  // namespace

void encode(std::span<const float> in, std::span<std::uint8_t> out, const Options& o) { encode_any(in, out, o); }
void encode(std::span<const double> in, std::span<std::uint8_t> out, const Options& o) { encode_any(in, out, o); }
void encode(std::span<const f16> in, std::span<std::uint8_t> out, const Options& o) { encode_any(in, out, o); }
void encode(std::span<const bf16> in, std::span<std::uint8_t> out, const Options& o) { encode_any(in, out, o); }
std::vector<std::uint8_t> encode(std::span<const float> in, const Options& o) { return encode_new(in, o); }
std::vector<std::uint8_t> encode(std::span<const double> in, const Options& o) { return encode_new(in, o); }
std::vector<std::uint8_t> encode(std::span<const f16> in, const Options& o) { return encode_new(in, o); }
std::vector<std::uint8_t> encode(std::span<const bf16> in, const Options& o) { return encode_new(in, o); }

void decode(std::span<const std::uint8_t> in, std::span<float> out, const Options& o) { decode_any(in, out, o); }
void decode(std::span<const std::uint8_t> in, std::span<f16> out, const Options& o) { decode_any(in, out, o); }
void decode(std::span<const std::uint8_t> in, std::span<bf16> out, const Options& o) { decode_any(in, out, o); }
template <class Out> std::vector<Out> decode(std::span<const std::uint8_t> in, const Options& o) {
  std::vector<Out> out(in.size());
  decode_any(in, std::span(out), o);
  return out;
}
template std::vector<float> decode<float>(std::span<const std::uint8_t>, const Options&);
template std::vector<f16> decode<f16>(std::span<const std::uint8_t>, const Options&);
template std::vector<bf16> decode<bf16>(std::span<const std::uint8_t>, const Options&);

void quantize(std::span<const float> in, std::span<float> out, const Options& o) { quantize_any(in, out, o); }
void quantize(std::span<const f16> in, std::span<f16> out, const Options& o) { quantize_any(in, out, o); }
void quantize(std::span<const bf16> in, std::span<bf16> out, const Options& o) { quantize_any(in, out, o); }
std::vector<float> quantize(std::span<const float> in, const Options& o) { return quantize_new(in, o); }
std::vector<f16> quantize(std::span<const f16> in, const Options& o) { return quantize_new(in, o); }
std::vector<bf16> quantize(std::span<const bf16> in, const Options& o) { return quantize_new(in, o); }

}  // namespace lowbit::fp8
