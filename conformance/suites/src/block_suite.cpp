#include "lowbit/conformance/block_suite.hpp"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <random>

#include "lowbit/conformance/cases.hpp"
#include "lowbit/conformance/gse_oracle.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/binary_float.hpp"
#include "lowbit/reference/gse.hpp"
#include "lowbit/reference/mx.hpp"

namespace lowbit::conformance {
namespace {

// An MX slot of `impl`, or the reference's where it leaves it out.
mx::EncodeFn mx_encode(const mx::Impl& impl) { return impl.encode_f32 ? impl.encode_f32 : ref::mx_encode_ref; }
mx::DecodeFn mx_decode(const mx::Impl& impl) { return impl.decode_f32 ? impl.decode_f32 : ref::mx_decode_ref; }

template <class T> T from_float(float x) { return ref::convert_nearest<T>(x); }
template <class T> float to_float(T x) { return ref::convert_nearest<float>(x); }  // exact

std::string describe(const gse::Format& f, Rounding r) {
  return fmt::format("b={} N={} e{} bias {} offset {} {}{} {}", f.bits, f.group, f.exp_bits, f.exp_bias, f.exp_offset,
                     f.mantissa_overflow == gse::MantissaOverflow::bump ? "bump" : "sat",
                     f.exponent_overflow == gse::ExponentOverflow::nan ? "/nan" : "", name(r));
}

class GseRunner {
 public:
  GseRunner(const gse::Impl& impl, const BlockSuiteOptions& o, std::vector<Check>& out) : impl_(impl), o_(o), out_(out) {}

  void run() {
    const bool encodes = !o_.roundings.empty();  // an empty scope leaves the decode check only
    if (encodes) {
      encode_against_oracle<float>();
      encode_against_oracle<f16>();
      encode_against_oracle<bf16>();
    }
    decode_against_oracle();
    if (encodes && !is_reference()) {
      stream_against_reference<float>();
      stream_against_reference<f16>();
      stream_against_reference<bf16>();
    }
  }

 private:
  bool is_reference() const {
    const gse::Impl& r = kernels::gse_reference;
    return impl_.encode_f32 == r.encode_f32 && impl_.encode_f16 == r.encode_f16 && impl_.encode_bf16 == r.encode_bf16 &&
           impl_.decode_f32 == r.decode_f32 && impl_.decode_f16 == r.decode_f16 && impl_.decode_bf16 == r.decode_bf16;
  }

  template <class Body> void check(std::string name, Body&& body) {
    run_check(out_, {impl_.name, "gse", "random params", std::move(name)}, body);
  }
  Rounding pick(std::mt19937_64& rng) const { return o_.roundings[rng() % o_.roundings.size()]; }

  template <class T> void encode_against_oracle() {
    check(fmt::format("encode {} groups -> spec oracle", name(FloatTraits<T>::type)), [&](Check& c) {
      std::mt19937_64 rng(o_.seed);
      for (int trial = 0; trial < o_.groups; ++trial) {
        const gse::Format f = random_gse_format(rng);
        const Rounding r = pick(rng);
        const int len = rng() % 4 ? f.group : 1 + static_cast<int>(rng() % f.group);
        std::vector<T> in;
        std::vector<float> values;
        for (float v : random_gse_group(rng, len, f)) {
          in.push_back(from_float<T>(v));
          values.push_back(to_float(in.back()));
        }
        std::vector<std::uint32_t> words(len);
        for (auto& w : words) w = static_cast<std::uint32_t>(rng());
        const gse::EncodeParams p{f, r, 0, 0, words.data()};
        std::vector<std::int8_t> codes(len);
        std::uint8_t field = 0;
        BlockStats stats;
        gse::encode_kernel<T>(impl_)(in.size(), in.data(), codes.data(), &field, &p, &stats);
        const OracleGroup want = gse_oracle(values, f, r, words);
        ++c.cases;
        std::string diff;
        if (field != want.field) diff = fmt::format("exponent field {} expected {}", field, want.field);
        else if (!(stats == want.stats)) diff = "block status counts differ";
        for (int i = 0; i < len && diff.empty(); ++i)
          if (codes[i] != want.codes[i])
            diff = fmt::format("element {} (0x{:x}) => code {} expected {}", i, FloatTraits<T>::to_bits(in[i]), codes[i], want.codes[i]);
        if (!diff.empty()) c.mismatch(fmt::format("group {} [{}]: {}", trial, describe(f, r), diff), o_.max_errors);
      }
    });
  }

  void decode_against_oracle() {
    check("decode f32 -> exact value", [&](Check& c) {
      std::mt19937_64 rng(o_.seed + 1);
      for (int trial = 0; trial < o_.groups; ++trial) {
        const gse::Format f = random_gse_format(rng);
        const std::size_t n = static_cast<std::size_t>(f.group) * 2 + 3;
        std::vector<std::int8_t> codes(n);
        for (auto& v : codes) v = static_cast<std::int8_t>(static_cast<int>(rng() % (2 * f.max_mantissa() + 1)) - f.max_mantissa());
        std::vector<std::uint8_t> exps(f.groups(n));
        for (auto& e : exps) e = static_cast<std::uint8_t>(rng() % (f.nan_field() + 1));
        std::vector<float> got(n);
        gse::decode_kernel<float>(impl_)(n, codes.data(), exps.data(), got.data(), &f);
        for (std::size_t i = 0; i < n; ++i) {
          ++c.cases;
          const float want = static_cast<float>(gse_oracle_value(codes[i], exps[i / f.group], f));
          if (std::bit_cast<std::uint32_t>(got[i]) != std::bit_cast<std::uint32_t>(want) && !(std::isnan(got[i]) && std::isnan(want)))
            c.mismatch(fmt::format("code {} field {} [{}] => {} expected {}", codes[i], exps[i / f.group], describe(f, Rounding::rne),
                                   got[i], want), o_.max_errors);
        }
      }
    });
  }

  // Long streams with short tails, through the whole kernel, against the reference kernel.
  template <class T> void stream_against_reference() {
    check(fmt::format("stream {} encode+decode -> reference", name(FloatTraits<T>::type)), [&](Check& c) {
      std::mt19937_64 rng(o_.seed + 2);
      const std::vector<std::uint32_t> pool = f32_cases(o_.seed, 1 << 12);
      for (int trial = 0; trial < o_.groups / 20; ++trial) {
        const gse::Format f = random_gse_format(rng);
        const Rounding r = pick(rng);
        const std::size_t n = rng() % (5 * static_cast<std::size_t>(f.group));
        std::vector<T> in(n);
        const int scale = static_cast<int>(rng() % 40) - 20;
        for (auto& v : in) {  // mostly data-like values, some structured specials and ties
          const float data = std::ldexp(static_cast<float>(static_cast<int>(rng() % 2001) - 1000) / 1000, scale);
          v = from_float<T>(rng() % 8 ? data : std::bit_cast<float>(pool[rng() % pool.size()]));
        }
        const gse::EncodeParams p{f, r, rng(), rng() % 1000, nullptr};
        std::vector<std::int8_t> codes(n), want_codes(n);
        std::vector<std::uint8_t> exps(f.groups(n)), want_exps(f.groups(n));
        BlockStats stats, want_stats;
        gse::encode_kernel<T>(impl_)(n, in.data(), codes.data(), exps.data(), &p, &stats);
        ref::gse_encode_ref<T>(n, in.data(), want_codes.data(), want_exps.data(), &p, &want_stats);
        std::vector<T> out(n), want_out(n);
        gse::decode_kernel<T>(impl_)(n, want_codes.data(), want_exps.data(), out.data(), &f);
        ref::gse_decode_ref<T>(n, want_codes.data(), want_exps.data(), want_out.data(), &f);
        c.cases += n;
        bool same = codes == want_codes && exps == want_exps && stats == want_stats;
        for (std::size_t i = 0; i < n && same; ++i) same = FloatTraits<T>::to_bits(out[i]) == FloatTraits<T>::to_bits(want_out[i]);
        if (!same) c.mismatch(fmt::format("stream {} of {} elements [{}] differs", trial, n, describe(f, r)), o_.max_errors);
      }
    });
  }

  const gse::Impl& impl_;
  const BlockSuiteOptions& o_;
  std::vector<Check>& out_;
};

}  // namespace

std::vector<Check> run_gse_suite(const gse::Impl& impl, const BlockSuiteOptions& o) {
  std::vector<Check> out;
  GseRunner(impl, o, out).run();
  return out;
}

namespace {

// Long streams with short tails, every rounding, through impl's encode and decode against the
// reference's (decode on the reference's codes, so that each side is checked on its own).
void mx_streams_against_reference(const mx::Impl& impl, const mx::Traits& t, const BlockSuiteOptions& o, std::vector<Check>& out) {
  run_check(out, {impl.name, std::string(t.name), "microxcaling", "stream encode+decode -> reference"}, [&](Check& c) {
    std::mt19937_64 rng(o.seed + 3);
    const std::vector<std::uint32_t> pool = f32_cases(o.seed, 1 << 12);
    for (int trial = 0; trial < o.groups / 20; ++trial) {
      const Rounding r = o.roundings[rng() % o.roundings.size()];
      const std::size_t n = rng() % (5 * mx::kBlock);
      const int scale = static_cast<int>(rng() % 60) - 30;
      std::vector<float> in(n);
      for (float& v : in)  // mostly data-like values, some structured specials and ties
        v = rng() % 8 ? std::ldexp(static_cast<float>(static_cast<int>(rng() % 2001) - 1000) / 1000, scale)
                      : std::bit_cast<float>(pool[rng() % pool.size()]);
      const std::size_t blocks = (n + mx::kBlock - 1) / mx::kBlock;
      const mx::EncodeParams p{t.format, r, rng(), rng() % 1000};
      std::vector<std::uint8_t> codes(n), want_codes(n), scales(blocks), want_scales(blocks);
      const mx::DecodeParams dp{t.format};
      mx_encode(impl)(n, in.data(), codes.data(), scales.data(), &p, nullptr);
      ref::mx_encode_ref(n, in.data(), want_codes.data(), want_scales.data(), &p, nullptr);
      std::vector<float> y(n), want_y(n);
      mx_decode(impl)(n, want_codes.data(), want_scales.data(), y.data(), &dp);
      ref::mx_decode_ref(n, want_codes.data(), want_scales.data(), want_y.data(), &dp);
      c.cases += n;
      std::string diff;
      for (std::size_t b = 0; b < blocks && diff.empty(); ++b)
        if (scales[b] != want_scales[b]) diff = fmt::format("block {} => scale 0x{:02x} expected 0x{:02x}", b, scales[b], want_scales[b]);
      for (std::size_t i = 0; i < n && diff.empty(); ++i)
        if (codes[i] != want_codes[i])
          diff = fmt::format("element {} (0x{:08x}) => code 0x{:02x} expected 0x{:02x}", i, std::bit_cast<std::uint32_t>(in[i]), codes[i], want_codes[i]);
      for (std::size_t i = 0; i < n && diff.empty(); ++i)
        if (std::bit_cast<std::uint32_t>(y[i]) != std::bit_cast<std::uint32_t>(want_y[i]) && !(std::isnan(y[i]) && std::isnan(want_y[i])))
          diff = fmt::format("decode of element {} (code 0x{:02x}) => {} expected {}", i, want_codes[i], y[i], want_y[i]);
      if (!diff.empty()) c.mismatch(fmt::format("stream {} of {} elements [{}]: {}", trial, n, name(r), diff), o.max_errors);
    }
  });
}

}  // namespace

std::vector<Check> run_mx_suite(const mx::Impl& impl, const GoldenDir& golden, const BlockSuiteOptions& o) {
  std::vector<Check> out;
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<float> u(-1, 1);
  for (const mx::Traits& t : mx::kFormats) {
    for (Rounding r : {Rounding::rna, Rounding::rne, Rounding::rtz}) {
      if (!o.has(r)) continue;
      Check header{impl.name, std::string(t.name), "microxcaling", fmt::format("quantize {} -> microxcaling oracle", name(r))};
      run_check(out, std::move(header), [&](Check& c) {
        for (int trial = 0; trial < o.groups / 10; ++trial) {
          std::vector<float> x(mx::kBlock);
          const int scale = static_cast<int>(rng() % 80) - 40;
          for (float& v : x) v = std::ldexp(u(rng), trial % 10 == 0 ? static_cast<int>(rng() % 40) - scale : scale);
          if (trial % 7 == 0) x[3] = -0.0f;
          if (trial % 11 == 0) x[5] = std::ldexp(1.5f, scale);
          float amax = 0;
          for (float v : x) amax = std::max(amax, std::fabs(v));
          std::vector<std::uint8_t> codes(mx::kBlock), scales(1);
          const mx::EncodeParams ep{t.format, r, 0, 0};
          const mx::DecodeParams dp{t.format};
          mx_encode(impl)(x.size(), x.data(), codes.data(), scales.data(), &ep, nullptr);
          std::vector<float> y(mx::kBlock);
          mx_decode(impl)(x.size(), codes.data(), scales.data(), y.data(), &dp);
          for (int i = 0; i < mx::kBlock; ++i) {
            ++c.cases;
            const float want = mx_oracle(x[i], amax, t, r);
            if (std::bit_cast<std::uint32_t>(y[i]) != std::bit_cast<std::uint32_t>(want))
              c.mismatch(fmt::format("x 0x{:08x} in a block with max {} => {} expected {}", std::bit_cast<std::uint32_t>(x[i]), amax, y[i], want), o.max_errors);
          }
        }
      });
    }
  }
  if (mx_encode(impl) != ref::mx_encode_ref || mx_decode(impl) != ref::mx_decode_ref) {
    if (!o.roundings.empty())
      for (const mx::Traits& t : mx::kFormats) mx_streams_against_reference(impl, t, o, out);
    return out;
  }
  // Elements at scale 2^0 with 'even' are ml_dtypes' saturating conversions (zeros aside: MX writes +0).
  if (!o.has(Rounding::rne)) return out;
  const std::vector<std::uint32_t> cases = f32_cases(o.seed, 1 << 16);
  for (auto [format, file] : {std::pair{mx::Format::fp8_e4m3, "fp8/mld_sat_f32_to_e4m3fn.runs"}, std::pair{mx::Format::fp8_e5m2, "fp8/mld_sat_f32_to_e5m2.runs"},
                              std::pair{mx::Format::fp6_e3m2, "fp8/f32_to_e3m2fn.runs"}, std::pair{mx::Format::fp6_e2m3, "fp8/f32_to_e2m3fn.runs"},
                              std::pair{mx::Format::fp4_e2m1, "fp8/f32_to_e2m1fn.runs"}}) {
    const mx::Traits& t = traits(format);
    out.push_back({"reference", std::string(t.name), "microxcaling", fmt::format("f32 sample elements -> {}", file)});
    Check& c = out.back();
    const std::vector<Run> runs = golden.runs(file);
    const std::uint8_t magnitude = mx::sign_bit(t) - 1;
    for (std::uint32_t bits : cases) {
      const float x = std::bit_cast<float>(bits);
      if (!std::isfinite(x)) continue;
      ++c.cases;
      const std::uint8_t got = ref::mx_element_code(t, x, 0, Rounding::rne, 0), want = lookup(runs, bits);
      if (got != want && !(got == 0 && (want & magnitude) == 0))
        c.mismatch(fmt::format("f32 0x{:08x} => 0x{:02x} expected 0x{:02x}", bits, got, want), o.max_errors);
    }
  }
  return out;
}

}  // namespace lowbit::conformance
