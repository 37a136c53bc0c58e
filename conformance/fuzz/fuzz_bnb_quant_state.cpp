// bitsandbytes' quant_state JSON (the payload of weight.quant_state.bitsandbytes__nf4) on raw text:
// any key order and whitespace, json.dumps' NaN / Infinity. What decode accepts must encode to
// json.dumps' exact bytes and decode back to the same fields; the encoding is a fixed point.
#include <bit>
#include <cmath>

#include "fuzz.hpp"
#include "lowbit/io/bnb_checkpoint.hpp"

namespace bnb = lowbit::io::bnb;

namespace {

bool same(const lowbit::io::bnb::QuantStateJson& a, const lowbit::io::bnb::QuantStateJson& b) {
  if (a.quant_type != b.quant_type || a.blocksize != b.blocksize || a.dtype != b.dtype || a.shape != b.shape ||
      a.nested.has_value() != b.nested.has_value())
    return false;
  if (!a.nested) return true;
  const auto bits = [](float x) { return std::isnan(x) ? 0x7FC00000u : std::bit_cast<std::uint32_t>(x); };
  return a.nested->blocksize == b.nested->blocksize && a.nested->dtype == b.nested->dtype &&
         bits(a.nested->offset) == bits(b.nested->offset);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  lowbit::io::bnb::QuantStateJson q;
  if (!lowbit::fuzz::accepted([&] { q = lowbit::io::bnb::decode_quant_state_json(text); })) return 0;
  const std::string json = lowbit::io::bnb::encode_quant_state_json(q);  // what decode accepts, encode writes
  const lowbit::io::bnb::QuantStateJson again = lowbit::io::bnb::decode_quant_state_json(json);
  LOWBIT_FUZZ_CHECK(same(again, q));
  LOWBIT_FUZZ_CHECK(lowbit::io::bnb::encode_quant_state_json(again) == json);
  return 0;
}
