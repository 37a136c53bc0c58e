// A version-3 plugin (lowbit/vendor.h) with NVFP4 only, and a realistic bug in cuBLAS's swizzled scale
// layout: inside a 512-byte tile it swaps the two row strides, placing the scale of (row, block) at
// (row % 32) * 4 + (row % 128 / 32) * 16 + block % 4 instead of (row % 32) * 16 + (row % 128 / 32) * 4 +
// block % 4, in its encode and its decode alike. Linear scales are right. `lowbit conform --plugin` must
// report the swizzled checks failed and pass the linear ones.
#include <algorithm>
#include <vector>

#include "example_codecs.hpp"

namespace {

using namespace lowbit_plugin;

struct Shape {
  std::size_t rows, cols;
};
Shape shape_of(std::size_t n, const lowbit_nvfp4_options* o) {
  const std::size_t cols = o->cols ? o->cols : n;
  return {cols ? n / cols : 0, cols};
}

std::size_t wrong_index(std::size_t row, std::size_t block, std::size_t cols) {
  const std::size_t tile = (row / 128) * (nvfp4::padded_blocks(cols, nvfp4::ScaleLayout::swizzled) / 4) + block / 4;
  return tile * 512 + (row % 32) * 4 + (row % 128 / 32) * 16 + block % 4;  // the fault: the strides swapped
}

bool swizzled(const lowbit_nvfp4_options* o) { return o && o->scale_layout == LOWBIT_NVFP4_SCALES_SWIZZLED; }
lowbit_nvfp4_options linear(const lowbit_nvfp4_options* o) {
  lowbit_nvfp4_options l = *o;
  l.scale_layout = LOWBIT_NVFP4_SCALES_LINEAR;
  return l;
}

int encode(size_t n, const float* in, uint8_t* codes, uint8_t* scales, const lowbit_nvfp4_options* o) {
  if (!swizzled(o)) return nvfp4_encode(n, in, codes, scales, o);
  const lowbit_nvfp4_options l = linear(o);
  std::vector<uint8_t> row_major(lowbit_nvfp4_scales(n, &l));
  const int status = nvfp4_encode(n, in, codes, row_major.data(), &l);
  if (status != LOWBIT_OK) return status;
  const Shape s = shape_of(n, o);
  std::fill(scales, scales + lowbit_nvfp4_scales(n, o), uint8_t{0});
  for (std::size_t r = 0; r < s.rows; ++r)
    for (std::size_t b = 0; b < nvfp4::row_blocks(s.cols); ++b) scales[wrong_index(r, b, s.cols)] = row_major[r * nvfp4::row_blocks(s.cols) + b];
  return LOWBIT_OK;
}

int decode(size_t n, const uint8_t* codes, const uint8_t* scales, float global_amax, float* out, const lowbit_nvfp4_options* o) {
  if (!swizzled(o)) return nvfp4_decode(n, codes, scales, global_amax, out, o);
  const lowbit_nvfp4_options l = linear(o);
  const Shape s = shape_of(n, o);
  std::vector<uint8_t> row_major(lowbit_nvfp4_scales(n, &l));
  for (std::size_t r = 0; r < s.rows; ++r)
    for (std::size_t b = 0; b < nvfp4::row_blocks(s.cols); ++b) row_major[r * nvfp4::row_blocks(s.cols) + b] = scales[wrong_index(r, b, s.cols)];
  return nvfp4_decode(n, codes, row_major.data(), global_amax, out, &l);
}

const lowbit_vendor_descriptor3 kDescriptor = [] {
  lowbit_vendor_descriptor3 d{};
  d.v2.v1.abi_version = LOWBIT_VENDOR_ABI_VERSION_3;
  d.v2.v1.vendor_name = "faulty-nvfp4-vendor";
  d.nvfp4_encode_f32 = encode;
  d.nvfp4_decode_f32 = decode;
  return d;
}();

}  // namespace

extern "C" LOWBIT_VENDOR_EXPORT const lowbit_vendor_descriptor3* lowbit_vendor_descriptor_v3(void) { return &kDescriptor; }
