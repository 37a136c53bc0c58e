#include "lowbit/conformance/golden_gen.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "lowbit/conformance/json_text.hpp"
#include "lowbit/error.hpp"
#include "lowbit/reference/binary_float.hpp"

namespace lowbit::conformance {
namespace {

using nlohmann::json;

std::uint64_t element(const io::npy::Array& a, std::size_t i) {
  const unsigned w = io::npy::find_dtype(a.descr)->size;
  std::uint64_t v = 0;
  for (unsigned k = 0; k < w; ++k) v |= std::uint64_t{a.bytes[i * w + k]} << (8 * k);
  return v;
}

constexpr std::uint64_t kTop = std::uint64_t{1} << 63;

// Histogram bins: each distance up to 16, then (2^(j-1), 2^j] keyed by 2^j, the last one
// (2^63, 2^64 - 1] by 2^64 - 1.
std::uint64_t bucket(std::uint64_t d) { return d <= 16 ? d : d > kTop ? ~std::uint64_t{0} : std::bit_ceil(d); }
std::string bucket_text(std::uint64_t b) {
  return b <= 16 ? std::to_string(b) : fmt::format("{}-{}", b == ~std::uint64_t{0} ? kTop + 1 : b / 2 + 1, b);
}

// The position of code v in `order` as an unsigned key that grows with the order (-0 and +0 share
// one): distances are differences of keys, exact for every width up to 64 bits.
std::uint64_t order_key(std::string_view order, std::uint64_t v, unsigned width_bytes) {
  if (order == "unsigned") return v;
  const unsigned bits = order == "sign-magnitude-4" ? 4 : order == "sign-magnitude-6" ? 6 : 8 * width_bytes;  // FP4 / FP6: one a byte
  const std::uint64_t sign = std::uint64_t{1} << (bits - 1), mask = sign | (sign - 1);
  if (order == "twos-complement") return (v ^ sign) & mask;  // offset binary: -2^(bits-1) -> 0
  const std::uint64_t mag = v & (sign - 1);
  return v & sign ? kTop - mag : kTop + mag;
}

// Whether a vendor's array of dtype `got` holds the bit patterns golden `want` stores: the same
// dtype, or f32 / f16 for the golden <u4 / <u2 bit patterns (numpy's natural output).
bool same_bits(const std::string& got, const std::string& want) {
  return got == want || (want == "<u4" && got == "<f4") || (want == "<u2" && got == "<f2");
}

// Whether f32 `got` is within `bound` of f32 `want`: |got - want| <= bound decided exactly (the double
// difference plus its TwoSum residual), NaN only for NaN, an infinite `want` only itself.
bool within(float got, float want, float bound, double& error) {
  const auto special = [&](bool ok) {
    error = ok ? 0 : std::numeric_limits<double>::infinity();
    return ok;
  };
  if (std::isnan(want) || std::isnan(got)) return special(std::isnan(want) && std::isnan(got));
  if (std::isinf(want)) return special(got == want);
  if (std::isinf(bound)) return special(true);
  const double x = got, y = -double(want), d = x + y, bb = d - x, rest = (x - (d - bb)) + (y - bb);
  error = std::fabs(d);
  const double residual = d < 0 ? -rest : rest;
  return error < bound || (error == bound && residual <= 0);
}

// Compares `got` (from `actual`) with test t of g, whose arrays GoldenSet has checked for consistency.
void compare(VerifyResult& r, const GoldenSet& g, const GoldenTest& t, const std::string& actual, const io::npy::Array& got,
             std::size_t max_errors, const io::npy::Array* tol) {
  const io::npy::Array& want = g.array(t.expected);
  if (!same_bits(got.descr, want.descr) || got.size() != want.size())
    throw Error(fmt::format("{}: {} holds {} values of {}, expected {} values of {}", actual, t.expected, got.size(), got.descr,
                            want.size(), want.descr),
                Errc::data);
  const io::npy::Array& in = g.array(t.inputs);
  const io::npy::Array& cls = g.array(t.classes);
  const unsigned out_w = io::npy::find_dtype(want.descr)->size;
  ToleranceReport* rep = nullptr;
  if (tol) {
    rep = &r.tolerance.emplace_back();
    rep->test = t.name;
    rep->array = t.extra.at("tolerance").get<std::string>();
  }
  for (std::size_t i = 0; i < want.size(); ++i) {
    const std::uint8_t k = cls.bytes[i];
    ClassCount& cc = r.classes[t.name + " " + t.class_names[k]];
    ++cc.tests;
    ++r.tests;
    const std::uint64_t a = element(got, i), e = element(want, i);
    std::string beyond;
    if (rep) {
      const auto f = [](std::uint64_t v) { return std::bit_cast<float>(static_cast<std::uint32_t>(v)); };
      const float bound = f(element(*tol, i));
      double err = 0;
      const bool ok = a == e || within(f(a), f(e), bound, err);
      if (std::isfinite(bound)) rep->max_bound = std::max(rep->max_bound, double(bound));
      const double ratio = a == e || err == 0 ? 0 : bound > 0 ? err / bound : std::numeric_limits<double>::infinity();
      if (ratio > rep->worst_ratio) {
        rep->worst_ratio = ratio;
        rep->worst_error = err;
        rep->worst_bound = bound;
        rep->worst_index = i;
      }
      if (ok) {
        rep->inexact += a != e;
        continue;
      }
      beyond = fmt::format("|got - expected| = {:g} > bound {:g}", err, bound);
    }
    if (a == e) continue;
    ++cc.errors;
    const std::uint64_t distance = code_distance(t.order, a, e, out_w);
    ++r.distance[bucket(distance)];
    ++r.errors;
    if (cc.errors <= max_errors)
      r.examples.push_back({t.name, t.class_names[k], i, element(in, i), a, e, t.inputs, t.expected, in.descr, want.descr,
                            distance, beyond});
  }
}

}  // namespace

std::uint64_t code_distance(std::string_view order, std::uint64_t a, std::uint64_t b, unsigned width_bytes) {
  const std::uint64_t ka = order_key(order, a, width_bytes), kb = order_key(order, b, width_bytes);
  return ka > kb ? ka - kb : kb - ka;
}

VerifyResult verify_golden(const std::string& golden_dir, const std::string& actual, std::size_t max_errors) {
  return verify_golden(golden_dir, actual, VerifyOptions{max_errors, false});
}

VerifyResult verify_golden(const std::string& golden_dir, const std::string& actual, const VerifyOptions& o) {
  const GoldenSet g(golden_dir);
  const json& m = g.manifest();
  VerifyResult r;
  r.kind = m.at("kind").get<std::string>();  // GoldenSet has checked these fields
  r.format = m.at("format").get<std::string>();
  r.profile = m.value("profile", "");
  r.rounding = m.value("rounding", "");
  const std::vector<GoldenTest>& tests = g.tests();
  if (o.tolerance && std::none_of(tests.begin(), tests.end(), [](const GoldenTest& t) { return t.extra.contains("tolerance"); }))
    throw Error(g.manifest_path() + ": the golden set defines no tolerance (gse-gemm sets with --accumulate fp32 do): verify it exactly");
  const std::map<std::string, io::npy::Array> got = read_actual(actual);
  std::vector<std::string> units;
  for (const GoldenTest& t : tests) {
    const io::npy::Array* a = nullptr;
    if (const auto it = got.find(t.expected); it != got.end()) {
      a = &it->second;
    } else if (const auto one = got.find(""); one != got.end() && units.empty()) {
      // A single .npy file: the first test whose expected outputs have its dtype and size.
      const io::npy::Array& want = g.array(t.expected);
      if (same_bits(one->second.descr, want.descr) && one->second.size() == want.size()) a = &one->second;
    }
    if (!a) continue;
    const bool tol = o.tolerance && t.extra.contains("tolerance");
    compare(r, g, t, actual, *a, o.max_errors, tol ? &g.array(t.extra.at("tolerance").get<std::string>()) : nullptr);
    units.push_back(fmt::format("{}: {}", t.name, t.distance_unit));
    if (got.count("")) break;
  }
  if (units.empty()) {
    std::string outputs;
    for (const GoldenTest& t : tests) {
      const io::npy::Array& want = g.array(t.expected);
      const std::string_view alt = want.descr == "<u4" ? " or <f4" : want.descr == "<u2" ? " or <f2" : "";
      outputs += fmt::format("{}{} ({} values of {}{})", outputs.empty() ? "" : ", ", t.expected, want.size(), want.descr, alt);
    }
    if (const auto one = got.find(""); one != got.end())
      throw Error(fmt::format("the actual file {} holds {} values of {}, which match no output of the golden set: {}", actual,
                              one->second.size(), one->second.descr, outputs));
    throw Error(fmt::format("the actual outputs {} hold none of the golden set's outputs by name: {}", actual, outputs));
  }
  r.distance_unit = units[0];
  for (std::size_t k = 1; k < units.size(); ++k) r.distance_unit += "; " + units[k];
  return r;
}

VerifyResult verify_fp8(const std::string& golden_dir, const std::string& actual, std::size_t max_errors) {
  VerifyResult r = verify_golden(golden_dir, actual, max_errors);
  if (r.kind != "fp8") throw Error(golden_dir + "/manifest.json: not an FP8 set");
  return r;
}

static std::string tolerance_text(const VerifyResult& r) {
  std::string s;
  for (const ToleranceReport& t : r.tolerance)
    s += fmt::format("tolerance ({} within '{}'): {} outputs within their bound but not bit-equal; largest bound {:g}; "
                     "worst |got - expected| / bound = {:g} ({:g} / {:g} at element {})\n",
                     t.test, t.array, t.inexact, t.max_bound, t.worst_ratio, t.worst_error, t.worst_bound, t.worst_index);
  return s;
}

namespace {

std::string example_text(const Mismatch& m, const ValueReader& reader) {
  const unsigned in_w = io::npy::find_dtype(m.input_descr)->size, out_w = io::npy::find_dtype(m.output_descr)->size;
  return fmt::format("  {} {} [{}] input 0x{:0{}x} ({}) => got 0x{:0{}x} ({}) expected 0x{:0{}x} ({}), distance {}{}{}\n", m.test,
                     m.cls, m.index, m.input, 2 * in_w, value_text(m.input_array, m.input_descr, m.input, reader), m.got,
                     2 * out_w, value_text(m.expected_array, m.output_descr, m.got, reader), m.expected, 2 * out_w,
                     value_text(m.expected_array, m.output_descr, m.expected, reader), m.distance, m.note.empty() ? "" : "; ",
                     m.note);
}

nlohmann::json operand(const std::string& array, const std::string& descr, std::uint64_t bits, const ValueReader& reader) {
  const unsigned w = io::npy::find_dtype(descr)->size;
  return {{"hex", fmt::format("0x{:0{}x}", bits, 2 * w)}, {"value", value_text(array, descr, bits, reader)}};
}

}  // namespace

std::string value_text(std::string_view array, std::string_view descr, std::uint64_t bits, const ValueReader& reader) {
  if (reader)
    if (std::optional<std::string> v = reader(array, bits)) return *v;
  const auto text = [](auto x) { return std::isnan(x) ? std::string("nan") : fmt::format("{}", x); };  // shortest digits
  if (descr == "<u4" || descr == "<f4") return text(std::bit_cast<float>(static_cast<std::uint32_t>(bits)));
  if (descr == "<u2" || descr == "<f2") return text(ref::convert_nearest<float>(f16{static_cast<std::uint16_t>(bits)}));
  if (descr == "<f8") return text(std::bit_cast<double>(bits));
  const unsigned w = io::npy::find_dtype(descr)->size;
  if (descr.size() > 1 && descr[1] == 'i') {  // two's complement of its width
    const unsigned shift = 64 - 8 * w;
    return std::to_string(static_cast<std::int64_t>(bits << shift) >> shift);
  }
  return std::to_string(bits);
}

std::string verify_text(const VerifyResult& r, const ValueReader& reader) {
  std::string s;
  if (r.errors) {
    s += r.profile.empty() ? fmt::format("Errors found in {} (rounding {}):\n", r.format, r.rounding)
                           : fmt::format("Errors found in {} (profile {}, rounding {}):\n", r.format, r.profile, r.rounding);
    s += "errors per class:\n";
    for (const auto& [k, c] : r.classes)
      s += fmt::format("  {:<24} {:>8} errors in {:>8} tests\n", k, c.errors, c.tests);
    s += "examples per class (index: the element in the test's arrays):\n";
    for (const Mismatch& m : r.examples) s += example_text(m, reader);
    for (const auto& [k, c] : r.classes) {
      std::size_t shown = 0;
      for (const Mismatch& m : r.examples) shown += m.test + " " + m.cls == k;
      if (c.errors > shown) s += fmt::format("  {}: ... and {} more\n", k, c.errors - shown);
    }
    s += fmt::format("distance histogram ({}):\n", r.distance_unit);
    for (const auto& [b, n] : r.distance)
      s += fmt::format("  {:>21}: {}\n", bucket_text(b), n);
    s += tolerance_text(r) + fmt::format("{} tests, {} errors found\n", r.tests, r.errors);
  } else {
    s += tolerance_text(r) + fmt::format("{} tests, no errors found\n", r.tests);
  }
  return s;
}

std::string verify_json(const VerifyResult& r, const ValueReader& reader) {
  json classes = json::object();
  for (const auto& [k, c] : r.classes) classes[k] = {{"tests", c.tests}, {"errors", c.errors}};
  json dist = json::array();
  for (const auto& [b, n] : r.distance)
    dist.push_back({{"distance", bucket_text(b)}, {"count", n}});
  json mismatches = json::array();
  for (const Mismatch& m : r.examples) {
    json e = {{"test", m.test},
              {"class", m.cls},
              {"index", m.index},
              {"input", operand(m.input_array, m.input_descr, m.input, reader)},
              {"got", operand(m.expected_array, m.output_descr, m.got, reader)},
              {"expected", operand(m.expected_array, m.output_descr, m.expected, reader)},
              {"distance", m.distance}};
    if (!m.note.empty()) e["note"] = m.note;
    mismatches.push_back(std::move(e));
  }
  json j = {{"format", r.format},   {"profile", r.profile}, {"rounding", r.rounding},         {"tests", r.tests},
            {"errors", r.errors},   {"passed", r.passed()}, {"mismatches", mismatches},       {"classes", classes},
            {"distance_unit", r.distance_unit}, {"distance", dist}};
  for (const ToleranceReport& t : r.tolerance) {
    const auto num = [](double v) { return std::isfinite(v) ? json(v) : json(std::to_string(v)); };
    j["tolerance"].push_back({{"test", t.test}, {"array", t.array}, {"inexact", t.inexact}, {"max_bound", num(t.max_bound)},
                              {"worst_ratio", num(t.worst_ratio)}, {"worst_error", num(t.worst_error)},
                              {"worst_bound", num(t.worst_bound)}, {"worst_index", t.worst_index}});
  }
  return json_text(j);
}

}  // namespace lowbit::conformance
