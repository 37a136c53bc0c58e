// lowbit::io::read_gse on raw bytes: the 32-byte header (magic, version, every parameter, an element count that
// may lie) and the bit-packed payload. What it accepts must decode with every kernel exactly as the
// reference does, and lowbit::io::write_gse / lowbit::io::read_gse must give it back.
#include "fuzz.hpp"
#include "gse_decode_check.hpp"
#include "lowbit/io/gse_file.hpp"

namespace lc = lowbit::io;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lc::GseFile f;
  if (!lowbit::fuzz::accepted([&] { f = lc::read_gse({data, size}); })) return 0;
  LOWBIT_FUZZ_CHECK(f.exps.size() == f.format.groups(f.codes.size()));
  lowbit::fuzz::check_gse_decode(f.codes, f.exps, f.format);
  const lc::GseFile g = lc::read_gse(lc::write_gse(f));
  LOWBIT_FUZZ_CHECK(g.codes == f.codes && g.exps == f.exps && g.seed == f.seed && g.rounding == f.rounding);
  LOWBIT_FUZZ_CHECK(g.format.bits == f.format.bits && g.format.group == f.format.group &&
                    g.format.exp_bits == f.format.exp_bits && g.format.exp_bias == f.format.exp_bias &&
                    g.format.exp_offset == f.format.exp_offset &&
                    g.format.mantissa_overflow == f.format.mantissa_overflow &&
                    g.format.exponent_overflow == f.format.exponent_overflow);
  return 0;
}
