#include "lowbit/kernels.hpp"

#include "lowbit/optimized/fp8_impls.hpp"
#include "lowbit/optimized/gse_impls.hpp"
#include "lowbit/optimized/nf4_impls.hpp"
#include "lowbit/optimized/qeft_impls.hpp"
#include "lowbit/reference/fp8.hpp"
#include "lowbit/reference/gse.hpp"
#include "lowbit/reference/gse_gemm.hpp"
#include "lowbit/reference/nf4.hpp"
#include "lowbit/reference/weak.hpp"

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

std::span<const GseImpl> gse_impls() {
  static const GseImpl list[] = {
      ref::kGseReference,
#ifdef LOWBIT_HAVE_AVX2
      avx2::kGseAvx2,
#endif
#ifdef LOWBIT_HAVE_NEON
      neon::kGseNeon,
#endif
  };
  return list;
}

std::span<const GseGemmImpl> gse_gemm_impls() {
  static const GseGemmImpl list[] = {
      ref::kGseGemmReference,
#ifdef LOWBIT_HAVE_AVX2
      avx2::kGseGemmAvx2,
#endif
#ifdef LOWBIT_HAVE_NEON
      neon::kGseGemmNeon,
#endif
  };
  return list;
}

std::span<const Nf4Impl> nf4_impls() {
  static const Nf4Impl list[] = {
      ref::kNf4Reference,
#ifdef LOWBIT_HAVE_AVX2
      avx2::kNf4Avx2,
#endif
#ifdef LOWBIT_HAVE_NEON
      neon::kNf4Neon,
#endif
  };
  return list;
}

std::span<const QeftImpl> qeft_impls() {
  static const QeftImpl list[] = {
      ref::kQeftReference,
#ifdef LOWBIT_HAVE_AVX2
      avx2::kQeftAvx2,
#endif
#ifdef LOWBIT_HAVE_NEON
      neon::kQeftNeon,
#endif
  };
  return list;
}

const Fp8Impl& fp8_best() {
  static const Fp8Impl& best = best_of(fp8_impls());
  return best;
}
const GseImpl& gse_best() {
  static const GseImpl& best = best_of(gse_impls());
  return best;
}
const GseGemmImpl& gse_gemm_best() {
  static const GseGemmImpl& best = best_of(gse_gemm_impls());
  return best;
}

const Nf4Impl& nf4_best() {
  static const Nf4Impl& best = best_of(nf4_impls());
  return best;
}

const QeftImpl& qeft_best() {
  static const QeftImpl& best = best_of(qeft_impls());
  return best;
}

namespace {
template <class Impl, class Fn> Fn or_reference(const Impl& impl, Fn Impl::*slot, const Impl& reference) {
  return impl.*slot ? impl.*slot : reference.*slot;
}
}  // namespace

template <class In> Fp8EncodeFn<In> encode_kernel(const Fp8Impl& impl) {
  return or_reference(impl, encode_slot<In>(), ref::kFp8Reference);
}
template <class Out> Fp8DecodeFn<Out> decode_kernel(const Fp8Impl& impl) {
  return or_reference(impl, decode_slot<Out>(), ref::kFp8Reference);
}
template <class In> GseEncodeFn<In> gse_encode_kernel(const GseImpl& impl) {
  return or_reference(impl, gse_encode_slot<In>(), ref::kGseReference);
}
template <class Out> GseDecodeFn<Out> gse_decode_kernel(const GseImpl& impl) {
  return or_reference(impl, gse_decode_slot<Out>(), ref::kGseReference);
}

template Fp8EncodeFn<float> encode_kernel<float>(const Fp8Impl&);
template Fp8EncodeFn<double> encode_kernel<double>(const Fp8Impl&);
template Fp8EncodeFn<f16> encode_kernel<f16>(const Fp8Impl&);
template Fp8EncodeFn<bf16> encode_kernel<bf16>(const Fp8Impl&);
template Fp8DecodeFn<float> decode_kernel<float>(const Fp8Impl&);
template Fp8DecodeFn<f16> decode_kernel<f16>(const Fp8Impl&);
template Fp8DecodeFn<bf16> decode_kernel<bf16>(const Fp8Impl&);
template GseEncodeFn<float> gse_encode_kernel<float>(const GseImpl&);
template GseEncodeFn<f16> gse_encode_kernel<f16>(const GseImpl&);
template GseEncodeFn<bf16> gse_encode_kernel<bf16>(const GseImpl&);
template GseDecodeFn<float> gse_decode_kernel<float>(const GseImpl&);
template GseDecodeFn<f16> gse_decode_kernel<f16>(const GseImpl&);
template GseDecodeFn<bf16> gse_decode_kernel<bf16>(const GseImpl&);

}  // namespace lowbit
