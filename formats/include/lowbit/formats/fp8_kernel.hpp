// The one kernel signature per FP8 operation, shared by the reference, every SIMD ISA and (through
// the C ABI of a later issue) vendor plugins. Plain C-compatible structs and function pointers.
#pragma once
#include <cstddef>
#include <cstdint>

#include "lowbit/formats/fp8.hpp"

namespace lowbit {

// A profile resolved for one source type: everything an encode kernel needs, nothing more.
struct Fp8EncodeParams {
  Fp8Format format;
  Rounding rounding;
  bool saturate_finite;
  bool saturate_inf;
  NanEncode nan;
  std::uint64_t seed;                // Philox-4x32-10 key for Rounding::sr
  std::uint64_t index0;              // global element index of in[0]: picks the Philox counter
  const std::uint32_t* random_bits;  // sr only: word i for in[i]; null = Philox(seed)
};

struct Fp8DecodeParams {
  Fp8Format format;
  NanDecode nan;
};

constexpr Fp8EncodeParams make_encode_params(Fp8Format f, const Fp8Profile& p, FloatType source,
                                             Rounding r = Rounding::rne, std::uint64_t seed = 0) {
  return {f, r, p.saturate_finite, p.saturate_inf, nan_encode(p, source), seed, 0, nullptr};
}
constexpr Fp8DecodeParams make_decode_params(Fp8Format f, const Fp8Profile& p) {
  return {f, p.nan_decode};
}

template <class In>
using Fp8EncodeFn = void (*)(std::size_t n, const In* in, std::uint8_t* out,
                             const Fp8EncodeParams* params);
template <class Out>
using Fp8DecodeFn = void (*)(std::size_t n, const std::uint8_t* in, Out* out,
                             const Fp8DecodeParams* params);

// An implementation under test: one entry of the kernel table. A null function means "not
// provided": dispatch then uses the reference for that operation.
struct Fp8Impl {
  const char* name;      // "reference", "avx2", "neon", a plugin's name
  unsigned width;        // elements per vector step (1 for scalar code)
  bool (*available)();   // does this CPU run it?
  Fp8EncodeFn<float> encode_f32;
  Fp8EncodeFn<double> encode_f64;
  Fp8EncodeFn<f16> encode_f16;
  Fp8EncodeFn<bf16> encode_bf16;
  Fp8DecodeFn<float> decode_f32;
  Fp8DecodeFn<f16> decode_f16;
  Fp8DecodeFn<bf16> decode_bf16;
};

template <class In> constexpr Fp8EncodeFn<In> Fp8Impl::* encode_slot();
template <> constexpr Fp8EncodeFn<float> Fp8Impl::* encode_slot<float>() { return &Fp8Impl::encode_f32; }
template <> constexpr Fp8EncodeFn<double> Fp8Impl::* encode_slot<double>() { return &Fp8Impl::encode_f64; }
template <> constexpr Fp8EncodeFn<f16> Fp8Impl::* encode_slot<f16>() { return &Fp8Impl::encode_f16; }
template <> constexpr Fp8EncodeFn<bf16> Fp8Impl::* encode_slot<bf16>() { return &Fp8Impl::encode_bf16; }

template <class Out> constexpr Fp8DecodeFn<Out> Fp8Impl::* decode_slot();
template <> constexpr Fp8DecodeFn<float> Fp8Impl::* decode_slot<float>() { return &Fp8Impl::decode_f32; }
template <> constexpr Fp8DecodeFn<f16> Fp8Impl::* decode_slot<f16>() { return &Fp8Impl::decode_f16; }
template <> constexpr Fp8DecodeFn<bf16> Fp8Impl::* decode_slot<bf16>() { return &Fp8Impl::decode_bf16; }

}  // namespace lowbit
