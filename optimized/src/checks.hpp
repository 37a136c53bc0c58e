// What the public API's sources share: the argument checks (each failure is one lowbit::Error naming
// the argument) and the choice of kernel.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "lowbit/error.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/formats/rounding.hpp"
#include "lowbit/formats/sizes.hpp"

namespace lowbit::detail {

inline void check_size(std::string_view what, std::size_t got, std::size_t want) {
  if (got != want) throw Error(fmt::format("{} has {} elements, expected {}", what, got, want));
}

// Caller-given sr words (Options::random_bits): null when none are given; else exactly `want` of them,
// and only with sr.
inline const std::uint32_t* given_random_bits(std::span<const std::uint32_t> words, Rounding r, std::size_t want) {
  if (words.empty()) return nullptr;
  if (r != Rounding::sr) throw Error("random bits were given but rounding is not sr");
  check_size("random_bits", words.size(), want);
  return words.data();
}

// A block family's rounding: one of kRoundings (the directed roundings and rto are the minifloats').
inline void check_rounding(std::string_view family, Rounding r) {
  if (std::find(kRoundings.begin(), kRoundings.end(), r) == kRoundings.end())
    throw Error(fmt::format("{} rounds rne, rna, rtz or sr, not {}", family, name(r)), Errc::unsupported);
}

// rows x cols of `what`, which must fit size_t.
inline std::size_t product(std::string_view what, std::size_t rows, std::size_t cols) {
  const auto n = checked_mul(rows, cols);
  if (!n) throw Error(fmt::format("{}: {} x {} elements overflow size_t", what, rows, cols));
  return *n;
}

// The kernel a call runs: the one `impl` names, or the fastest this CPU runs.
template <class Impl> const Impl& impl_of(const Impl* impl) { return impl ? *impl : kernels::best<Impl>(); }

// The span form of an allocating call: `v` into `out`, which must have its size.
template <class T> void copy_out(std::string_view what, const std::vector<T>& v, std::span<T> out) {
  check_size(what, out.size(), v.size());
  std::copy(v.begin(), v.end(), out.begin());
}

}  // namespace lowbit::detail
