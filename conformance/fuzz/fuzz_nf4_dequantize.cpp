// NF4 / bitsandbytes FP4 dequantization: every nibble is a code and every float an absmax, so it
// never fails for consistent sizes. Every kernel this CPU runs must equal the reference bit for bit;
// with double quantization the absmax values come from 8-bit codes first (nf4_double_dequantize).
//
// Input: [table, profile, double quant][block][n lo][n hi] then packed codes, then the absmax
// floats (or the 8-bit absmax codes, the nested absmax floats and the offset), n cut to what fits.
#include "fuzz.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/nf4.hpp"
#include "lowbit/reference/nf4.hpp"

namespace {

using lowbit::nf4::blocks;
using lowbit::nf4::packed_bytes;

// Bytes that n elements need after the header.
std::size_t need(std::size_t n, int block, bool nested) {
  const std::size_t nb = lowbit::nf4::blocks(n, block);
  return lowbit::nf4::packed_bytes(n) + (nested ? nb + 4 * lowbit::nf4::blocks(nb, lowbit::nf4::kNestedBlock) + 4 : 4 * nb);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lowbit::fuzz::Bytes in(data, size);
  const std::uint8_t pick = in.u8();
  lowbit::nf4::Options o;
  o.table = pick & 1 ? lowbit::nf4::Table::fp4 : lowbit::nf4::Table::nf4;
  o.profile = lowbit::nf4::kProfiles[(pick >> 1) % lowbit::nf4::kProfiles.size()];
  const bool nested = pick & 0x80;
  o.block = 32 << (in.u8() % 8);  // 32 .. 4096
  std::size_t lo = 0, hi = in.u16();  // n: the largest count up to the given one that fits
  while (lo < hi) {
    const std::size_t mid = (lo + hi + 1) / 2;
    if (need(mid, o.block, nested) <= in.left()) lo = mid;
    else hi = mid - 1;
  }
  const std::size_t n = lo;
  const std::size_t nb = lowbit::nf4::blocks(n, o.block);
  const std::vector<std::uint8_t> packed = lowbit::fuzz::values_from<std::uint8_t>(in.take(lowbit::nf4::packed_bytes(n)), lowbit::nf4::packed_bytes(n));
  std::vector<float> absmax(nb);
  if (nested) {
    const std::vector<std::uint8_t> codes = lowbit::fuzz::values_from<std::uint8_t>(in.take(nb), nb);
    const std::size_t nb2 = lowbit::nf4::blocks(nb, lowbit::nf4::kNestedBlock);
    const std::vector<float> nested_absmax = lowbit::fuzz::values_from<float>(in.take(4 * nb2), nb2);
    const float offset = lowbit::fuzz::values_from<float>(in.take(4), 1)[0];
    const lowbit::nf4::DynamicMap map = lowbit::ref::bnb_dynamic_map();
    lowbit::ref::nf4_double_dequantize(codes, nested_absmax, offset, map, absmax);
  } else {
    absmax = lowbit::fuzz::values_from<float>(in.take(4 * nb), nb);
  }

  std::vector<float> want(n), got(n);
  o.impl = &lowbit::kernels::reference<lowbit::nf4::Impl>();
  lowbit::nf4::decode(packed, absmax, want, o);  // consistent sizes: must not throw
  for (const lowbit::nf4::Impl& impl : lowbit::kernels::list<lowbit::nf4::Impl>()) {
    if (!lowbit::kernels::available(impl)) continue;
    o.impl = &impl;
    lowbit::nf4::decode(packed, absmax, got, o);
    LOWBIT_FUZZ_CHECK(lowbit::fuzz::same_bits<float>(got, want));
  }
  // A size that does not match is a clear error, never a read outside the buffers.
  std::vector<std::uint8_t> longer = packed;
  longer.push_back(0);
  o.impl = nullptr;
  LOWBIT_FUZZ_CHECK(!lowbit::fuzz::accepted([&] { lowbit::nf4::decode(longer, absmax, got, o); }));
  return 0;
}
