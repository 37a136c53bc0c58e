// npy::parse on raw bytes: the magic, the version, a header length that may lie, the Python dict
// literal of the header and the data size. What it accepts must serialize and parse back the same,
// and serialize must be a fixed point of that round trip.
#include "fuzz.hpp"
#include "lowbit/io/npy.hpp"

namespace npy = lowbit::conformance::npy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  npy::Array a;
  if (!lowbit::fuzz::accepted([&] { a = npy::parse({data, size}); })) return 0;
  LOWBIT_FUZZ_CHECK(npy::find_dtype(a.descr) != nullptr);
  LOWBIT_FUZZ_CHECK(a.bytes.size() / npy::find_dtype(a.descr)->size == a.size());
  const std::vector<std::uint8_t> written = npy::serialize(a);  // must not throw
  const npy::Array again = npy::parse(written);
  LOWBIT_FUZZ_CHECK(again == a);
  LOWBIT_FUZZ_CHECK(npy::serialize(again) == written);
  return 0;
}
