// GSE decode of (codes, exps) by every kernel this CPU runs, to f32, f16 and bf16: each must
// equal the reference bit for bit.
#pragma once
#include "fuzz.hpp"
#include "lowbit/gse.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/gse.hpp"

namespace lowbit::fuzz {

template <class Out>
void check_gse_decode_as(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, const gse::Format& format) {
  gse::Options o;
  o.format = format;
  o.impl = &kernels::gse_reference;
  std::vector<Out> want(codes.size()), got(codes.size());
  gse::decode(codes, exps, std::span(want), o);  // valid codes: must not throw
  for (const gse::Impl& impl : kernels::list<gse::Impl>()) {
    if (!kernels::available(impl)) continue;
    o.impl = &impl;
    gse::decode(codes, exps, std::span(got), o);
    LOWBIT_FUZZ_CHECK(same_bits<Out>(got, want));
  }
}

inline void check_gse_decode(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, const gse::Format& format) {
  check_gse_decode_as<float>(codes, exps, format);
  check_gse_decode_as<f16>(codes, exps, format);
  check_gse_decode_as<bf16>(codes, exps, format);
}

}  // namespace lowbit::fuzz
