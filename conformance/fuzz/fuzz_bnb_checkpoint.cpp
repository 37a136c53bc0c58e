// A bitsandbytes Linear4bit checkpoint in .safetensors, as `lowbit decode nf4` reads it:
// lowbit::io::safetensors::read, lowbit::io::bnb::from_tensors (prefix "weight"), then the absmax (double dequantization
// when nested) and the NF4/FP4 dequantization with the table the quant_state names. What
// from_tensors accepts must write back (to_tensors) to a file that reads back to the same bytes.
// Input: a .safetensors file, or '{' JSON header, NUL, buffer (fuzz.hpp).
#include <algorithm>
#include <bit>

#include "fuzz.hpp"
#include "lowbit/io/bnb_checkpoint.hpp"
#include "lowbit/nf4.hpp"
#include "lowbit/reference/nf4.hpp"

namespace bnb = lowbit::io::bnb;
namespace st = lowbit::io::safetensors;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> file = lowbit::fuzz::safetensors_input(data, size);
  lowbit::io::bnb::Bnb4bitState s;
  if (!lowbit::fuzz::accepted([&] { s = lowbit::io::bnb::from_tensors(st::read(file).tensors); })) return 0;

  // Round trip: the state writes (every size was checked) and reads back to the same file.
  const std::vector<std::uint8_t> written = st::write(lowbit::io::bnb::to_tensors(s));
  const lowbit::io::bnb::Bnb4bitState again = lowbit::io::bnb::from_tensors(st::read(written).tensors);
  LOWBIT_FUZZ_CHECK(st::write(lowbit::io::bnb::to_tensors(again)) == written);

  // Dequantize as the lowbit tool does: the stored tables must be bitsandbytes' (else unsupported).
  lowbit::nf4::Options o;
  o.table = *lowbit::nf4::parse_table(s.quant_type);
  if (s.blocksize > 4096) return 0;  // no valid block: the tool reports it
  o.block = static_cast<int>(s.blocksize);
  for (unsigned c = 0; c < 16; ++c)
    if (std::bit_cast<std::uint32_t>(s.quant_map[c]) != std::bit_cast<std::uint32_t>(lowbit::nf4::table_value(o.table, c))) return 0;
  std::vector<float> absmax = s.absmax;
  if (s.nested) {
    if (s.nested->nested_blocksize != static_cast<std::uint64_t>(lowbit::nf4::kNestedBlock)) return 0;
    lowbit::nf4::DynamicMap map;
    std::copy(s.nested->nested_map.begin(), s.nested->nested_map.end(), map.begin());
    absmax.resize(s.nested->codes.size());
    lowbit::ref::nf4_double_dequantize(s.nested->codes, s.nested->nested_absmax, s.nested->offset, map, absmax);
  }
  std::vector<float> y(s.elements());
  if (!lowbit::fuzz::accepted([&] { lowbit::nf4::decode(s.packed, absmax, y, o); }))
    LOWBIT_FUZZ_CHECK(!lowbit::nf4::valid_block(o.block));  // the only reason left to refuse
  return 0;
}
