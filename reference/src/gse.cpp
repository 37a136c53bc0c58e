#include "lowbit/reference/gse.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include "lowbit/reference/binary_float.hpp"
#include "lowbit/reference/philox.hpp"
#include "require.hpp"

namespace lowbit::ref {
namespace {

double magnitude(const Unpacked& u) { return std::ldexp(static_cast<double>(u.sig), u.exp); }

// round(|x| * 2^-q) for the element quantum 2^q; a value far above the quantum saturates.
std::uint64_t scaled_mantissa(const Unpacked& u, int q, Rounding r, std::uint32_t random) {
  if (u.kind == Unpacked::Kind::zero) return 0;
  const int shift = q - u.exp;
  if (shift < 0 && std::bit_width(u.sig) - shift > 62) return std::uint64_t{1} << 62;
  return round_shifted(u.sig, shift, r, random);
}

template <class T>
void encode_group(std::size_t len, const T* in, std::int8_t* codes, std::uint8_t& field,
                  const gse::EncodeParams& p, std::uint64_t first, BlockStats& stats) {
  const gse::Format& f = p.format;
  ++stats.groups;
  std::fill(codes, codes + len, std::int8_t{0});
  Unpacked u[256];
  T amax_value = in[0];
  double amax = 0;
  bool special = false;
  for (std::size_t i = 0; i < len; ++i) {
    u[i] = unpack(in[i]);
    special |= u[i].kind == Unpacked::Kind::nan || u[i].kind == Unpacked::Kind::inf;
    if (u[i].kind == Unpacked::Kind::finite && magnitude(u[i]) > amax) {
      amax = magnitude(u[i]);
      amax_value = in[i];
    }
  }
  const auto nan_group = [&] {
    ++stats.nan_groups;
    field = static_cast<std::uint8_t>(f.nan_field());
  };
  if (special) return nan_group();

  int e = amax == 0 ? -127 : gse_raw_exponent(amax_value);
  if (amax != 0 && e < f.emin()) ++stats.exp_underflow;
  if (e > f.emax()) {
    ++stats.exp_overflow;
    if (f.exponent_overflow == gse::ExponentOverflow::nan) return nan_group();
  }
  e = std::clamp(e, f.emin(), f.emax());

  const auto word = [&](std::size_t i) -> std::uint32_t {
    if (p.rounding != Rounding::sr) return 0;
    return p.random_bits ? p.random_bits[first + i] : philox_word(p.seed, p.index0 + first + i);
  };
  const std::uint64_t max = static_cast<std::uint64_t>(f.max_mantissa());
  std::uint64_t m[256];
  for (;;) {
    bool over = false;
    for (std::size_t i = 0; i < len; ++i) {
      m[i] = scaled_mantissa(u[i], e - (f.bits - 2), p.rounding, word(i));
      over |= m[i] > max;
    }
    if (!over || f.mantissa_overflow != gse::MantissaOverflow::bump || e == f.emax()) break;
    ++e;  // the group maximum rounded up past the largest mantissa: one binade up, once more
    ++stats.bumped;
  }
  for (std::size_t i = 0; i < len; ++i) {
    if (m[i] > max) {
      m[i] = max;
      ++stats.saturated;
    }
    const int v = static_cast<int>(m[i]);
    codes[i] = static_cast<std::int8_t>(u[i].sign ? -v : v);  // a zero mantissa is +0
  }
  field = static_cast<std::uint8_t>(e - f.exp_offset + f.exp_bias);
}

template <class T> T quiet_nan() {
  const BinaryLayout L = FloatTraits<T>::layout;
  using Bits = typename FloatTraits<T>::Bits;
  return FloatTraits<T>::from_bits(static_cast<Bits>((((std::uint64_t{1} << L.exp_bits) - 1) << L.man_bits) |
                                                     (std::uint64_t{1} << (L.man_bits - 1))));
}

}  // namespace

template <class T> int gse_raw_exponent(T amax) {
  const std::uint32_t f32 = std::bit_cast<std::uint32_t>(static_cast<float>(magnitude(unpack(amax))));
  return static_cast<int>((f32 >> 23) & 0xFF) - 127;
}

template <class T>
void gse_encode_ref(std::size_t n, const T* in, std::int8_t* codes, std::uint8_t* exps,
                    const gse::EncodeParams* p, BlockStats* stats) {
  BlockStats local;
  const std::size_t N = static_cast<std::size_t>(p->format.group);
  for (std::size_t g = 0; g * N < n; ++g) {
    const std::size_t first = g * N;
    encode_group(std::min(N, n - first), in + first, codes + first, exps[g], *p, first, local);
  }
  if (stats) *stats += local;
}

template <class T>
bool gse_decode_ref(std::size_t n, const std::int8_t* codes, const std::uint8_t* exps, T* out,
                    const gse::Format* f) {
  using Bits = typename FloatTraits<T>::Bits;
  const int max = f->max_mantissa();
  bool valid = true;
  for (std::size_t i = 0; i < n; ++i) {
    valid &= codes[i] >= -max && codes[i] <= max;
    const unsigned field = exps[i / static_cast<std::size_t>(f->group)];
    if (field == f->nan_field()) {
      out[i] = quiet_nan<T>();
      continue;
    }
    const int e = static_cast<int>(field) - f->exp_bias + f->exp_offset;
    const int c = codes[i];
    const std::uint64_t bits = pack_nearest(c < 0, static_cast<std::uint64_t>(std::abs(c)), e - (f->bits - 2),
                                            FloatTraits<T>::layout);
    out[i] = FloatTraits<T>::from_bits(static_cast<Bits>(bits));
  }
  return valid;
}

std::optional<std::size_t> gse_invalid_code(std::span<const std::int8_t> codes, const gse::Format& f) {
  // c lies in [-max, max] iff the byte c + max is at most 2 max: a branch-free maximum over a
  // chunk (compilers vectorize it), then the search only in a chunk that holds an invalid code.
  const auto max = static_cast<std::uint8_t>(f.max_mantissa());
  constexpr std::size_t kChunk = 1024;
  for (std::size_t start = 0; start < codes.size(); start += kChunk) {
    const std::size_t end = std::min(codes.size(), start + kChunk);
    std::uint8_t worst = 0;
    for (std::size_t i = start; i < end; ++i) worst = std::max(worst, static_cast<std::uint8_t>(static_cast<std::uint8_t>(codes[i]) + max));
    if (worst <= 2 * max) continue;
    for (std::size_t i = start; i < end; ++i)
      if (codes[i] < -max || codes[i] > max) return i;
  }
  return std::nullopt;
}

#define LOWBIT_INSTANTIATE(T)                                                                              \
  template int gse_raw_exponent<T>(T);                                                                     \
  template void gse_encode_ref<T>(std::size_t, const T*, std::int8_t*, std::uint8_t*, const gse::EncodeParams*, \
                                  BlockStats*);                                                              \
  template bool gse_decode_ref<T>(std::size_t, const std::int8_t*, const std::uint8_t*, T*, const gse::Format*);
LOWBIT_INSTANTIATE(float)
LOWBIT_INSTANTIATE(f16)
LOWBIT_INSTANTIATE(bf16)
#undef LOWBIT_INSTANTIATE


std::size_t gse_packed_bytes(std::size_t n, const gse::Format& f) {
  // n * bits may not fit size_t even when the byte count does: count whole bytes of 8 elements
  // (8 * bits bits = bits bytes) and of 8 groups apart from the bits of the remainders.
  const std::size_t g = f.groups(n), b = static_cast<std::size_t>(f.bits), e = static_cast<std::size_t>(f.exp_bits);
  const std::size_t rest_bits = n % 8 * b + g % 8 * e;
  std::size_t bytes = 0;
  require(!__builtin_add_overflow(n / 8 * b, g / 8 * e, &bytes) && !__builtin_add_overflow(bytes, ceil_div(rest_bits, 8), &bytes),
          std::to_string(n) + " elements of " + std::to_string(f.bits) + " bits do not fit size_t bytes when packed");
  return bytes;
}

namespace {
struct BitWriter {
  std::span<std::uint8_t> out;
  std::size_t pos = 0;
  void put(unsigned value, int width) {
    for (int i = 0; i < width; ++i, ++pos)
      if ((value >> i) & 1) out[pos / 8] |= static_cast<std::uint8_t>(1u << (pos % 8));
  }
};
struct BitReader {
  std::span<const std::uint8_t> in;
  std::size_t pos = 0;
  unsigned get(int width) {
    unsigned v = 0;
    for (int i = 0; i < width; ++i, ++pos) v |= ((in[pos / 8] >> (pos % 8)) & 1u) << i;
    return v;
  }
};
}  // namespace

void gse_pack(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, const gse::Format& f,
              std::span<std::uint8_t> packed) {
  std::fill(packed.begin(), packed.end(), std::uint8_t{0});
  BitWriter w{packed};
  const std::size_t N = static_cast<std::size_t>(f.group);
  for (std::size_t g = 0; g * N < codes.size(); ++g) {
    w.put(exps[g], f.exp_bits);
    for (std::size_t i = g * N; i < std::min(codes.size(), (g + 1) * N); ++i)
      w.put(static_cast<unsigned>(codes[i]) & ((1u << f.bits) - 1), f.bits);
  }
}

void gse_unpack(std::span<const std::uint8_t> packed, const gse::Format& f, std::span<std::int8_t> codes,
                std::span<std::uint8_t> exps) {
  require(packed.size() == gse_packed_bytes(codes.size(), f), "gse_unpack: " + std::to_string(packed.size()) +
                                                                   " packed bytes for " + std::to_string(codes.size()) + " elements");
  require(exps.size() == f.groups(codes.size()), "gse_unpack: exps must hold one field per group");
  BitReader r{packed};
  const std::size_t N = static_cast<std::size_t>(f.group);
  const int lowest = -(1 << (f.bits - 1));
  for (std::size_t g = 0; g < exps.size(); ++g) {
    exps[g] = static_cast<std::uint8_t>(r.get(f.exp_bits));
    for (std::size_t i = g * N; i < std::min(codes.size(), (g + 1) * N); ++i) {
      const unsigned raw = r.get(f.bits);
      const int v = raw >= (1u << (f.bits - 1)) ? static_cast<int>(raw) - (1 << f.bits) : static_cast<int>(raw);
      if (v == lowest) throw Error("packed GSE data holds the unused code " + std::to_string(lowest), Errc::data);
      codes[i] = static_cast<std::int8_t>(v);
    }
  }
}

}  // namespace lowbit::ref

namespace lowbit::kernels {
using namespace lowbit::ref;

const gse::Impl gse_reference{
    .encode_f32 = gse_encode_ref<float>,
    .encode_f16 = gse_encode_ref<f16>,
    .encode_bf16 = gse_encode_ref<bf16>,
    .decode_f32 = gse_decode_ref<float>,
    .decode_f16 = gse_decode_ref<f16>,
    .decode_bf16 = gse_decode_ref<bf16>,
};

}  // namespace lowbit::kernels
