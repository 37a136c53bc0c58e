// One golden set on disk, shared by every generator and by the verifier: named arrays plus
// manifest.json. The container is either a directory of NAME.npy files (default) or one
// golden.safetensors holding a tensor NAME per array; the manifest names arrays, never files, and
// records each file's SHA-256, which the reader checks before it trusts anything.
//
// Every set describes its tests the same way: a test compares an `expected` array with the vendor's
// array of the same name, element by element, showing the `inputs` array's element as the operand
// and counting per class (`classes`, an |u1 array indexing `class_names`); `order` says how codes are
// ordered for the distance histogram (sign-magnitude, twos-complement or unsigned; sign-magnitude-6 and
// -4 for FP6 / FP4 codes stored one a byte, the sign at bit 5 / 3).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lowbit/conformance/level.hpp"
#include "lowbit/conformance/output.hpp"
#include "lowbit/io/npy.hpp"

namespace lowbit::conformance {

inline constexpr std::string_view kLowbitVersion = "0.1.0";  // PROJECT_VERSION

enum class Container { npy, safetensors };
std::optional<Container> parse_container(std::string_view s);  // "npy" or "safetensors"
inline constexpr std::string_view kGoldenSafetensors = "golden.safetensors";

// What every generator takes (TestFloat's levels, lowbit/conformance/level.hpp): boundary = the
// structured cases, quick (the default) adds `random` seeded ones (SplitMix64(seed); seed is also the
// Philox key of stochastic rounding); full is no golden set (check_gen).
struct GenCommon {
  std::uint64_t seed = 1;
  Level level = Level::quick;
  std::size_t random = 100000;  // quick; each generator rounds it up to whole groups, blocks, layers
  Container container = Container::npy;
};

// The most random cases a set takes (-n): what a generator allocates grows with it.
inline constexpr std::size_t kMaxGenRandom = std::size_t{1} << 24;

// Throws lowbit::Error for Level::full (a golden set holds the boundary or quick cases, the
// exhaustive inputs, 2^32 f32 per format, are checked in process by `lowbit conform --level full`)
// and for `random` above kMaxGenRandom, before anything is generated.
void check_gen(Level level, std::size_t random);

struct GenSummary {
  std::uint64_t cases = 0;                      // elements of the first test
  std::map<std::string, std::uint64_t> counts;  // per class of the first test
  std::map<std::string, std::string> sha256;    // per file name
};

struct GoldenTest {
  std::string name, operation;
  std::string inputs, expected, classes;  // array names
  std::vector<std::string> class_names;
  std::string order = "sign-magnitude";   // of the expected codes: one of kCodeOrders
  std::string distance_unit = "codes";
  nlohmann::json extra = nlohmann::json::object();  // more fields of the test's manifest entry
};

// The orders of codes a test may name (GoldenTest::order); code_distance (golden_gen.hpp) measures in them.
inline constexpr std::string_view kCodeOrders[] = {"sign-magnitude", "sign-magnitude-6", "sign-magnitude-4", "twos-complement",
                                                   "unsigned"};
// An array name: [A-Za-z0-9_]+.
bool valid_array_name(std::string_view s);

// Writes a golden set into `dir` whole or not at all (lowbit/conformance/output.hpp): DIR must be
// missing, an empty folder, or an older golden set (manifest.json and the regular files it lists,
// nothing else), which it replaces.
class GoldenWriter {
 public:
  GoldenWriter(std::string dir, Container container);  // refuses a DIR it may not write at once
  // Arrays are kept until write(); names are unique, [A-Za-z0-9_]+.
  void put(const std::string& name, io::npy::Array a, std::string meaning);
  // A test over arrays already put; its counts per class go into the manifest.
  void test(GoldenTest t);
  // Writes the arrays and manifest.json = `manifest` + lowbit_version, container, tests, files.
  // Throws std::runtime_error on I/O errors.
  GenSummary write(nlohmann::json manifest);

 private:
  OutputDir dir_;
  Container container_;
  std::vector<std::pair<std::string, io::npy::Array>> arrays_;
  std::map<std::string, std::string> meaning_;
  std::vector<GoldenTest> tests_;
};

// A golden set read back (golden_read.cpp): manifest.json parsed with its nesting bounded and checked
// field by field; the files it lists read, each a regular file inside the folder of exactly its
// declared size and SHA-256; each array's dtype and shape those of its file; each test's arrays present
// and consistent. Throws lowbit::Error naming the file at fault.
class GoldenSet {
 public:
  explicit GoldenSet(const std::string& dir);
  const nlohmann::json& manifest() const { return manifest_; }
  const std::string& manifest_path() const { return manifest_path_; }
  const io::npy::Array& array(const std::string& name) const;  // throws when absent
  const std::vector<GoldenTest>& tests() const { return tests_; }

 private:
  std::string manifest_path_;
  nlohmann::json manifest_;
  std::map<std::string, io::npy::Array> arrays_;
  std::vector<GoldenTest> tests_;
};

// A vendor's outputs: NAME -> array, from a directory of NAME.npy files, a .safetensors file with a
// tensor NAME each, or one .npy file (returned under the name "").
std::map<std::string, io::npy::Array> read_actual(const std::string& path);

// safetensors dtype <-> npy descr of the dtypes golden sets use ("U32" <-> "<u4", ...).
std::string npy_descr_of(std::string_view safetensors_dtype);
std::string safetensors_dtype_of(std::string_view npy_descr);

}  // namespace lowbit::conformance
