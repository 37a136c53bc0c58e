// NVFP4 benchmarks: every kernel of the table and the public nvfp4::encode / nvfp4::decode on rows of
// 4096 f32 (1-D blocks, linear scales, rne, the tensor's amax given), at 64 Ki (cache) and 16 Mi
// (memory) elements; the SIMD kernels' targets as FP8's.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <optional>
#include <string_view>
#include <vector>

#include "bench.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/nvfp4.hpp"

namespace {

using namespace lowbit;

constexpr std::size_t kCols = 4096;

// The options of the benchmarks: rows of kCols, the tensor's amax given when known.
nvfp4::Options options(std::optional<float> global_amax = std::nullopt) {
  nvfp4::Options o;
  o.cols = kCols;
  o.global_amax = global_amax;
  return o;
}

std::string encode_name(std::string_view impl) { return fmt::format("BM_nvfp4_encode_f32_{}", impl); }
std::string decode_name(std::string_view impl) { return fmt::format("BM_nvfp4_decode_f32_{}", impl); }

// What a step works on: values, their codes, scales and amax, an output.
struct Buffers {
  std::vector<float> values, out;
  nvfp4::Encoded e;
  explicit Buffers(std::size_t n) : values(bench::normal_floats(n)), out(n), e(nvfp4::encode(std::span<const float>(values), options())) {}
  nvfp4::EncodeParams encode_params() const { return {values.size() / kCols, kCols, nvfp4::Blocking::d1, nvfp4::ScaleLayout::linear, Rounding::rne, e.global_amax, nullptr}; }
  nvfp4::DecodeParams decode_params() const { return {values.size() / kCols, kCols, nvfp4::ScaleLayout::linear, e.global_amax}; }
};

void register_nvfp4(const nvfp4::Impl& impl) {
  const nvfp4::EncodeFn encode = impl.encode_f32 ? impl.encode_f32 : kernels::reference<nvfp4::Impl>().encode_f32;
  const nvfp4::DecodeFn decode = impl.decode_f32 ? impl.decode_f32 : kernels::reference<nvfp4::Impl>().decode_f32;
  bench::stream(encode_name(impl.name), sizeof(float), [encode](std::size_t n) {  // input bytes
    return [encode, b = Buffers(n)]() mutable {
      const nvfp4::EncodeParams p = b.encode_params();
      encode(b.values.data(), b.e.codes.data(), b.e.scales.data(), &p);
    };
  });
  bench::stream(decode_name(impl.name), sizeof(float), [decode](std::size_t n) {  // output bytes
    return [decode, b = Buffers(n)]() mutable {
      const nvfp4::DecodeParams p = b.decode_params();
      decode(b.e.codes.data(), b.e.scales.data(), b.out.data(), &p);
    };
  });
  if (std::string_view(impl.name) != "reference") bench::codec_targets("nvfp4", impl.name, encode_name, decode_name);
}

// The public calls with the amax given, as the kernels get it (nvfp4::encode otherwise takes a pass for it).
void register_api() {
  bench::api_codec(
      "nvfp4 f32", encode_name, decode_name, kernels::best<nvfp4::Impl>().name, sizeof(float),
      [](std::size_t n) {
        return [b = Buffers(n)]() mutable {
          nvfp4::encode(std::span<const float>(b.values), std::span(b.e.codes), std::span(b.e.scales), options(b.e.global_amax));
        };
      },
      [](std::size_t n) { return [b = Buffers(n)]() mutable { nvfp4::decode(b.e.codes, b.e.scales, b.e.global_amax, std::span(b.out), options()); }; });
}

const bool registered = [] {
  for (const nvfp4::Impl& impl : kernels::list<nvfp4::Impl>())
    if (kernels::available(impl)) register_nvfp4(impl);
  register_api();
  return true;
}();

}  // namespace
