#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "checks.hpp"
#include "lowbit/gse.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/gse.hpp"

namespace lowbit::gse {
namespace {

using detail::check_size;
using detail::product;


void check_format(const Format& f) {
  if (const auto error = validate(f)) throw Error(*error);
}

gse::EncodeParams params(const Options& o, std::size_t n) {
  check_format(o.format);
  detail::check_rounding("GSE", o.rounding);
  return {o.format, o.rounding, o.seed, o.index0, detail::given_random_bits(o.random_bits, o.rounding, n)};
}

template <class In>
BlockStats encode_any(std::span<const In> in, std::span<std::int8_t> codes, std::span<std::uint8_t> exps,
                      const Options& o) {
  const gse::EncodeParams p = params(o, in.size());
  check_size("codes", codes.size(), in.size());
  check_size("exps", exps.size(), o.format.groups(in.size()));
  BlockStats stats;
  encode_kernel<In>(detail::impl_of(o.impl))(in.size(), in.data(), codes.data(), exps.data(), &p, &stats);
  return stats;
}

// Codes outside +-(2^(b-1) - 1) are malformed data. The decode kernels check them as they go
// (gse::DecodeFn); the other calls check before their work.
[[noreturn]] void invalid_code(std::span<const std::int8_t> codes, std::size_t i, const Format& f, std::string_view what = "") {
  throw Error(fmt::format("{}code {} at element {} is outside +-{} for {}-bit elements", what, codes[i], i, f.max_mantissa(), f.bits),
              Errc::data);
}

void check_codes(std::span<const std::int8_t> codes, const Format& f, std::string_view what = "") {
  if (const auto i = ref::gse_invalid_code(codes, f)) invalid_code(codes, *i, f, what);
}

// The decode kernel of `impl`; the index of the first invalid code it reported, or nothing.
template <class Out>
std::optional<std::size_t> decode_checked(const Impl& impl, std::span<const std::int8_t> codes, const std::uint8_t* exps, Out* out,
                                          const Format& f) {
  if (decode_kernel<Out>(impl)(codes.size(), codes.data(), exps, out, &f)) return std::nullopt;
  if (const auto i = ref::gse_invalid_code(codes, f)) return i;
  throw Error(fmt::format("the {} GSE decode kernel reported an invalid code where there is none", impl.name), Errc::internal);
}

template <class Out>
void decode_any(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, std::span<Out> out,
                const Options& o) {
  check_format(o.format);
  check_size("output", out.size(), codes.size());
  check_size("exps", exps.size(), o.format.groups(codes.size()));
  if (const auto i = decode_checked(detail::impl_of(o.impl), codes, exps.data(), out.data(), o.format))
    invalid_code(codes, *i, o.format);
}

template <class In> Encoded encode_new(std::span<const In> in, const Options& o) {
  check_format(o.format);
  Encoded e{std::vector<std::int8_t>(in.size()), std::vector<std::uint8_t>(o.format.groups(in.size())), {}};
  e.stats = encode_any(in, std::span(e.codes), std::span(e.exps), o);
  return e;
}

// In chunks of whole groups through bounded code buffers: in and out may alias.
template <class T> BlockStats quantize_any(std::span<const T> in, std::span<T> out, const Options& o) {
  check_format(o.format);
  check_size("output", out.size(), in.size());
  const std::size_t chunk = static_cast<std::size_t>(o.format.group) * 512;
  std::vector<std::int8_t> codes(std::min(in.size(), chunk));
  std::vector<std::uint8_t> exps(o.format.groups(codes.size()));
  BlockStats stats;
  Options part = o;
  const Impl& impl = detail::impl_of(o.impl);
  for (std::size_t i = 0; i < in.size(); i += chunk) {
    const std::size_t n = std::min(chunk, in.size() - i), g = o.format.groups(n);
    part.index0 = o.index0 + i;
    if (!o.random_bits.empty()) part.random_bits = o.random_bits.subspan(i, n);
    stats += encode_any(in.subspan(i, n), std::span(codes).first(n), std::span(exps).first(g), part);
    if (const auto j = decode_checked(impl, std::span<const std::int8_t>(codes).first(n), exps.data(), out.data() + i, o.format))
      throw Error(fmt::format("the {} GSE encode kernel wrote code {} for element {}, outside +-{}", impl.name, codes[*j], i + *j,
                              o.format.max_mantissa()), Errc::internal);
  }
  return stats;
}

template <class T> std::vector<T> quantize_new(std::span<const T> in, const Options& o) {
  std::vector<T> out(in.size());
  quantize_any(in, std::span(out), o);
  return out;
}

}  // namespace

BlockStats encode(std::span<const float> in, std::span<std::int8_t> c, std::span<std::uint8_t> e, const Options& o) { return encode_any(in, c, e, o); }
BlockStats encode(std::span<const f16> in, std::span<std::int8_t> c, std::span<std::uint8_t> e, const Options& o) { return encode_any(in, c, e, o); }
BlockStats encode(std::span<const bf16> in, std::span<std::int8_t> c, std::span<std::uint8_t> e, const Options& o) { return encode_any(in, c, e, o); }
Encoded encode(std::span<const float> in, const Options& o) { return encode_new(in, o); }
Encoded encode(std::span<const f16> in, const Options& o) { return encode_new(in, o); }
Encoded encode(std::span<const bf16> in, const Options& o) { return encode_new(in, o); }

void decode(std::span<const std::int8_t> c, std::span<const std::uint8_t> e, std::span<float> out, const Options& o) { decode_any(c, e, out, o); }
void decode(std::span<const std::int8_t> c, std::span<const std::uint8_t> e, std::span<f16> out, const Options& o) { decode_any(c, e, out, o); }
void decode(std::span<const std::int8_t> c, std::span<const std::uint8_t> e, std::span<bf16> out, const Options& o) { decode_any(c, e, out, o); }
template <class Out>
std::vector<Out> decode(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, const Options& o) {
  std::vector<Out> out(codes.size());
  decode_any(codes, exps, std::span(out), o);
  return out;
}
template std::vector<float> decode<float>(std::span<const std::int8_t>, std::span<const std::uint8_t>, const Options&);
template std::vector<f16> decode<f16>(std::span<const std::int8_t>, std::span<const std::uint8_t>, const Options&);
template std::vector<bf16> decode<bf16>(std::span<const std::int8_t>, std::span<const std::uint8_t>, const Options&);

BlockStats quantize(std::span<const float> in, std::span<float> out, const Options& o) { return quantize_any(in, out, o); }
BlockStats quantize(std::span<const f16> in, std::span<f16> out, const Options& o) { return quantize_any(in, out, o); }
BlockStats quantize(std::span<const bf16> in, std::span<bf16> out, const Options& o) { return quantize_any(in, out, o); }
std::vector<float> quantize(std::span<const float> in, const Options& o) { return quantize_new(in, o); }
std::vector<f16> quantize(std::span<const f16> in, const Options& o) { return quantize_new(in, o); }
std::vector<bf16> quantize(std::span<const bf16> in, const Options& o) { return quantize_new(in, o); }

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

Encoded encode_rows(std::size_t rows, std::size_t cols, std::span<const float> in, const Options& o) {
  check_format(o.format);
  Encoded e{std::vector<std::int8_t>(product("input", rows, cols)),
            std::vector<std::uint8_t>(product("exps", rows, o.format.groups(cols))), {}};
  e.stats = encode_rows(rows, cols, in, std::span(e.codes), std::span(e.exps), o);
  return e;
}

std::size_t packed_bytes(std::size_t n, const Format& f) {
  check_format(f);
  return ref::gse_packed_bytes(n, f);
}

void pack(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, const Format& f,
          std::span<std::uint8_t> packed) {
  check_size("packed bytes", packed.size(), packed_bytes(codes.size(), f));
  check_size("exps", exps.size(), f.groups(codes.size()));
  check_codes(codes, f);
  ref::gse_pack(codes, exps, f, packed);
}

std::vector<std::uint8_t> pack(std::span<const std::int8_t> codes, std::span<const std::uint8_t> exps, const Format& f) {
  std::vector<std::uint8_t> packed(packed_bytes(codes.size(), f));
  pack(codes, exps, f, std::span(packed));
  return packed;
}

void unpack(std::span<const std::uint8_t> packed, const Format& f, std::span<std::int8_t> codes,
            std::span<std::uint8_t> exps) {
  check_size("packed bytes", packed.size(), packed_bytes(codes.size(), f));
  check_size("exps", exps.size(), f.groups(codes.size()));
  ref::gse_unpack(packed, f, codes, exps);
}

Encoded unpack(std::span<const std::uint8_t> packed, std::size_t n, const Format& f) {
  check_format(f);
  Encoded e{std::vector<std::int8_t>(n), std::vector<std::uint8_t>(f.groups(n)), {}};
  unpack(packed, f, std::span(e.codes), std::span(e.exps));
  return e;
}

void gemm(std::size_t m, std::size_t n, std::size_t k, const GemmOperand& a, const GemmOperand& b,
          std::span<float> c, const GemmOptions& o) {
  check_format(a.format);
  check_format(b.format);
  if (a.format.group != b.format.group)
    throw Error(fmt::format("A is grouped by {} and B by {}: the groups must match", a.format.group, b.format.group));
  check_size("A codes", a.codes.size(), product("A codes", m, k));
  check_size("A exps", a.exps.size(), product("A exps", m, a.format.groups(k)));
  check_size("B codes", b.codes.size(), product("B codes", n, k));
  check_size("B exps", b.exps.size(), product("B exps", n, b.format.groups(k)));
  check_size("C", c.size(), product("C", m, n));
  if (m == 0 || n == 0) {  // the kernel reads no code
    check_codes(a.codes, a.format, "A: ");
    check_codes(b.codes, b.format, "B: ");
  }
  const GemmParams p{a.format, b.format, o.accumulate};
  const GemmImpl& impl = detail::impl_of(o.impl);
  if (!impl.gemm(m, n, k, a.codes.data(), a.exps.data(), b.codes.data(), b.exps.data(), c.data(), &p)) {
    check_codes(a.codes, a.format, "A: ");
    check_codes(b.codes, b.format, "B: ");
    throw Error(fmt::format("the {} GSE GEMM kernel reported an invalid code where there is none", impl.name), Errc::internal);
  }
}

std::vector<float> gemm(std::size_t m, std::size_t n, std::size_t k, const GemmOperand& a, const GemmOperand& b,
                        const GemmOptions& o) {
  std::vector<float> c(product("C", m, n));
  gemm(m, n, k, a, b, std::span(c), o);
  return c;
}

}  // namespace lowbit::gse
