#include "lowbit/conformance/golden_gen.hpp"

#include <bit>
#include <stdexcept>

#include <fmt/format.h>

namespace lowbit::conformance {
namespace {

using nlohmann::json;

std::uint64_t element(const npy::Array& a, std::size_t i) {
  const unsigned w = npy::find_dtype(a.descr)->size;
  std::uint64_t v = 0;
  for (unsigned k = 0; k < w; ++k) v |= std::uint64_t{a.bytes[i * w + k]} << (8 * k);
  return v;
}

std::uint64_t bucket(std::uint64_t d) { return d <= 16 ? d : std::bit_ceil(d); }

std::int64_t ordinal(const std::string& order, std::uint64_t v, unsigned width_bytes) {
  if (order == "twos-complement") {
    const unsigned shift = 64 - 8 * width_bytes;
    return static_cast<std::int64_t>(v << shift) >> shift;
  }
  if (order == "unsigned") return static_cast<std::int64_t>(v);
  return sign_magnitude_ordinal(v, 8 * width_bytes);
}

void compare(VerifyResult& r, const GoldenSet& g, const GoldenTest& t, const npy::Array& got, std::size_t max_errors) {
  const npy::Array& want = g.array(t.expected);
  if (got.descr != want.descr || got.size() != want.size())
    throw std::runtime_error(fmt::format("actual {}: {} values of {}, expected {} values of {}", t.name, got.size(),
                                         got.descr, want.size(), want.descr));
  const npy::Array& in = g.array(t.inputs);
  const npy::Array& cls = g.array(t.classes);
  if (in.size() != want.size() || cls.size() != want.size() || cls.descr != "|u1")
    throw std::runtime_error("golden " + t.name + ": inputs, classes and expected outputs differ in size");
  const unsigned in_w = npy::find_dtype(in.descr)->size, out_w = npy::find_dtype(want.descr)->size;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const std::uint8_t k = cls.bytes[i];
    if (k >= t.class_names.size()) throw std::runtime_error("golden " + t.name + ": class index out of range");
    ClassCount& cc = r.classes[t.name + " " + t.class_names[k]];
    ++cc.tests;
    ++r.tests;
    const std::uint64_t a = element(got, i), e = element(want, i);
    if (a == e) continue;
    ++cc.errors;
    const std::int64_t d = ordinal(t.order, a, out_w) - ordinal(t.order, e, out_w);
    ++r.distance[bucket(static_cast<std::uint64_t>(d < 0 ? -d : d))];
    if (r.errors++ < max_errors)
      r.first_errors.push_back(fmt::format("{} inputs 0x{:0{}x} => got 0x{:0{}x} expected 0x{:0{}x} (class {})", t.name,
                                           element(in, i), 2 * in_w, a, 2 * out_w, e, 2 * out_w, t.class_names[k]));
  }
}

}  // namespace

VerifyResult verify_golden(const std::string& golden_dir, const std::string& actual, std::size_t max_errors) {
  const GoldenSet g(golden_dir);
  const json& m = g.manifest();
  VerifyResult r;
  try {
    r.kind = m.at("kind").get<std::string>();
    r.format = m.at("format").get<std::string>();
    r.profile = m.value("profile", "");
    r.rounding = m.value("rounding", "");
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("golden manifest.json: ") + e.what());
  }
  const std::map<std::string, npy::Array> got = read_actual(actual);
  std::vector<std::string> units;
  for (const GoldenTest& t : g.tests()) {
    const npy::Array* a = nullptr;
    if (const auto it = got.find(t.expected); it != got.end()) {
      a = &it->second;
    } else if (const auto one = got.find(""); one != got.end() && units.empty()) {
      // A single .npy file: the first test whose expected outputs have its dtype and size.
      const npy::Array& want = g.array(t.expected);
      if (one->second.descr == want.descr && one->second.size() == want.size()) a = &one->second;
    }
    if (!a) continue;
    compare(r, g, t, *a, max_errors);
    units.push_back(fmt::format("{}: {}", t.name, t.distance_unit));
    if (got.count("")) break;
  }
  if (units.empty())
    throw std::runtime_error(got.count("") ? "actual file matches no golden output in dtype and size"
                                           : "actual outputs hold none of the golden expected arrays' names");
  r.distance_unit = units[0];
  for (std::size_t k = 1; k < units.size(); ++k) r.distance_unit += "; " + units[k];
  return r;
}

VerifyResult verify_fp8(const std::string& golden_dir, const std::string& actual, std::size_t max_errors) {
  VerifyResult r = verify_golden(golden_dir, actual, max_errors);
  if (r.kind != "fp8") throw std::runtime_error("golden manifest is not an FP8 one");
  return r;
}

std::string verify_text(const VerifyResult& r) {
  std::string s;
  if (r.errors) {
    s += r.profile.empty() ? fmt::format("Errors found in {} (rounding {}):\n", r.format, r.rounding)
                           : fmt::format("Errors found in {} (profile {}, rounding {}):\n", r.format, r.profile, r.rounding);
    for (const std::string& e : r.first_errors) s += e + "\n";
    if (r.errors > r.first_errors.size()) s += fmt::format("... and {} more\n", r.errors - r.first_errors.size());
    s += "errors per class:\n";
    for (const auto& [k, c] : r.classes)
      s += fmt::format("  {:<24} {:>8} errors in {:>8} tests\n", k, c.errors, c.tests);
    s += fmt::format("distance histogram ({}):\n", r.distance_unit);
    for (const auto& [b, n] : r.distance)
      s += b <= 16 ? fmt::format("  {:>21}: {}\n", b, n) : fmt::format("  {:>21}: {}\n", fmt::format("{}-{}", b / 2 + 1, b), n);
    s += fmt::format("{} tests, {} errors found\n", r.tests, r.errors);
  } else {
    s += fmt::format("{} tests, no errors found\n", r.tests);
  }
  return s;
}

std::string verify_json(const VerifyResult& r) {
  json classes = json::object();
  for (const auto& [k, c] : r.classes) classes[k] = {{"tests", c.tests}, {"errors", c.errors}};
  json dist = json::array();
  for (const auto& [b, n] : r.distance)
    dist.push_back({{"distance", b <= 16 ? std::to_string(b) : fmt::format("{}-{}", b / 2 + 1, b)}, {"count", n}});
  const json j = {{"format", r.format},         {"profile", r.profile},     {"rounding", r.rounding},
                  {"tests", r.tests},           {"errors", r.errors},       {"passed", r.passed()},
                  {"first_errors", r.first_errors}, {"classes", classes}, {"distance_unit", r.distance_unit},
                  {"distance", dist}};
  return j.dump();
}

}  // namespace lowbit::conformance
