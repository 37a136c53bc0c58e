// FP8 benchmarks: every kernel of the table, the reference included, for every format of the
// family (P3109's binary8pP too), every source and destination type, with the format's default
// profile (P3109: p3109), and the public fp8::encode / fp8::decode on f32, at 64 Ki (cache) and
// 16 Mi (memory) elements.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

#include "bench.hpp"
#include "lowbit/fp8.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/binary_float.hpp"
#include "lowbit/reference/fp8.hpp"

namespace {

using namespace lowbit;

// Values like weights or activations, in each source type: a few beyond E4M3's range, and as far
// beyond a narrower format's (scaled by its max finite / E4M3's), positive for E8M0 (scales).
template <class T> std::vector<T> inputs(std::size_t n, fp8::Format format) {
  const auto max = [](fp8::Format f) { return ref::fp8_decode<float>(traits(f).max_finite(), fp8::decode_params(f, fp8::default_profile(f))); };
  const float scale = std::min(1.0f, max(format) / max(fp8::Format::e4m3));
  const std::vector<float> f = bench::normal_floats(n);
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = ref::convert_nearest<T>(traits(format).is_signed ? f[i] * scale : std::fabs(f[i]));
  return v;
}

std::vector<std::uint8_t> codes(std::size_t n, fp8::Format f) {
  fp8::Options o;
  o.format = f;
  return fp8::encode(std::span<const float>(inputs<float>(n, f)), o);
}

std::string encode_name(FloatType in, fp8::Format f, std::string_view impl) {
  return fmt::format("BM_encode_{}_{}_{}", lowbit::name(in), traits(f).name, impl);
}
std::string decode_name(fp8::Format f, FloatType out, std::string_view impl) {
  return fmt::format("BM_decode_{}_{}_{}", traits(f).name, lowbit::name(out), impl);
}

template <class In> void register_encode(const fp8::Impl& impl, fp8::Format f) {
  const fp8::EncodeParams p = fp8::encode_params(f, fp8::default_profile(f), FloatTraits<In>::type);
  bench::stream(encode_name(FloatTraits<In>::type, f, impl.name), sizeof(In), [&impl, f, p](std::size_t n) {  // input bytes
    return [&impl, p, n, in = inputs<In>(n, f), out = std::vector<std::uint8_t>(n)]() mutable {
      fp8::encode_kernel<In>(impl)(n, in.data(), out.data(), &p);
    };
  });
}

template <class Out> void register_decode(const fp8::Impl& impl, fp8::Format f) {
  const fp8::DecodeParams p = fp8::decode_params(f, fp8::default_profile(f));
  bench::stream(decode_name(f, FloatTraits<Out>::type, impl.name), sizeof(Out), [&impl, f, p](std::size_t n) {  // output bytes
    return [&impl, p, n, in = codes(n, f), out = std::vector<Out>(n)]() mutable { fp8::decode_kernel<Out>(impl)(n, in.data(), out.data(), &p); };
  });
}

// fp8::encode / decode on f32 with default options but the format.
void register_api(fp8::Format f) {
  fp8::Options o;
  o.format = f;
  bench::api_codec(
      fmt::format("{} f32", traits(f).name), [f](std::string_view impl) { return encode_name(FloatType::f32, f, impl); },
      [f](std::string_view impl) { return decode_name(f, FloatType::f32, impl); }, kernels::best<fp8::Impl>().name, sizeof(float),
      [o, f](std::size_t n) {
        return [o, in = inputs<float>(n, f), out = std::vector<std::uint8_t>(n)]() mutable { fp8::encode(std::span<const float>(in), std::span(out), o); };
      },
      [o, f](std::size_t n) {
        return [o, in = codes(n, f), out = std::vector<float>(n)]() mutable { fp8::decode(std::span<const std::uint8_t>(in), std::span(out), o); };
      });
}

void register_fp8() {
  for (const fp8::Impl& impl : kernels::list<fp8::Impl>()) {
    if (!kernels::available(impl)) continue;
    for (fp8::Format f : fp8::kFormats) {
      register_encode<float>(impl, f);
      register_encode<double>(impl, f);
      register_encode<f16>(impl, f);
      register_encode<bf16>(impl, f);
      register_decode<float>(impl, f);
      register_decode<f16>(impl, f);
      register_decode<bf16>(impl, f);
      if (std::string_view(impl.name) == "reference") continue;
      bench::codec_targets(
          std::string(traits(f).name), impl.name, [f](std::string_view isa) { return encode_name(FloatType::f32, f, isa); },
          [f](std::string_view isa) { return decode_name(f, FloatType::f32, isa); });
    }
  }
  for (fp8::Format f : fp8::kFormats) register_api(f);
}

const bool registered = (register_fp8(), true);

}  // namespace
