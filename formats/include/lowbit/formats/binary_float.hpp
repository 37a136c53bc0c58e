// Binary floating-point layouts: the source and destination types of every codec, and the
// minifloat formats themselves, described by their field widths and bias.
#pragma once
#include <bit>
#include <cstdint>
#include <string_view>

namespace lowbit {

// 16-bit storage types; distinct so that an overload can never mistake one for the other.
struct f16 { std::uint16_t bits; };
struct bf16 { std::uint16_t bits; };
static_assert(sizeof(f16) == 2 && sizeof(bf16) == 2);

// Sign, `exp_bits` exponent, `man_bits` stored mantissa, in that order from the top bit down.
struct BinaryLayout {
  int exp_bits;
  int man_bits;
  int bias_offset = 0;  // added to the IEEE bias 2^(exp_bits-1) - 1 (FNUZ formats: 1; E4M3B11FNUZ: 4)
  constexpr int bias() const { return (1 << (exp_bits - 1)) - 1 + bias_offset; }
  constexpr int total_bits() const { return 1 + exp_bits + man_bits; }
  constexpr int emin() const { return 1 - bias(); }  // exponent of the smallest normal
};

inline constexpr BinaryLayout kF64Layout{11, 52};
inline constexpr BinaryLayout kF32Layout{8, 23};
inline constexpr BinaryLayout kF16Layout{5, 10};
inline constexpr BinaryLayout kBf16Layout{8, 7};

// The element types a codec reads or writes, with their raw bit pattern type.
enum class FloatType : std::uint8_t { f32, f64, f16, bf16 };

template <class T> struct FloatTraits;
template <> struct FloatTraits<float> {
  using Bits = std::uint32_t;
  static constexpr BinaryLayout layout = kF32Layout;
  static constexpr FloatType type = FloatType::f32;
  static Bits to_bits(float x) { return std::bit_cast<Bits>(x); }
  static float from_bits(Bits b) { return std::bit_cast<float>(b); }
};
template <> struct FloatTraits<double> {
  using Bits = std::uint64_t;
  static constexpr BinaryLayout layout = kF64Layout;
  static constexpr FloatType type = FloatType::f64;
  static Bits to_bits(double x) { return std::bit_cast<Bits>(x); }
  static double from_bits(Bits b) { return std::bit_cast<double>(b); }
};
template <> struct FloatTraits<f16> {
  using Bits = std::uint16_t;
  static constexpr BinaryLayout layout = kF16Layout;
  static constexpr FloatType type = FloatType::f16;
  static Bits to_bits(f16 x) { return x.bits; }
  static f16 from_bits(Bits b) { return {b}; }
};
template <> struct FloatTraits<bf16> {
  using Bits = std::uint16_t;
  static constexpr BinaryLayout layout = kBf16Layout;
  static constexpr FloatType type = FloatType::bf16;
  static Bits to_bits(bf16 x) { return x.bits; }
  static bf16 from_bits(Bits b) { return {b}; }
};

constexpr std::string_view name(FloatType t) {
  switch (t) {
    case FloatType::f32: return "f32";
    case FloatType::f64: return "f64";
    case FloatType::f16: return "f16";
    case FloatType::bf16: return "bf16";
  }
  return "?";
}

constexpr int size_bytes(FloatType t) {
  return t == FloatType::f64 ? 8 : t == FloatType::f32 ? 4 : 2;
}

}  // namespace lowbit
