// The reference of packed storage (lowbit/formats/packing.hpp), a group of codes at a time, to be read
// beside docs/formats/fp6-fp4.md, "Packed storage". The API calls it directly: scalar, it costs less
// than the encode before it (FP4 at memory speed, FP6 about 0.5 ns a code).
#pragma once
#include <cstddef>
#include <cstdint>

#include "lowbit/formats/packing.hpp"

namespace lowbit::ref {

// n codes, one per byte -> out[0 .. packed_size(f, n)). A code with bits at or above the format's
// width is malformed data (Error, Errc::data).
void fp8_pack(std::size_t n, const std::uint8_t* codes, std::uint8_t* out, fp8::Format f);
// in[0 .. packed_size(f, n)) -> n codes, one per byte. A padding bit that is set is malformed data.
void fp8_unpack(std::size_t n, const std::uint8_t* in, std::uint8_t* codes, fp8::Format f);

}  // namespace lowbit::ref
