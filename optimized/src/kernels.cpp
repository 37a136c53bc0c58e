#include "lowbit/kernels.hpp"

#include "lowbit/optimized/fp8_impls.hpp"
#include "lowbit/reference/fp8.hpp"

namespace lowbit {

std::span<const Fp8Impl> fp8_impls() {
  static const Fp8Impl list[] = {
      ref::kFp8Reference,
#ifdef LOWBIT_HAVE_AVX2
      avx2::kFp8Avx2,
#endif
#ifdef LOWBIT_HAVE_NEON
      neon::kFp8Neon,
#endif
  };
  return list;
}

const Fp8Impl& fp8_best() {
  static const Fp8Impl& best = [] () -> const Fp8Impl& {
    const Fp8Impl* pick = &fp8_impls().front();
    for (const Fp8Impl& impl : fp8_impls())
      if (impl.available()) pick = &impl;  // later entries are faster
    return *pick;
  }();
  return best;
}

const Fp8Impl* find_fp8_impl(std::string_view name) {
  for (const Fp8Impl& impl : fp8_impls())
    if (name == impl.name) return &impl;
  return nullptr;
}

template <class In> Fp8EncodeFn<In> encode_kernel(const Fp8Impl& impl) {
  constexpr auto slot = encode_slot<In>();
  return impl.*slot ? impl.*slot : ref::kFp8Reference.*slot;
}
template <class Out> Fp8DecodeFn<Out> decode_kernel(const Fp8Impl& impl) {
  constexpr auto slot = decode_slot<Out>();
  return impl.*slot ? impl.*slot : ref::kFp8Reference.*slot;
}

template Fp8EncodeFn<float> encode_kernel<float>(const Fp8Impl&);
template Fp8EncodeFn<double> encode_kernel<double>(const Fp8Impl&);
template Fp8EncodeFn<f16> encode_kernel<f16>(const Fp8Impl&);
template Fp8EncodeFn<bf16> encode_kernel<bf16>(const Fp8Impl&);
template Fp8DecodeFn<float> decode_kernel<float>(const Fp8Impl&);
template Fp8DecodeFn<f16> decode_kernel<f16>(const Fp8Impl&);
template Fp8DecodeFn<bf16> decode_kernel<bf16>(const Fp8Impl&);

}  // namespace lowbit
