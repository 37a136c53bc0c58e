#include <fmt/format.h>

#include "lowbit/gse.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/gse.hpp"

namespace lowbit::gse {
namespace {

void check_format(const GseFormat& f) {
  if (const auto error = validate(f)) throw Error(*error);
}

void check_size(std::string_view what, std::size_t got, std::size_t want) {
  if (got != want) throw Error(fmt::format("{} has {} elements, expected {}", what, got, want));
}

// rows x cols of `what`, which must fit size_t.
std::size_t product(std::string_view what, std::size_t rows, std::size_t cols) {
  const auto n = checked_mul(rows, cols);
  if (!n) throw Error(fmt::format("{}: {} x {} elements overflow size_t", what, rows, cols));
  return *n;
}

GseEncodeParams params(const Options& o, std::size_t n) {
  check_format(o.format);
  GseEncodeParams p{o.format, o.rounding, o.seed, o.index0, nullptr};
  if (!o.random_bits.empty()) {
    if (o.rounding != Rounding::sr) throw Error("random bits were given but rounding is not sr");
    check_size("random_bits", o.random_bits.size(), n);
    p.random_bits = o.random_bits.data();
  }
  return p;
}

template <class In>
BlockStats encode_any(std::span<const In> in, std::span<std::int8_t> codes, std::span<std::uint8_t> exps,
                      const Options& o) {
  const GseEncodeParams p = params(o, in.size());
  check_size("codes", codes.size(), in.size());
  check_size("exps", exps.size(), o.format.groups(in.size()));
  BlockStats stats;
  gse_encode_kernel<In>(o.impl ? *o.impl : gse_best())(in.size(), in.data(), codes.data(), exps.data(), &p, &stats);
  return stats;
}

void check_codes(std::span<const std::int8_t> codes, const GseFormat& f) {
  const int max = f.max_mantissa();
  for (std::size_t i = 0; i < codes.size(); ++i)
    if (codes[i] > max || codes[i] < -max)
      throw Error(fmt::format("code {} at element {} is outside +-{} for {}-bit elements", codes[i], i, max, f.bits));
}

template <class Out>
void decode_any(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, std::span<Out> out,
                const Options& o) {
  check_format(o.format);
  check_size("output", out.size(), codes.size());
  check_size("exps", exps.size(), o.format.groups(codes.size()));
  check_codes(codes, o.format);
  gse_decode_kernel<Out>(o.impl ? *o.impl : gse_best())(codes.size(), codes.data(), exps.data(), out.data(), &o.format);
}

}  // namespace

BlockStats encode(std::span<const float> in, std::span<std::int8_t> c, std::span<std::uint8_t> e, const Options& o) { return encode_any(in, c, e, o); }
BlockStats encode(std::span<const f16> in, std::span<std::int8_t> c, std::span<std::uint8_t> e, const Options& o) { return encode_any(in, c, e, o); }
BlockStats encode(std::span<const bf16> in, std::span<std::int8_t> c, std::span<std::uint8_t> e, const Options& o) { return encode_any(in, c, e, o); }
void decode(std::span<const std::int8_t> c, std::span<const std::uint8_t> e, std::span<float> out, const Options& o) { decode_any(c, e, out, o); }
void decode(std::span<const std::int8_t> c, std::span<const std::uint8_t> e, std::span<f16> out, const Options& o) { decode_any(c, e, out, o); }
void decode(std::span<const std::int8_t> c, std::span<const std::uint8_t> e, std::span<bf16> out, const Options& o) { decode_any(c, e, out, o); }

BlockStats encode_rows(std::size_t rows, std::size_t cols, std::span<const float> in, std::span<std::int8_t> codes,
                       std::span<std::uint8_t> exps, const Options& o) {
  check_format(o.format);
  check_size("input", in.size(), product("input", rows, cols));
  check_size("exps", exps.size(), product("exps", rows, o.format.groups(cols)));
  const std::size_t g = o.format.groups(cols);
  BlockStats stats;
  for (std::size_t r = 0; r < rows; ++r) {
    Options row = o;
    row.index0 = o.index0 + r * cols;
    if (!o.random_bits.empty()) row.random_bits = o.random_bits.subspan(r * cols, cols);
    stats += encode(in.subspan(r * cols, cols), codes.subspan(r * cols, cols), exps.subspan(r * g, g), row);
  }
  return stats;
}

std::size_t packed_bytes(std::size_t n, const GseFormat& f) {
  check_format(f);
  const auto bytes = ref::gse_packed_bytes(n, f);
  if (!bytes) throw Error(fmt::format("{} elements of {} bits do not fit size_t bytes when packed", n, f.bits));
  return *bytes;
}

void pack(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, const GseFormat& f,
          std::span<std::uint8_t> packed) {
  check_size("packed bytes", packed.size(), packed_bytes(codes.size(), f));
  check_size("exps", exps.size(), f.groups(codes.size()));
  check_codes(codes, f);
  ref::gse_pack(codes, exps, f, packed);
}

void unpack(std::span<const std::uint8_t> packed, const GseFormat& f, std::span<std::int8_t> codes,
            std::span<std::uint8_t> exps) {
  check_size("packed bytes", packed.size(), packed_bytes(codes.size(), f));
  check_size("exps", exps.size(), f.groups(codes.size()));
  if (!ref::gse_unpack(packed, f, codes, exps))
    throw Error(fmt::format("packed GSE data holds the unused code -{}", 1 << (f.bits - 1)));
}

void gemm(std::size_t m, std::size_t n, std::size_t k, const GemmOperand& a, const GemmOperand& b,
          std::span<float> c, Accumulate accumulate, const GseGemmImpl* impl) {
  check_format(a.format);
  check_format(b.format);
  if (a.format.group != b.format.group)
    throw Error(fmt::format("A is grouped by {} and B by {}: the groups must match", a.format.group, b.format.group));
  check_size("A codes", a.codes.size(), product("A codes", m, k));
  check_size("A exps", a.exps.size(), product("A exps", m, a.format.groups(k)));
  check_size("B codes", b.codes.size(), product("B codes", n, k));
  check_size("B exps", b.exps.size(), product("B exps", n, b.format.groups(k)));
  check_size("C", c.size(), product("C", m, n));
  check_codes(a.codes, a.format);
  check_codes(b.codes, b.format);
  const GseGemmParams p{a.format, b.format, accumulate};
  (impl ? *impl : gse_gemm_best()).gemm(m, n, k, a.codes.data(), a.exps.data(), b.codes.data(), b.exps.data(), c.data(), &p);
}

}  // namespace lowbit::gse
