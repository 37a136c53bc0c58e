// bitsandbytes' quant_state JSON (the payload of weight.quant_state.bitsandbytes__nf4) on raw text:
// any key order and whitespace, json.dumps' NaN / Infinity. What decode accepts must encode to
// json.dumps' exact bytes and decode back to the same fields; the encoding is a fixed point.
#include <bit>
#include <cmath>

#include "fuzz.hpp"
#include "lowbit/io/bnb_checkpoint.hpp"

namespace bnb = lowbit::conformance::bnb;

namespace {

bool same(const bnb::QuantStateJson& a, const bnb::QuantStateJson& b) {
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
  bnb::QuantStateJson q;
  if (!lowbit::fuzz::accepted([&] { q = bnb::decode_quant_state_json(text); })) return 0;
  const std::string json = bnb::encode_quant_state_json(q);  // what decode accepts, encode writes
  const bnb::QuantStateJson again = bnb::decode_quant_state_json(json);
  LOWBIT_FUZZ_CHECK(same(again, q));
  LOWBIT_FUZZ_CHECK(bnb::encode_quant_state_json(again) == json);
  return 0;
}
