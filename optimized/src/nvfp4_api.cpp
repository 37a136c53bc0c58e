#include <fmt/format.h>

#include <cmath>

#include "checks.hpp"
#include "lowbit/fp8.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/nvfp4.hpp"
#include "lowbit/reference/philox.hpp"

namespace lowbit::nvfp4 {
namespace {

using detail::check_size;

EncodeFn encode_fn(const Impl& impl) { return impl.encode_f32 ? impl.encode_f32 : kernels::reference<Impl>().encode_f32; }
DecodeFn decode_fn(const Impl& impl) { return impl.decode_f32 ? impl.decode_f32 : kernels::reference<Impl>().decode_f32; }

void check_codes(std::span<const std::uint8_t> codes) {
  for (std::size_t i = 0; i < codes.size(); ++i)
    if (codes[i] > 0x0F)
      throw Error(fmt::format("code 0x{:02x} at element {} has bits above the 4-bit E2M1 element", codes[i], i), Errc::data);
}

}  // namespace

Shape shape(std::size_t n, const Options& o) {
  if (o.cols == 0) return {n == 0 ? std::size_t{0} : std::size_t{1}, n};
  if (n % o.cols != 0) throw Error(fmt::format("{} elements are not rows of {}", n, o.cols));
  return {n / o.cols, o.cols};
}

std::size_t scales(std::size_t n, const Options& o) {
  const Shape s = shape(n, o);
  return scale_count(s.rows, s.cols, o.layout);
}

std::size_t code_bytes(std::size_t n, const Options& o) { return o.packed ? fp8::packed_size(fp8::Format::e2m1, n) : n; }

std::size_t random_words(std::size_t n, const Options& o) {
  const Shape s = shape(n, o);
  return s.rows * sr_words_per_row(s.cols);
}

float amax(std::span<const float> in) {
  float m = 0;
  for (const float x : in) m = std::isnan(x) || std::fabs(x) > m ? std::fabs(x) : m;
  return m;
}

float encode(std::span<const float> in, std::span<std::uint8_t> codes, std::span<std::uint8_t> scale_bytes, const Options& o) {
  if (o.rounding != Rounding::rne && o.rounding != Rounding::sr)
    throw Error(fmt::format("NVFP4 rounds rne or sr, not {}", name(o.rounding)), Errc::unsupported);
  const Shape s = shape(in.size(), o);
  check_size("codes", codes.size(), code_bytes(in.size(), o));
  check_size("scales", scale_bytes.size(), scale_count(s.rows, s.cols, o.layout));
  const std::size_t words = s.rows * sr_words_per_row(s.cols);
  const std::uint32_t* given = detail::given_random_bits(o.random_bits, o.rounding, words);
  std::vector<std::uint32_t> random;
  if (o.rounding == Rounding::sr && !given) {
    random.resize(words);
    for (std::size_t i = 0; i < random.size(); ++i) random[i] = ref::philox_word(o.seed, o.index0 + i);
    given = random.data();
  }
  const EncodeParams p{s.rows, s.cols, o.blocking, o.layout, o.rounding, o.global_amax.value_or(amax(in)), given};
  std::vector<std::uint8_t> unpacked(o.packed ? in.size() : 0);  // the kernels write one code per byte
  encode_fn(detail::impl_of(o.impl))(in.data(), o.packed ? unpacked.data() : codes.data(), scale_bytes.data(), &p);
  if (o.packed) fp8::pack(unpacked, codes, fp8::Format::e2m1);
  return p.global_amax;
}

Encoded encode(std::span<const float> in, const Options& o) {
  Encoded e{std::vector<std::uint8_t>(code_bytes(in.size(), o)), std::vector<std::uint8_t>(scales(in.size(), o)), 0, in.size()};
  e.global_amax = encode(in, std::span(e.codes), std::span(e.scales), o);
  return e;
}

void decode(std::span<const std::uint8_t> codes, std::span<const std::uint8_t> scale_bytes, float global_amax,
            std::span<float> out, const Options& o) {
  const Shape s = shape(out.size(), o);
  check_size("codes", codes.size(), code_bytes(out.size(), o));
  check_size("scales", scale_bytes.size(), scale_count(s.rows, s.cols, o.layout));
  std::vector<std::uint8_t> unpacked;
  if (o.packed) {
    unpacked = fp8::unpack(codes, out.size(), fp8::Format::e2m1);
    codes = unpacked;
  }
  check_codes(codes);
  const DecodeParams p{s.rows, s.cols, o.layout, global_amax};
  decode_fn(detail::impl_of(o.impl))(codes.data(), scale_bytes.data(), out.data(), &p);
}

std::vector<float> decode(const Encoded& e, const Options& o) {
  std::vector<float> out(e.elements);
  decode(e.codes, e.scales, e.global_amax, std::span(out), o);
  return out;
}

void quantize(std::span<const float> in, std::span<float> out, const Options& o) {
  check_size("output", out.size(), in.size());
  Options unpacked = o;  // the codes are an intermediate here: packing them would change nothing
  unpacked.packed = false;
  const Encoded e = encode(in, unpacked);  // whole: the amax and 2-D tiles span the tensor
  decode(e.codes, e.scales, e.global_amax, out, unpacked);
}

std::vector<float> quantize(std::span<const float> in, const Options& o) {
  std::vector<float> out(in.size());
  quantize(in, std::span(out), o);
  return out;
}

}  // namespace lowbit::nvfp4
