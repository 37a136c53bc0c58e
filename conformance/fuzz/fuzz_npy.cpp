// lowbit::io::npy::parse on raw bytes: the magic, the version, a header length that may lie, the Python dict
// literal of the header and the data size. What it accepts must serialize and parse back the same,
// and serialize must be a fixed point of that round trip.
#include "fuzz.hpp"
#include "lowbit/io/npy.hpp"

namespace npy = lowbit::io::npy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lowbit::io::npy::Array a;
  if (!lowbit::fuzz::accepted([&] { a = lowbit::io::npy::parse({data, size}); })) return 0;
  LOWBIT_FUZZ_CHECK(lowbit::io::npy::find_dtype(a.descr) != nullptr);
  LOWBIT_FUZZ_CHECK(a.bytes.size() / lowbit::io::npy::find_dtype(a.descr)->size == a.size());
  const std::vector<std::uint8_t> written = lowbit::io::npy::serialize(a);  // must not throw
  const lowbit::io::npy::Array again = lowbit::io::npy::parse(written);
  LOWBIT_FUZZ_CHECK(again == a);
  LOWBIT_FUZZ_CHECK(lowbit::io::npy::serialize(again) == written);
  return 0;
}
