// QEFT and OWQ packed layers in .safetensors, as `lowbit decode qeft|owq` reads them: lowbit::io::safetensors::read, then
// lowbit::io::qeft_from_file and lowbit::io::owq_from_file (with the metadata's bit width, or 3 and 4 when it
// has none), then every dequantization path of what they accept, and the QEFT reference matvec.
// What a reader accepts must write back (to_file) and read back to the same buffers.
// Input: a .safetensors file, or '{' JSON header, NUL, buffer (fuzz.hpp).
#include <charconv>
#include <optional>

#include "fuzz.hpp"
#include "lowbit/io/weak_checkpoint.hpp"
#include "lowbit/reference/weak.hpp"

namespace st = lowbit::io::safetensors;
namespace weak = lowbit::io;
namespace ref = lowbit::ref;

namespace {

bool same(const lowbit::qeft::Packed& a, const lowbit::qeft::Packed& b) {
  return a.oc == b.oc && a.ic == b.ic && a.k == b.k && a.group == b.group && a.qweight == b.qweight &&
         a.scales == b.scales && a.scaled_zeros == b.scaled_zeros && a.oweight == b.oweight &&
         a.oweight_interleaved == b.oweight_interleaved && a.outlieridx == b.outlieridx;
}

bool same(const lowbit::owq::Packed& a, const lowbit::owq::Packed& b) {
  return a.oc == b.oc && a.ic == b.ic && a.k == b.k && a.bits == b.bits && a.qweight == b.qweight &&
         a.scales == b.scales && a.zeros == b.zeros && a.oweight == b.oweight && a.outlieridx == b.outlieridx;
}

// What the file's lowbit metadata says agrees with the layer read: the numbers as numbers (a
// reader that wraps "-64" around or truncates "2^32 + 4" to an int would disagree here).
void check_metadata(const st::Metadata& read, const st::Metadata& derived) {
  for (const auto& [key, want] : derived) {
    const auto it = read.find(key);
    if (it == read.end()) continue;
    if (key == "lowbit.layout") {
      LOWBIT_FUZZ_CHECK(it->second == want);
      continue;
    }
    std::uint64_t a = 0, b = 1;
    const std::string& s = it->second;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), a);
    std::from_chars(want.data(), want.data() + want.size(), b);
    LOWBIT_FUZZ_CHECK(r.ec == std::errc() && r.ptr == s.data() + s.size() && a == b);
  }
}

void qeft(const st::File& f) {
  lowbit::qeft::Packed p;
  if (!lowbit::fuzz::accepted([&] { p = lowbit::io::qeft_from_file(f); })) return;
  const st::File written = lowbit::io::to_file(p);
  check_metadata(f.metadata, written.metadata);
  LOWBIT_FUZZ_CHECK(same(lowbit::io::qeft_from_file(written), p));
  const std::vector<float> gemv = ref::qeft_dequantize(p, lowbit::qeft::Path::gemv);
  const std::vector<float> nowc = ref::qeft_dequantize(p, lowbit::qeft::Path::nowc);
  LOWBIT_FUZZ_CHECK(gemv.size() == p.oc * p.ic && nowc.size() == p.oc * p.ic);
  const std::vector<float> x(p.ic, 1.0f);
  std::vector<float> y(p.oc);
  const lowbit::qeft::Matrix m = p.view();
  ref::qeft_matvec_ref(&m, x.data(), y.data());
}

void owq(const st::File& f, std::optional<int> bits) {
  lowbit::owq::Packed p;
  if (!lowbit::fuzz::accepted([&] { p = lowbit::io::owq_from_file(f, "", bits); })) return;
  const st::File written = lowbit::io::to_file(p);
  check_metadata(f.metadata, written.metadata);
  LOWBIT_FUZZ_CHECK(same(lowbit::io::owq_from_file(written), p));
  for (const lowbit::owq::Path path : {lowbit::owq::Path::fp16, lowbit::owq::Path::fp32, lowbit::owq::Path::nowc})
    LOWBIT_FUZZ_CHECK(ref::owq_dequantize(p, path).size() == p.oc * p.ic);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  st::File f;
  if (!lowbit::fuzz::accepted([&] { f = st::read(lowbit::fuzz::safetensors_input(data, size)); })) return 0;
  qeft(f);
  if (f.metadata.count("lowbit.bits")) {
    owq(f, std::nullopt);
  } else {
    owq(f, 3);
    owq(f, 4);
  }
  return 0;
}
