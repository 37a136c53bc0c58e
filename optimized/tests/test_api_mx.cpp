// mx::decode's check of the codes: a byte with bits above an FP6/FP4 element is an input error naming the
// first such byte and its element, on every implementation; every byte is a code of the 8-bit formats.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lowbit/kernels.hpp"
#include "lowbit/mx.hpp"

namespace {

using namespace lowbit;

TEST(MxApi, CodesAboveTheElementWidthAreInputErrors) {
  for (const mx::Impl& impl : kernels::list<mx::Impl>()) {
    if (!kernels::available(impl)) continue;
    for (const mx::Traits& t : mx::kFormats) {
      mx::Options o;
      o.format = t.format;
      o.impl = &impl;
      std::vector<std::uint8_t> codes(100, static_cast<std::uint8_t>(mx::sign_bit(t) | 1)), scales(mx::blocks(codes.size()), 127);
      EXPECT_EQ(mx::decode(codes, scales, o).size(), codes.size());
      codes[70] = 0x80;
      codes[90] = 0xFF;
      if (t.element.total_bits() == 8 || t.format == mx::Format::int8) {
        EXPECT_EQ(mx::decode(codes, scales, o).size(), codes.size()) << t.name;
        continue;
      }
      try {
        mx::decode(codes, scales, o);
        ADD_FAILURE() << t.name << ": no error";
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::data);
        EXPECT_NE(std::string(e.what()).find("code 0x80 at element 70"), std::string::npos) << e.what();
      }
    }
  }
}

}  // namespace
