// RapidCheck properties of NVFP4 through the public API: every kernel of the table gives the
// reference's bytes, and each implementation, picked at random, keeps the format's symmetries.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

#include "kernel_rows.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/nvfp4.hpp"

namespace {

using namespace lowbit;

const nvfp4::Impl& gen_impl() {
  const std::vector<const nvfp4::Impl*> rows = test::available_rows<nvfp4::Impl>(true);
  return *rows[*rc::gen::inRange<std::size_t>(0, rows.size())];
}

struct Case {
  std::vector<float> x;
  nvfp4::Options o;
};

// A rows x cols tensor (up to 20 x 300), moderate values or any f32 bit patterns, every option.
Case gen_case(bool patterns) {
  Case c;
  const std::size_t rows = *rc::gen::inRange<std::size_t>(1, 21), cols = *rc::gen::inRange<std::size_t>(1, 301);
  c.x.resize(rows * cols);
  const int scale = *rc::gen::inRange(-40, 40);
  for (float& v : c.x)
    v = patterns ? std::bit_cast<float>(*rc::gen::arbitrary<std::uint32_t>())
                 : std::ldexp(static_cast<float>(*rc::gen::inRange(-1000000, 1000001)) / 1000000, scale + *rc::gen::inRange(-12, 1));
  c.o.cols = cols;
  c.o.blocking = *rc::gen::element(nvfp4::Blocking::d1, nvfp4::Blocking::d2);
  c.o.layout = *rc::gen::element(nvfp4::ScaleLayout::linear, nvfp4::ScaleLayout::swizzled);
  c.o.rounding = *rc::gen::element(Rounding::rne, Rounding::sr);
  c.o.seed = *rc::gen::arbitrary<std::uint64_t>();
  if (*rc::gen::element(0, 1)) c.o.global_amax = std::bit_cast<float>(*rc::gen::arbitrary<std::uint32_t>());
  c.o.impl = &gen_impl();
  return c;
}

RC_GTEST_PROP(Nvfp4Properties, EveryKernelGivesTheReferencesBytes, ()) {
  Case c = gen_case(*rc::gen::element(false, true));
  c.o.impl = &kernels::reference<nvfp4::Impl>();
  const nvfp4::Encoded want = nvfp4::encode(c.x, c.o);
  const std::vector<float> want_y = nvfp4::decode(want, c.o);
  for (const nvfp4::Impl& impl : kernels::list<nvfp4::Impl>()) {
    if (!kernels::available(impl)) continue;
    c.o.impl = &impl;
    const nvfp4::Encoded got = nvfp4::encode(c.x, c.o);
    RC_ASSERT(got.codes == want.codes);
    RC_ASSERT(got.scales == want.scales);
    const std::vector<float> y = nvfp4::decode(want, c.o);
    for (std::size_t i = 0; i < y.size(); ++i)  // a NaN amax meets a NaN scale: any NaN (test_nvfp4_kernels.cpp)
      RC_ASSERT(std::bit_cast<std::uint32_t>(y[i]) == std::bit_cast<std::uint32_t>(want_y[i]) ||
                (std::isnan(want.global_amax) && std::isnan(y[i]) && std::isnan(want_y[i])));
  }
}

// -x: the same scales, every code of a non-zero x with its sign flipped (the same sr words).
RC_GTEST_PROP(Nvfp4Properties, SignSymmetry, ()) {
  Case c = gen_case(false);
  c.o.global_amax = nvfp4::amax(c.x);
  std::vector<float> y(c.x);
  for (float& v : y) v = -v;
  const nvfp4::Encoded a = nvfp4::encode(c.x, c.o), b = nvfp4::encode(y, c.o);
  RC_ASSERT(a.scales == b.scales);
  for (std::size_t i = 0; i < c.x.size(); ++i)
    if (c.x[i] != 0) RC_ASSERT(b.codes[i] == (a.codes[i] ^ 8));
}

// Within a block (rne): x <= y gives value(code(x)) <= value(code(y)).
RC_GTEST_PROP(Nvfp4Properties, MonotoneWithinABlock, ()) {
  Case c = gen_case(false);
  c.o.rounding = Rounding::rne;
  c.o.blocking = nvfp4::Blocking::d1;
  c.o.global_amax.reset();  // the tensor's (a NaN or negative one would decode to NaN or turn the order over)
  const std::vector<float> q = nvfp4::quantize(c.x, c.o);
  const std::size_t cols = c.o.cols;
  for (std::size_t i = 0; i < c.x.size(); ++i) {
    const std::size_t first = i - i % cols + (i % cols) / nvfp4::kBlock * nvfp4::kBlock;
    for (std::size_t j = first; j < std::min(first + nvfp4::kBlock, i - i % cols + cols); ++j)
      if (c.x[i] <= c.x[j]) RC_ASSERT(q[i] <= q[j]);
  }
}

}  // namespace
