// The GSE-INT reference codec: plain scalar code to be read beside docs/formats/gse.md.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "lowbit/error.hpp"
#include "lowbit/formats/gse.hpp"

namespace lowbit::ref {

// The shared exponent of a group whose largest magnitude is `amax`, before the field's range:
// floor(log2 amax) read from the exponent bits of amax as an f32 (-127 for an f32 subnormal or 0).
template <class T> int gse_raw_exponent(T amax);

template <class T>
void gse_encode_ref(std::size_t n, const T* in, std::int8_t* codes, std::uint8_t* exps,
                    const gse::EncodeParams* p, BlockStats* stats);
// False if a code lies outside +-(2^(b-1) - 1) (gse::DecodeFn).
template <class T>
bool gse_decode_ref(std::size_t n, const std::int8_t* codes, const std::uint8_t* exps, T* out,
                    const gse::Format* f);
// The index of the first code outside +-(2^(b-1) - 1), or nothing.
std::optional<std::size_t> gse_invalid_code(std::span<const std::int8_t> codes, const gse::Format& f);


// The bit-packed layout: an LSB-first bit stream; per group its exponent field (exp_bits),
// then its elements (bits each, two's complement); zero bits pad the last byte. Bytes for n
// elements; Error when that count does not fit size_t.
std::size_t gse_packed_bytes(std::size_t n, const gse::Format& f);
void gse_pack(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, const gse::Format& f,
              std::span<std::uint8_t> packed);
// Error if `packed` has the wrong size (Errc::invalid) or holds the unused code -2^(b-1) (Errc::data).
void gse_unpack(std::span<const std::uint8_t> packed, const gse::Format& f, std::span<std::int8_t> codes,
                std::span<std::uint8_t> exps);

}  // namespace lowbit::ref

// The reference row of the kernel list (lowbit/kernels.inc).
namespace lowbit::kernels {
extern const gse::Impl gse_reference;
}  // namespace lowbit::kernels
