// The golden-set reader of `lowbit verify --golden`: the input is the manifest.json of a folder that
// holds the files of a real set (golden_set/: `lowbit gen e5m2 --level boundary`, as .npy files and as
// golden.safetensors; make_corpus.py writes it and the seeds, which are that gen's manifests). The
// set read is verified against its own folder, exactly and with tolerances, and reported as text and
// JSON: a manifest that lies ends in a lowbit::Error, and what is reported adds up.
#include <filesystem>
#include <numeric>
#include <string>

#include "fuzz.hpp"
#include "lowbit/conformance/golden_gen.hpp"
#include "lowbit/io/files.hpp"

namespace fs = std::filesystem;
namespace conf = lowbit::conformance;

namespace {

// A copy of golden_set/ in a temporary folder of this process, removed at exit.
const fs::path& folder() {
  static const fs::path dir = [] {
    fs::path d = lowbit::fuzz::temp_folder("lowbit-fuzz-golden-");
    fs::copy(LOWBIT_FUZZ_GOLDEN_SET, d);
    return d;
  }();
  return dir;
}

void check(const conf::VerifyResult& r) {
  std::uint64_t tests = 0, errors = 0, binned = 0;
  for (const auto& [name, c] : r.classes) {
    tests += c.tests;
    errors += c.errors;
  }
  for (const auto& [bin, n] : r.distance) binned += n;
  LOWBIT_FUZZ_CHECK(tests == r.tests && errors == r.errors && binned == r.errors && r.errors <= r.tests);
  (void)conf::verify_text(r);  // neither may throw
  (void)conf::verify_json(r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fs::path& dir = folder();
  lowbit::io::write_file((dir / "manifest.json").string(), {data, size});
  for (const bool tolerance : {false, true}) {
    conf::VerifyResult r;
    if (lowbit::fuzz::accepted([&] { r = conf::verify_golden(dir.string(), dir.string(), {4, tolerance}); })) check(r);
  }
  return 0;
}
