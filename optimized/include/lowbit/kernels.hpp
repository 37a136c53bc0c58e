// The kernel tables, read off the kernel list (lowbit/kernels.inc): every implementation built into
// this library, per family, the reference first, then from slowest to fastest. Dispatch, `lowbit
// list`, the tests, the benchmarks and `lowbit conform` all iterate these tables.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "lowbit/cpu.hpp"
#include "lowbit/formats/fp8.hpp"
#include "lowbit/formats/gse.hpp"
#include "lowbit/formats/mx.hpp"
#include "lowbit/formats/nf4.hpp"
#include "lowbit/formats/nvfp4.hpp"
#include "lowbit/formats/weak.hpp"

namespace lowbit::kernels {

// The type of each family's rows: its Impl, a struct of kernel slots.
namespace family {
using fp8 = ::lowbit::fp8::Impl;
using gse = ::lowbit::gse::Impl;
using gse_gemm = ::lowbit::gse::GemmImpl;
using mx = ::lowbit::mx::Impl;
using nf4 = ::lowbit::nf4::Impl;
using nvfp4 = ::lowbit::nvfp4::Impl;
using qeft = ::lowbit::qeft::Impl;
}  // namespace family

// Every symbol of the list (the rows of ISAs this build does not target are declared, not defined).
#define LOWBIT_KERNEL(fam, isa, symbol, features) extern const family::fam symbol;
#include "lowbit/kernels.inc"
#undef LOWBIT_KERNEL

// The rows of one family built into this library (fp8::Impl, gse::Impl, gse::GemmImpl, mx::Impl,
// nf4::Impl, nvfp4::Impl, qeft::Impl), each with its name (the ISA) and CPU features set from the list.
template <class Impl> std::span<const Impl> list();
// Does this CPU run `impl`?
template <class Impl> bool available(const Impl& impl) { return cpu::supports(impl.cpu); }
// The reference row of a family.
template <class Impl> const Impl& reference() { return list<Impl>().front(); }
// The last row of the family this CPU runs: the fastest (chosen once).
template <class Impl> const Impl& best();
// The row called `name` ("reference", "avx2", ...), or nullptr.
template <class Impl> const Impl* find(std::string_view name) {
  for (const Impl& impl : list<Impl>())
    if (name == impl.name) return &impl;
  return nullptr;
}

// A row of the list as `lowbit list` shows it.
struct Row {
  std::string_view family, isa, symbol;
  std::uint32_t cpu;  // features needed
  bool available;     // on this CPU
};
std::span<const Row> rows();

}  // namespace lowbit::kernels

// An operation of `impl`, or the reference's where `impl` leaves it out (a null slot).
namespace lowbit::fp8 {
template <class In> EncodeFn<In> encode_kernel(const Impl& impl) {
  const EncodeFn<In> f = impl.*encode_slot<In>();
  return f ? f : kernels::reference<Impl>().*encode_slot<In>();
}
template <class Out> DecodeFn<Out> decode_kernel(const Impl& impl) {
  const DecodeFn<Out> f = impl.*decode_slot<Out>();
  return f ? f : kernels::reference<Impl>().*decode_slot<Out>();
}
}  // namespace lowbit::fp8

namespace lowbit::gse {
template <class In> EncodeFn<In> encode_kernel(const Impl& impl) {
  const EncodeFn<In> f = impl.*encode_slot<In>();
  return f ? f : kernels::reference<Impl>().*encode_slot<In>();
}
template <class Out> DecodeFn<Out> decode_kernel(const Impl& impl) {
  const DecodeFn<Out> f = impl.*decode_slot<Out>();
  return f ? f : kernels::reference<Impl>().*decode_slot<Out>();
}
}  // namespace lowbit::gse
