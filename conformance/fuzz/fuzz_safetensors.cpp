// lowbit::io::safetensors::read on raw bytes: the 8-byte header length (which may lie), the UTF-8 JSON header,
// the tensor entries and the byte ranges. What it accepts must survive write() and read() again
// unchanged, and write() must be a fixed point of that round trip.
#include <algorithm>

#include "fuzz.hpp"
#include "lowbit/io/safetensors.hpp"

namespace st = lowbit::io::safetensors;

namespace {

std::vector<st::Tensor> by_name(std::vector<st::Tensor> t) {
  std::sort(t.begin(), t.end(), [](const st::Tensor& a, const st::Tensor& b) { return a.name < b.name; });
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  st::File f;
  if (!lowbit::fuzz::accepted([&] { f = st::read({data, size}); })) return 0;
  for (const st::Tensor& t : f.tensors) LOWBIT_FUZZ_CHECK(t.bytes.size() == st::byte_size(t.dtype, t.shape));
  const std::vector<std::uint8_t> written = st::write(f.tensors, f.metadata);  // must not throw
  const st::File again = st::read(written);
  LOWBIT_FUZZ_CHECK(again.metadata == f.metadata);
  LOWBIT_FUZZ_CHECK(by_name(again.tensors) == by_name(f.tensors));
  LOWBIT_FUZZ_CHECK(st::write(again.tensors, again.metadata) == written);
  return 0;
}
