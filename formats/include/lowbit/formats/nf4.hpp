// NF4 and bitsandbytes' FP4 (4-bit codes into a 16-entry fp32 table, one fp32 absmax per block),
// with bitsandbytes' double quantization of the absmax values, and the named profiles that
// reproduce bitsandbytes bit for bit. docs/formats/nf4.md is the prose version of this file.
#pragma once
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "lowbit/formats/sizes.hpp"

namespace lowbit::nf4 {

// Which 16-entry table the 4-bit codes index. `fp4` is bitsandbytes' FP4 (sign bit 3, then a
// 3-bit magnitude code; values /12), NOT OCP's E2M1 (docs/formats/mx.md).
enum class Table : std::uint8_t { nf4, fp4 };

constexpr std::optional<Table> parse_table(std::string_view s) {
  if (s == "nf4") return Table::nf4;
  if (s == "fp4") return Table::fp4;
  return std::nullopt;
}
constexpr std::string_view name(Table t) { return t == Table::nf4 ? "nf4" : "fp4"; }

// bitsandbytes get_4bit_type("nf4"): sorted, index 7 = 0. Equal to golden table.nf4_code.f32.
inline constexpr std::array<std::uint32_t, 16> kNf4CodeBits{
    0xBF800000, 0xBF3239B1, 0xBF066B30, 0xBECA32A0, 0xBE91A24D, 0xBE3D353F, 0xBDBA7871, 0x00000000,
    0x3DA2FAFF, 0x3E24CAE3, 0x3E7C04DD, 0x3EAD033A, 0x3EE1A4B8, 0x3F1007AB, 0x3F3913B3, 0x3F800000};
// bitsandbytes get_4bit_type("fp4") in code (bit-pattern) order, already divided by 12:
// {0, 0.0625, 8, 12, 4, 6, 2, 3}/12, then the same negated (code 8 is +0.0, as bitsandbytes stores it).
inline constexpr std::array<std::uint32_t, 16> kFp4CodeBits{
    0x00000000, 0x3BAAAAAB, 0x3F2AAAAB, 0x3F800000, 0x3EAAAAAB, 0x3F000000, 0x3E2AAAAB, 0x3E800000,
    0x00000000, 0xBBAAAAAB, 0xBF2AAAAB, 0xBF800000, 0xBEAAAAAB, 0xBF000000, 0xBE2AAAAB, 0xBE800000};

constexpr const std::array<std::uint32_t, 16>& table_bits(Table t) {
  return t == Table::nf4 ? kNf4CodeBits : kFp4CodeBits;
}
constexpr float table_value(Table t, unsigned code) { return std::bit_cast<float>(table_bits(t)[code & 15]); }

// The codes in ascending order of value; of FP4's two zeros, code 0 comes first (a stable sort, as
// torch.argsort of this 16-element table on the CPU).
constexpr std::array<std::uint8_t, 16> sorted_codes(Table t) {
  std::array<std::uint8_t, 16> order{};
  for (unsigned i = 0; i < 16; ++i) order[i] = static_cast<std::uint8_t>(i);
  for (unsigned i = 1; i < 16; ++i)  // insertion sort: stable
    for (unsigned j = i; j > 0 && table_value(t, order[j]) < table_value(t, order[j - 1]); --j) {
      const std::uint8_t tmp = order[j];
      order[j] = order[j - 1];
      order[j - 1] = tmp;
    }
  return order;
}

// The code lowbit writes for a zero (and for padding): NF4 7, FP4 0 (+0).
constexpr std::uint8_t zero_code(Table t) { return t == Table::nf4 ? 7 : 0; }

// torch's bucketize bounds: fp32 (s[k] + s[k+1]) / 2 over the sorted values s. For NF4 these are
// golden table.nf4_bounds_default.f32.
constexpr std::array<float, 15> fp32_midpoints(Table t) {
  const auto order = sorted_codes(t);
  std::array<float, 15> m{};
  for (unsigned k = 0; k < 15; ++k) m[k] = (table_value(t, order[k]) + table_value(t, order[k + 1])) / 2.0f;
  return m;
}

// The binary32 values of the 15 decimal literals of CUDA's dQuantizeNF4 (csrc/kernels.cu):
// code = #{k : x > T[k]}. T[0], T[8], T[12], T[14] are one ulp from the fp32 midpoints.
// Equal to golden table.nf4_thresholds_cuda.f32.
inline constexpr std::array<std::uint32_t, 15> kNf4CudaThresholdBits{
    0xBF591CD9, 0xBF1C5270, 0xBEEB8480, 0xBEADEA76, 0xBE703CEC, 0xBE0D38BC, 0xBD3A7871, 0x3D22FAFF,
    0x3DF64863, 0x3E5067E0, 0x3E9582D4, 0x3EC753F9, 0x3F006D03, 0x3F248DAF, 0x3F5C89D9};
// CUDA's dQuantizeFP4 compares |x| (sign = x < 0) with 7 decimal literals; magnitude code =
// #{k : |x| > T[k]} mapped through kFp4CudaMagnitudeCodes (no golden data: see docs).
inline constexpr std::array<float, 7> kFp4CudaThresholds{0.00260417f, 0.0859375f, 0.20833333f, 0.29166667f,
                                                         0.4166667f,  0.583333f,  0.8333333f};
inline constexpr std::array<std::uint8_t, 8> kFp4CudaMagnitudeCodes{0b000, 0b001, 0b110, 0b111,
                                                                    0b100, 0b101, 0b010, 0b011};

// bitsandbytes' default, and the range lowbit accepts: powers of two 32 .. 4096.
inline constexpr int kDefaultBlock = 64;
constexpr bool valid_block(int b) { return b >= 32 && b <= 4096 && (b & (b - 1)) == 0; }

// Double quantization: absmax - offset in blocks of this many, 8-bit codes into a 256-entry map.
inline constexpr int kNestedBlock = 256;

// The 256-entry signed map of the nested 8-bit codes (checkpoints store it as `nested_quant_map`).
using DynamicMap = std::array<float, 256>;

// The absmax array after double quantization: absmax[i] = fl(fl(map[codes[i]] *
// nested_absmax[i / nested_block]) + offset).
struct DoubleQuantized {
  float offset = 0;                  // subtracted before, added back after
  std::vector<std::uint8_t> codes;   // one per absmax (the checkpoint's uint8 weight.absmax)
  std::vector<float> nested_absmax;  // one per nested block
  DynamicMap map{};                  // the map the codes index
  int nested_block = kNestedBlock;   // absmax values per nested absmax (bitsandbytes: 256)
};

// fp32(1e-38) (a subnormal, 0x006CE3EE): bitsandbytes' torch code clamps absmax to it.
inline constexpr float kBnbAbsmaxClamp = static_cast<float>(1e-38);

// ---- profiles -------------------------------------------------------------------------------------

// The block maximum stored as absmax.
enum class Absmax : std::uint8_t {
  exact_nan_block,  // lowbit: max |x|; a NaN or Inf in the block makes absmax NaN (every code = zero_code)
  torch_max,        // torch abs().max(): NaN propagates; full blocks store it unclamped, the partial
                    // last block stores max(|x|max, 1e-38) (NaN stays NaN)
  cuda_fmaxf,       // fmaxf(fabsf(x)) from -FLT_MAX: NaN ignored; lanes past n in the last block read 0
};

// How the normalized value v = x / absmax is formed.
enum class Scale : std::uint8_t {
  exact,        // lowbit: no rounding; x is compared with midpoint * absmax exactly
  torch,        // full blocks: clamp(x * fl(1 / max(absmax, 1e-38)), -1, 1); partial last block:
                // clamp(x / max(absmax, 1e-38), -1, 1) (a division: can differ by an ulp)
  reciprocal,   // CUDA: x * fl(1 / absmax), no clamp (1/0 = Inf)
};

// How v picks a code.
enum class Search : std::uint8_t {
  exact_nearest,    // lowbit: the nearest table value to x / absmax in exact arithmetic; a tie goes to
                    // the smaller value; zero is always zero_code
  fp32_midpoints,   // torch.bucketize over fp32_midpoints: #{k : m[k] < v}, ties to the lower code,
                    // NaN -> the largest value (NF4 15, FP4 3), then sorted index -> code
  cuda_thresholds,  // NF4: #{k : v > T[k]} (kNf4CudaThresholdBits), NaN -> 0; FP4: dQuantizeFP4
};

// The 8-bit quantizer of double quantization (absmax - offset into the 256-entry map, blocks of 256).
enum class Nested : std::uint8_t {
  exact_nearest_even,  // lowbit: max |a| (NaN/Inf in the block -> nested absmax NaN, codes 0); the
                       // map entry nearest to a / nested_absmax exactly, ties to the even index;
                       // a zero block stores 0 and the code of the entry nearest 0
  cuda_binary_search,  // CUDA dQuantize<0>: fmaxf absmax, x * fl(1/absmax), 7-step binary search
                       // then one fp32 midpoint compare (ties to the even probe); NaN -> 0
  cpu_lut65536,        // bnb 0.50 quantize_cpu: absmax = max(0, |a|) (NaN ignored), zero block -> codes
                       // 0; v = clamp(a * fl(1/absmax), -1, 1), i = u16((v + 1) * 0.5 * 65535 + 0.5),
                       // code = lut[i], lut[i] = #{k : fl((c[k] + c[k+1]) * 0.5) < -1 + 2i/65535}
  torch_bucketize,     // bnb default backend quantize_blockwise: as Scale::torch, then
                       // bucketize over fl((c[k] + c[k+1]) / 2); zero partial block stores 1e-38
};

struct Profile {
  std::string_view name;
  Absmax absmax;
  Scale scale;
  Search search;
  Nested nested;
  std::string_view summary;
};

inline constexpr std::array kProfiles{
    Profile{"lowbit", Absmax::exact_nan_block, Scale::exact, Search::exact_nearest,
               Nested::exact_nearest_even,
               "exact nearest (ties to the smaller value), NaN/Inf block -> NaN absmax, nested: exact nearest, ties even"},
    Profile{"bnb-cuda", Absmax::cuda_fmaxf, Scale::reciprocal, Search::cuda_thresholds,
               Nested::cuda_binary_search,
               "bitsandbytes CUDA kernels in IEEE fp32: NaN-ignoring absmax, x*(1/absmax), 15 literal thresholds"},
    Profile{"bnb-cpu", Absmax::torch_max, Scale::torch, Search::fp32_midpoints, Nested::cpu_lut65536,
               "bitsandbytes 0.50.1 on an x86-64 CPU: torch 4-bit quantizer, C++ 65536-entry LUT for nested codes"},
    Profile{"bnb-torch", Absmax::torch_max, Scale::torch, Search::fp32_midpoints,
               Nested::torch_bucketize,
               "bitsandbytes 0.50.1 pure-torch default backend (no native library)"},
};

constexpr const Profile& default_profile() { return kProfiles[0]; }

constexpr const Profile* find_profile(std::string_view s) {
  for (const Profile& p : kProfiles)
    if (p.name == s) return &p;
  return nullptr;
}

constexpr std::size_t blocks(std::size_t n, int block) { return ceil_div(n, static_cast<std::size_t>(block)); }
constexpr std::size_t packed_bytes(std::size_t n) { return ceil_div(n, 2); }

// ---- kernels ----------------------------------------------------------------------------------------

// The one kernel signature per NF4/FP4 operation, shared by the reference and every SIMD ISA.
// Storage is bitsandbytes': packed codes, two per byte, element 2j in the high nibble of byte j
// (odd n: the low nibble of the last byte is the code of a padding 0.0); one fp32 absmax per
// block of `block` elements, the last block holding the n mod block remaining elements.
// Double quantization works on the absmax array afterwards (nf4::double_quantize, lowbit/nf4.hpp).

struct Params {
  Table table;
  Profile profile;
  int block;  // valid_block()
};

constexpr Params make_params(Table t = Table::nf4, const Profile& p = default_profile(), int block = kDefaultBlock) {
  return {t, p, block};
}

// packed: packed_bytes(n) bytes; absmax: blocks(n, block) floats.
using EncodeFn = void (*)(std::size_t n, const float* in, std::uint8_t* packed, float* absmax,
                               const Params* params);
// out[i] = fl(table[code i] * absmax[i / block]) for every profile.
using DecodeFn = void (*)(std::size_t n, const std::uint8_t* packed, const float* absmax, float* out,
                                 const Params* params);
// The lowbit profile's double quantization (Nested::exact_nearest_even) of n absmax values: codes[i]
// of fl(absmax[i] - offset), nested_absmax: blocks(n, kNestedBlock) floats; map: 256 entries, valid.
using NestedFn = void (*)(std::size_t n, const float* absmax, float offset, const float* map, std::uint8_t* codes,
                          float* nested_absmax);

struct Impl {
  const char* name = "";  // the kernel list's ISA ("reference", "avx2", "neon") or a plugin's name
  unsigned width = 1;     // elements per vector step (1 for scalar code)
  std::uint32_t cpu = 0;  // the CPU features it needs (lowbit/cpu.hpp); the kernel list sets it
  EncodeFn encode = nullptr;
  DecodeFn decode = nullptr;
  NestedFn nested = nullptr;  // null: the reference's (multiprecision) search
};

}  // namespace lowbit::nf4
