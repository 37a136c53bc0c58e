#include <fmt/format.h>

#include "lowbit/fp8.hpp"
#include "lowbit/kernels.hpp"

namespace lowbit {

const Fp8Profile& profile_of(const Fp8Options& o) {
  if (const Fp8Profile* p = find_fp8_profile(o.profile)) return *p;
  std::string names;
  for (const Fp8Profile& p : kFp8Profiles) names += fmt::format("{}{}", names.empty() ? "" : ", ", p.name);
  throw Error(fmt::format("unknown FP8 profile '{}' (valid: {})", o.profile, names));
}

namespace {

void check_sizes(std::size_t in, std::size_t out) {
  if (in != out) throw Error(fmt::format("input has {} elements but output has {}", in, out));
}

template <class In>
void encode_any(std::span<const In> in, std::span<std::uint8_t> out, const Fp8Options& o) {
  check_sizes(in.size(), out.size());
  Fp8EncodeParams p = make_encode_params(o.format, profile_of(o), FloatTraits<In>::type, o.rounding, o.seed);
  p.index0 = o.index0;
  if (!o.random_bits.empty()) {
    if (o.rounding != Rounding::sr) throw Error("random bits were given but rounding is not sr");
    if (o.random_bits.size() != in.size())
      throw Error(fmt::format("{} random words for {} elements", o.random_bits.size(), in.size()));
    p.random_bits = o.random_bits.data();
  }
  encode_kernel<In>(o.impl ? *o.impl : fp8_best())(in.size(), in.data(), out.data(), &p);
}

template <class Out>
void decode_any(std::span<const std::uint8_t> in, std::span<Out> out, const Fp8Options& o) {
  check_sizes(in.size(), out.size());
  const Fp8DecodeParams p = make_decode_params(o.format, profile_of(o));
  decode_kernel<Out>(o.impl ? *o.impl : fp8_best())(in.size(), in.data(), out.data(), &p);
}

}  // namespace

void encode(std::span<const float> in, std::span<std::uint8_t> out, const Fp8Options& o) { encode_any(in, out, o); }
void encode(std::span<const double> in, std::span<std::uint8_t> out, const Fp8Options& o) { encode_any(in, out, o); }
void encode(std::span<const f16> in, std::span<std::uint8_t> out, const Fp8Options& o) { encode_any(in, out, o); }
void encode(std::span<const bf16> in, std::span<std::uint8_t> out, const Fp8Options& o) { encode_any(in, out, o); }
void decode(std::span<const std::uint8_t> in, std::span<float> out, const Fp8Options& o) { decode_any(in, out, o); }
void decode(std::span<const std::uint8_t> in, std::span<f16> out, const Fp8Options& o) { decode_any(in, out, o); }
void decode(std::span<const std::uint8_t> in, std::span<bf16> out, const Fp8Options& o) { decode_any(in, out, o); }

}  // namespace lowbit
