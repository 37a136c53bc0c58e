// The GSE bit-packed layout without the .gse header: lowbit::gse::unpack of bytes under a format the
// first bytes choose, then decode by every kernel (as the reference). What unpack accepts must pack
// back to the same bytes, padding bits aside.
//
// Input: [bits][group][exp_bits and flags][exp_bias][exp_offset][n mode][n lo][n hi] payload...
//   n mode bit 0 set: n is the 16-bit count given (the payload size may then be wrong: a clear
//   error); clear: n is the most elements the payload holds, and the payload is cut to their size.
#include "fuzz.hpp"
#include "gse_decode_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lowbit::fuzz::Bytes in(data, size);
  lowbit::gse::Format f;
  f.bits = 4 + in.u8() % 5;
  f.group = lowbit::gse::kGroupSizes[in.u8() % lowbit::gse::kGroupSizes.size()];
  const std::uint8_t e = in.u8();
  f.exp_bits = e & 1 ? 8 : 5;
  f.mantissa_overflow = e & 2 ? lowbit::gse::MantissaOverflow::bump : lowbit::gse::MantissaOverflow::saturate;
  f.exponent_overflow = e & 4 ? lowbit::gse::ExponentOverflow::nan : lowbit::gse::ExponentOverflow::saturate;
  f.exp_bias = in.u8() % static_cast<int>(f.nan_field());
  f.exp_offset = static_cast<int>(in.u8() % 201) - 100;
  const bool explicit_n = in.u8() & 1;
  std::size_t n = in.u16();
  std::span<const std::uint8_t> payload = in.rest();
  if (!explicit_n) {
    // The largest n whose layout fits in the payload.
    std::size_t lo = 0, hi = payload.size() * 8;
    while (lo < hi) {
      const std::size_t mid = (lo + hi + 1) / 2;
      if (lowbit::gse::packed_bytes(mid, f) <= payload.size()) lo = mid;
      else hi = mid - 1;
    }
    n = lo;
    payload = payload.first(lowbit::gse::packed_bytes(n, f));
  }
  std::vector<std::int8_t> codes(n);
  std::vector<std::uint8_t> exps(f.groups(n));
  if (!lowbit::fuzz::accepted([&] { lowbit::gse::unpack(payload, f, codes, exps); })) return 0;
  LOWBIT_FUZZ_CHECK(payload.size() == lowbit::gse::packed_bytes(n, f));
  for (std::uint8_t x : exps) LOWBIT_FUZZ_CHECK(x <= f.nan_field());
  lowbit::fuzz::check_gse_decode(codes, exps, f);

  std::vector<std::uint8_t> packed(payload.size());
  lowbit::gse::pack(codes, exps, f, packed);
  const std::size_t bits = exps.size() * static_cast<std::size_t>(f.exp_bits) + n * static_cast<std::size_t>(f.bits);
  for (std::size_t i = 0; i < packed.size(); ++i) {
    const unsigned used = bits - 8 * i >= 8 ? 0xFFu : (1u << (bits - 8 * i)) - 1;  // the last byte's padding
    LOWBIT_FUZZ_CHECK(packed[i] == (payload[i] & used));
  }
  return 0;
}
