// The dispatch tables, built from the rows of lowbit/kernels.inc that this build compiled
// (kernels_built.inc, which CMake writes: the reference rows and those of the ISAs it targets).
#include "lowbit/kernels.hpp"

#include <type_traits>
#include <vector>

namespace lowbit::kernels {
namespace {

struct Entry {
  std::string_view family, isa, symbol;
  std::uint32_t cpu;
  const void* impl;
};

// The row's symbol, checked against its family's type.
template <class Impl> constexpr const void* typed(const Impl* p) { return p; }

using namespace lowbit::cpu;  // the feature names of the last column
constexpr Entry kEntries[] = {
#define LOWBIT_KERNEL(fam, isa, symbol, features) \
  {#fam, #isa, #symbol, static_cast<std::uint32_t>(features), typed<family::fam>(&symbol)},
#include "kernels_built.inc"
#undef LOWBIT_KERNEL
};

template <class Impl> constexpr std::string_view family_name() {
  if constexpr (std::is_same_v<Impl, family::fp8>) return "fp8";
  else if constexpr (std::is_same_v<Impl, family::gse>) return "gse";
  else if constexpr (std::is_same_v<Impl, family::gse_gemm>) return "gse_gemm";
  else if constexpr (std::is_same_v<Impl, family::mx>) return "mx";
  else if constexpr (std::is_same_v<Impl, family::nf4>) return "nf4";
  else if constexpr (std::is_same_v<Impl, family::nvfp4>) return "nvfp4";
  else return "qeft";
}

template <class Impl> std::vector<Impl> make_table() {
  std::vector<Impl> table;
  for (const Entry& e : kEntries)
    if (e.family == family_name<Impl>()) {
      Impl impl = *static_cast<const Impl*>(e.impl);
      impl.name = e.isa.data();  // a string literal: null-terminated
      impl.cpu = e.cpu;
      table.push_back(impl);
    }
  return table;
}

}  // namespace

template <class Impl> std::span<const Impl> list() {
  static const std::vector<Impl> table = make_table<Impl>();
  return table;
}

template <class Impl> const Impl& best() {
  static const Impl* const pick = [] {
    const Impl* p = &list<Impl>().front();
    for (const Impl& impl : list<Impl>())
      if (available(impl)) p = &impl;
    return p;
  }();
  return *pick;
}

std::span<const Row> rows() {
  static const std::vector<Row> table = [] {
    std::vector<Row> t;
    for (const Entry& e : kEntries) t.push_back({e.family, e.isa, e.symbol, e.cpu, cpu::supports(e.cpu)});
    return t;
  }();
  return table;
}

#define LOWBIT_INSTANTIATE(Impl)                         \
  template std::span<const Impl> list<Impl>();          \
  template const Impl& best<Impl>();
LOWBIT_INSTANTIATE(family::fp8)
LOWBIT_INSTANTIATE(family::gse)
LOWBIT_INSTANTIATE(family::gse_gemm)
LOWBIT_INSTANTIATE(family::mx)
LOWBIT_INSTANTIATE(family::nf4)
LOWBIT_INSTANTIATE(family::nvfp4)
LOWBIT_INSTANTIATE(family::qeft)
#undef LOWBIT_INSTANTIATE

}  // namespace lowbit::kernels
