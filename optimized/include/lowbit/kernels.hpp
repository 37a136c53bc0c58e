// The kernel tables: every implementation compiled into this build, one list per operation
// family, reference first. The same lists drive dispatch, the conformance suite, the tests and
// the benchmarks.
#pragma once
#include <span>
#include <string_view>

#include "lowbit/formats/fp8_kernel.hpp"
#include "lowbit/formats/gse_kernel.hpp"
#include "lowbit/formats/nf4_kernel.hpp"
#include "lowbit/formats/weak_kernel.hpp"

namespace lowbit {

std::span<const Fp8Impl> fp8_impls();
std::span<const GseImpl> gse_impls();
std::span<const GseGemmImpl> gse_gemm_impls();
std::span<const Nf4Impl> nf4_impls();
std::span<const QeftImpl> qeft_impls();

// The last entry of a list that this CPU runs: lists go from slowest to fastest.
template <class Impl> const Impl& best_of(std::span<const Impl> list) {
  const Impl* pick = &list.front();
  for (const Impl& impl : list)
    if (impl.available()) pick = &impl;
  return *pick;
}

template <class Impl> const Impl* find_impl(std::span<const Impl> list, std::string_view name) {
  for (const Impl& impl : list)
    if (name == impl.name) return &impl;
  return nullptr;
}

// Chosen once.
const Fp8Impl& fp8_best();
const GseImpl& gse_best();
const GseGemmImpl& gse_gemm_best();
const Nf4Impl& nf4_best();
const QeftImpl& qeft_best();

inline const Fp8Impl* find_fp8_impl(std::string_view name) { return find_impl(fp8_impls(), name); }

// An operation of `impl`, or the reference's where `impl` leaves it out.
template <class In> Fp8EncodeFn<In> encode_kernel(const Fp8Impl& impl);
template <class Out> Fp8DecodeFn<Out> decode_kernel(const Fp8Impl& impl);
template <class In> GseEncodeFn<In> gse_encode_kernel(const GseImpl& impl);
template <class Out> GseDecodeFn<Out> gse_decode_kernel(const GseImpl& impl);

}  // namespace lowbit
