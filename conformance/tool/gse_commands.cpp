#include "gse_commands.hpp"

#include <fmt/format.h>

#include <cstring>
#include <vector>

#include "lowbit/io/gse_file.hpp"
#include "lowbit/formats/mx.hpp"
#include "lowbit/gse.hpp"
#include "lowbit/reference/mx.hpp"
#include "stream.hpp"

namespace lowbit::cli {
namespace {

template <class T> std::vector<T> read_all(const std::string& path) {
  InputStream in(path, sizeof(T));
  std::vector<std::uint8_t> buf, all;
  while (in.read(buf, 1 << 20)) all.insert(all.end(), buf.begin(), buf.end());
  std::vector<T> v(all.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), all.data(), all.size());
  return v;
}

template <class T> void write_all(OutputStream& out, const std::vector<T>& v) {
  out.write({reinterpret_cast<const std::uint8_t*>(v.data()), v.size() * sizeof(T)});
}

Rounding rounding_of(const std::string& s) {
  const auto r = parse_rounding(s);
  if (!r) throw UsageError(fmt::format("unknown rounding '{}' (valid: rne, rna, rtz, sr; for MX also nearest, even, floor)", s));
  return *r;
}

}  // namespace

std::vector<CLI::Option*> add_gse_options(CLI::App* app, GseArgs& g) {
  return {
      app->add_option("--bits", g.bits, "GSE: bits per element, sign included, 4..8 (default 8)"),
      app->add_option("--group", g.group, "GSE: group size 16, 32, 64, 128 or 256 (default 32)"),
      app->add_option("--exp-bits", g.exp_bits, "GSE: shared exponent field, 5 or 8 bits (default 5)"),
      app->add_option("--exp-bias", g.exp_bias, "GSE: exponent bias (default 15 for 5 bits, 127 for 8)"),
      app->add_option("--exp-offset", g.exp_offset, "GSE: per-tensor power of two added to every exponent (default 0)"),
      app->add_option("--mantissa-overflow", g.mantissa_overflow, "GSE: saturate (default) or bump")
          ->check(CLI::IsMember({"saturate", "bump"})),
      app->add_option("--exponent-overflow", g.exponent_overflow, "GSE: saturate (default) or nan")
          ->check(CLI::IsMember({"saturate", "nan"})),
  };
}

gse::Format gse_format(const GseArgs& g) {
  gse::Format f;
  f.bits = g.bits;
  f.group = g.group;
  f.exp_bits = g.exp_bits;
  f.exp_bias = g.exp_bias ? *g.exp_bias : g.exp_bits == 8 ? 127 : 15;
  f.exp_offset = g.exp_offset;
  f.mantissa_overflow = g.mantissa_overflow == "bump" ? gse::MantissaOverflow::bump : gse::MantissaOverflow::saturate;
  f.exponent_overflow = g.exponent_overflow == "nan" ? gse::ExponentOverflow::nan : gse::ExponentOverflow::saturate;
  if (const auto error = validate(f)) throw UsageError(*error);
  return f;
}

int run_encode_gse(const CodecArgs& a, const GseArgs& g) {
  if (a.type != "f32") throw UsageError("gse encodes f32 input only (--from f32)");
  io::GseFile file;
  file.format = gse_format(g);
  file.rounding = rounding_of(a.rounding);
  file.seed = a.seed;
  const std::vector<float> x = read_all<float>(a.input);
  OutputStream out(a.output);
  file.codes.resize(x.size());
  file.exps.resize(file.format.groups(x.size()));
  gse::encode(x, file.codes, file.exps, {file.format, file.rounding, a.seed});
  write_all(out, io::write_gse(file));
  out.commit();
  return 0;
}

int run_decode_gse(const CodecArgs& a) {
  if (a.type != "f32") throw UsageError("gse decodes to f32 only (--to f32)");
  const std::vector<std::uint8_t> bytes = read_all<std::uint8_t>(a.input);
  const io::GseFile file = [&] {
    try {
      return io::read_gse(bytes);
    } catch (const std::runtime_error& e) {
      throw UsageError(e.what());
    }
  }();
  OutputStream out(a.output, "<f4");
  std::vector<float> y(file.codes.size());
  gse::decode(file.codes, file.exps, std::span(y), {file.format});
  write_all(out, y);
  out.commit();
  return 0;
}

int run_quantize(const CodecArgs& a, const GseArgs& g) {
  const bool is_gse = a.format == "gse";
  const auto mx = mx::parse_format(a.format);
  if (!is_gse && !mx) {
    std::string names = "gse";
    for (const mx::Traits& t : mx::kFormats) names += ", " + std::string(t.name);
    throw UsageError(fmt::format("unknown block format '{}' (valid: {})", a.format, names));
  }
  const gse::Format format = is_gse ? gse_format(g) : gse::Format{};
  const Rounding r = rounding_of(a.rounding.empty() ? (is_gse ? "rne" : "nearest") : a.rounding);
  const std::size_t block = is_gse ? static_cast<std::size_t>(format.group) : mx::kBlock;
  InputStream in(a.input, sizeof(float));
  OutputStream out(a.output, "<f4");
  std::vector<std::uint8_t> buf;
  std::vector<float> x, y;
  std::vector<std::int8_t> codes;
  std::vector<std::uint8_t> exps;
  std::uint64_t index = 0;
  // Whole blocks per chunk, so that chunking never changes a block.
  while (const std::size_t n = in.read(buf, block * 32768)) {
    x.resize(n);
    y.resize(n);
    std::memcpy(x.data(), buf.data(), n * sizeof(float));
    codes.resize(n);
    const std::size_t blocks = (n + block - 1) / block;
    exps.resize(blocks);
    if (is_gse) {
      const gse::Options o{format, r, a.seed, index};
      gse::encode(x, codes, exps, o);
      gse::decode(codes, exps, std::span(y), o);
    } else {
      auto* c = reinterpret_cast<std::uint8_t*>(codes.data());
      const mx::EncodeParams ep{*mx, r, a.seed, index};
      ref::mx_encode_ref(n, x.data(), c, exps.data(), &ep, nullptr);
      const mx::DecodeParams dp{*mx};
      ref::mx_decode_ref(n, c, exps.data(), y.data(), &dp);
    }
    write_all(out, y);
    index += n;
  }
  out.commit();
  return 0;
}

int run_gemm(const GemmArgs& a, const GseArgs& g) {
  const gse::Format format = gse_format(g);
  const auto acc = a.accumulate == "exact" ? gse::Accumulate::exact : gse::Accumulate::fp32;
  const Rounding r = rounding_of(a.rounding);
  if (!checked_mul(a.m, a.k) || !checked_mul(a.n, a.k) || !checked_mul(a.m, a.n))
    throw UsageError(fmt::format("--m {} --n {} --k {}: the matrices' element counts overflow", a.m, a.n, a.k));
  const std::vector<float> A = read_all<float>(a.a), B = read_all<float>(a.b);
  if (A.size() != a.m * a.k) throw UsageError(fmt::format("-a has {} floats, but --m {} --k {} needs {}", A.size(), a.m, a.k, a.m * a.k));
  if (B.size() != a.n * a.k) throw UsageError(fmt::format("-b has {} floats, but --n {} --k {} needs {}", B.size(), a.n, a.k, a.n * a.k));
  std::vector<std::int8_t> ca(A.size()), cb(B.size());
  std::vector<std::uint8_t> ea(a.m * format.groups(a.k)), eb(a.n * format.groups(a.k));
  gse::encode_rows(a.m, a.k, A, ca, ea, {format, r});
  gse::encode_rows(a.n, a.k, B, cb, eb, {format, r});
  std::vector<float> C(a.m * a.n);
  OutputStream out(a.output, "<f4");
  gse::gemm(a.m, a.n, a.k, {ca, ea, format}, {cb, eb, format}, C, {.accumulate = acc});
  write_all(out, C);
  out.commit();
  return 0;
}

}  // namespace lowbit::cli
