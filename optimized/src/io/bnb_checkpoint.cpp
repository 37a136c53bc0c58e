#include "lowbit/io/bnb_checkpoint.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "json_excerpt.hpp"
#include "lowbit/io/json_depth.hpp"
#include "layout_names.hpp"
#include "reading.hpp"

namespace lowbit::io::bnb {
namespace {

using namespace names::bnb;

// Errc::invalid; what the readers find becomes Errc::data (reading()).
[[noreturn]] void fail(const std::string& what) { throw Error("bitsandbytes checkpoint: " + what); }

// Deepest nesting of arrays and objects a quant_state JSON may have (lowbit/io/json_depth.hpp; the schema needs 2).
constexpr int kMaxJsonDepth = 128;

bool is_identifier(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

std::uint64_t blocks(std::uint64_t n, std::uint64_t block) { return n == 0 ? 0 : (n - 1) / block + 1; }

// Every size of `s` against its shape and block sizes; `where(field)` names the tensor.
void validate(const Bnb4bitState& s, std::string_view prefix) {
  const auto name = [&](std::string_view field) { return field.empty() ? std::string(prefix) : fmt::format("{}.{}", prefix, field); };
  const auto expect = [&](std::string_view field, std::size_t have, std::uint64_t want, std::string_view why) {
    if (have != want) fail(fmt::format("{} has {} entries, {} needs {}", name(field), have, why, want));
  };
  if (s.quant_type != "nf4" && s.quant_type != "fp4") fail(fmt::format("quant_type '{}' is neither nf4 nor fp4", s.quant_type));
  if (s.blocksize == 0) fail("blocksize is 0");
  const std::uint64_t n = s.elements();
  const std::string shape = fmt::format("shape [{}]", fmt::join(s.shape, ", "));
  expect("", s.packed.size(), n / 2 + n % 2, shape);
  const std::uint64_t nb = blocks(n, s.blocksize);
  const std::string per_block = fmt::format("{} in blocks of {}", shape, s.blocksize);
  expect(kQuantMap, s.quant_map.size(), 16, "a 4-bit code");
  if (s.nested) {
    const Bnb4bitNested& q = *s.nested;
    if (!s.absmax.empty()) fail("a nested state keeps its absmax as codes only: absmax must be empty");
    if (q.nested_blocksize == 0) fail("nested_blocksize is 0");
    expect(kAbsmax, q.codes.size(), nb, per_block);
    expect(kNestedAbsmax, q.nested_absmax.size(), blocks(nb, q.nested_blocksize),
           fmt::format("{} absmax codes in blocks of {}", nb, q.nested_blocksize));
    expect(kNestedQuantMap, q.nested_map.size(), 256, "an 8-bit code");
  } else {
    expect(kAbsmax, s.absmax.size(), nb, per_block);
  }
}

// fp32 nearest to `d`, as torch.tensor(float) rounds (no UB for values beyond the float range).
float to_float(double d) {
  if (std::isnan(d)) return std::numeric_limits<float>::quiet_NaN();
  if (std::fabs(d) >= 0x1.ffffffp127) return d > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
  if (std::fabs(d) > std::numeric_limits<float>::max()) return d > 0 ? std::numeric_limits<float>::max() : -std::numeric_limits<float>::max();
  return static_cast<float>(d);
}

constexpr std::string_view kPlaceholder[3][2] = {{"-Infinity", "\"\\u0000-Infinity\""}, {"Infinity", "\"\\u0000Infinity\""}, {"NaN", "\"\\u0000NaN\""}};

// Replaces json.dumps' NaN/Infinity/-Infinity tokens outside strings by placeholder strings nlohmann accepts.
std::string protect_non_finite(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  bool in_string = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < in.size()) out += in[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    bool replaced = false;
    for (const auto& [token, placeholder] : kPlaceholder)
      if (in.substr(i, token.size()) == token) {
        out += placeholder;
        i += token.size() - 1;
        replaced = true;
        break;
      }
    if (!replaced) out += c;
  }
  return out;
}

std::uint64_t json_unsigned(const nlohmann::json& v, std::string_view key) {
  if (!v.is_number_unsigned()) fail(fmt::format("quant_state field '{}' must be a non-negative integer, not {}", key, json_excerpt(v)));
  return v.get<std::uint64_t>();
}

std::string json_identifier(const nlohmann::json& v, std::string_view key) {
  if (!v.is_string() || !is_identifier(v.get<std::string>()))
    fail(fmt::format("quant_state field '{}' must be a name string, not {}", key, json_excerpt(v)));
  return v.get<std::string>();
}

}  // namespace

std::uint64_t Bnb4bitState::elements() const {
  std::uint64_t n = 1;
  for (std::uint64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n)) fail(fmt::format("shape [{}] has more than 2^64 elements", fmt::join(shape, ", ")));
  return n;
}

std::string python_float_repr(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);  // shortest round trip
  const std::string_view sci(buf, static_cast<std::size_t>(r.ptr - buf));             // [-]d[.ddd]e[+-]XX
  const std::size_t e_at = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_at))
    if (c >= '0' && c <= '9') digits += c;
  int exp10 = 0;
  std::from_chars(sci.data() + e_at + 1 + (sci[e_at + 1] == '+'), sci.data() + sci.size(), exp10);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();  // to_chars gives none, but be sure
  std::string out = std::signbit(x) ? "-" : "";
  if (exp10 < -4 || exp10 >= 16) {
    out += digits[0];
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += fmt::format("e{}{:02d}", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
  } else if (exp10 < 0) {
    out += "0." + std::string(static_cast<std::size_t>(-exp10 - 1), '0') + digits;
  } else {
    const std::size_t int_digits = static_cast<std::size_t>(exp10) + 1;
    if (digits.size() <= int_digits) out += digits + std::string(int_digits - digits.size(), '0') + ".0";
    else out += digits.substr(0, int_digits) + "." + digits.substr(int_digits);
  }
  return out;
}

std::string encode_quant_state_json(const QuantStateJson& q) {
  if (q.quant_type != "nf4" && q.quant_type != "fp4") fail(fmt::format("quant_type '{}' is neither nf4 nor fp4", q.quant_type));
  if (!is_identifier(q.dtype)) fail(fmt::format("dtype '{}' is not a torch dtype name", q.dtype));
  std::string out = fmt::format(R"({{"quant_type": "{}", "blocksize": {}, "dtype": "{}", "shape": [{}])", q.quant_type,
                                q.blocksize, q.dtype, fmt::join(q.shape, ", "));
  if (q.nested) {
    if (!is_identifier(q.nested->dtype)) fail(fmt::format("nested_dtype '{}' is not a torch dtype name", q.nested->dtype));
    out += fmt::format(R"(, "nested_blocksize": {}, "nested_dtype": "{}", "nested_offset": {})", q.nested->blocksize,
                       q.nested->dtype, python_float_repr(static_cast<double>(q.nested->offset)));
  }
  return out + "}";
}

namespace {

QuantStateJson parse_quant_state(std::string_view text) {
  nlohmann::json j;
  if (text.find('\0') != std::string_view::npos) fail("quant_state is not valid JSON: it holds a NUL byte");
  const auto too_deep = [] { fail(fmt::format("quant_state is not valid JSON: nested deeper than {} levels", kMaxJsonDepth)); };
  try {
    j = nlohmann::json::parse(protect_non_finite(text), json_depth_limit<nlohmann::json>(kMaxJsonDepth, too_deep));
  } catch (const nlohmann::json::exception& e) {
    fail(fmt::format("quant_state is not valid JSON: {}", e.what()));
  }
  if (!j.is_object()) fail(fmt::format("quant_state must be a JSON object, not {}", j.type_name()));
  for (const auto& [key, _] : j.items())
    if (key != "quant_type" && key != "blocksize" && key != "dtype" && key != "shape" && key != "nested_blocksize" &&
        key != "nested_dtype" && key != "nested_offset")
      fail(fmt::format("quant_state has an unknown field '{}'", key));
  for (const char* key : {"quant_type", "blocksize", "dtype", "shape"})
    if (!j.contains(key)) fail(fmt::format("quant_state lacks the field '{}'", key));
  QuantStateJson q;
  q.quant_type = json_identifier(j["quant_type"], "quant_type");
  if (q.quant_type != "nf4" && q.quant_type != "fp4") fail(fmt::format("quant_type '{}' is neither nf4 nor fp4", q.quant_type));
  q.blocksize = json_unsigned(j["blocksize"], "blocksize");
  if (q.blocksize == 0) fail("quant_state blocksize is 0");
  q.dtype = json_identifier(j["dtype"], "dtype");
  if (!j["shape"].is_array()) fail(fmt::format("quant_state field 'shape' must be an array, not {}", json_excerpt(j["shape"])));
  for (const auto& d : j["shape"]) q.shape.push_back(json_unsigned(d, "shape"));
  const int nested_keys = j.contains("nested_blocksize") + j.contains("nested_dtype") + j.contains("nested_offset");
  if (nested_keys != 0 && nested_keys != 3) fail("quant_state has some but not all of nested_blocksize, nested_dtype, nested_offset");
  if (nested_keys == 3) {
    QuantStateJson::Nested n;
    n.blocksize = json_unsigned(j["nested_blocksize"], "nested_blocksize");
    if (n.blocksize == 0) fail("quant_state nested_blocksize is 0");
    n.dtype = json_identifier(j["nested_dtype"], "nested_dtype");
    const nlohmann::json& off = j["nested_offset"];
    if (off.is_number()) {
      n.offset = to_float(off.get<double>());
    } else if (off.is_string() && off.get<std::string>() == std::string_view("\0NaN", 4)) {
      n.offset = std::numeric_limits<float>::quiet_NaN();
    } else if (off.is_string() && off.get<std::string>() == std::string_view("\0Infinity", 9)) {
      n.offset = std::numeric_limits<float>::infinity();
    } else if (off.is_string() && off.get<std::string>() == std::string_view("\0-Infinity", 10)) {
      n.offset = -std::numeric_limits<float>::infinity();
    } else {
      fail(fmt::format("quant_state field 'nested_offset' must be a number, not {}", json_excerpt(off)));
    }
    q.nested = n;
  }
  return q;
}

}  // namespace

QuantStateJson decode_quant_state_json(std::string_view text) {
  return reading([&] { return parse_quant_state(text); });
}

QuantStateJson quant_state_json(const Bnb4bitState& s) {
  QuantStateJson q{s.quant_type, s.blocksize, s.dtype, s.shape, std::nullopt};
  if (s.nested) q.nested = QuantStateJson::Nested{s.nested->nested_blocksize, s.nested->nested_dtype, s.nested->offset};
  return q;
}

std::vector<safetensors::Tensor> to_tensors(const Bnb4bitState& s, std::string_view prefix_view) {
  if (prefix_view.empty()) fail("the tensor prefix is empty");
  const std::string p(prefix_view);
  validate(s, p);
  const std::string json = encode_quant_state_json(quant_state_json(s));
  std::vector<safetensors::Tensor> out;
  const auto key = [&](const std::string& field) { return p + "." + field; };
  out.push_back(safetensors::make_tensor(p, "U8", {s.packed.size(), 1}, s.packed));
  if (s.nested) out.push_back(safetensors::make_tensor(key(kAbsmax), "U8", {s.nested->codes.size()}, s.nested->codes));
  else out.push_back(safetensors::make_tensor(key(kAbsmax), "F32", {s.absmax.size()}, s.absmax));
  out.push_back(safetensors::make_tensor(key(kQuantMap), "F32", {s.quant_map.size()}, s.quant_map));
  if (s.nested) {
    out.push_back(safetensors::make_tensor(key(kNestedAbsmax), "F32", {s.nested->nested_absmax.size()}, s.nested->nested_absmax));
    out.push_back(safetensors::make_tensor(key(kNestedQuantMap), "F32", {s.nested->nested_map.size()}, s.nested->nested_map));
  }
  out.push_back(safetensors::make_tensor(key(quant_state(s.quant_type)), "U8", {json.size()},
                       std::vector<std::uint8_t>(json.begin(), json.end())));
  return out;
}

namespace {

Bnb4bitState parse_tensors(std::span<const safetensors::Tensor> tensors, std::string_view prefix_view) {
  const std::string p(prefix_view);
  std::map<std::string, const safetensors::Tensor*> field;  // "" is the packed weight itself
  for (const safetensors::Tensor& t : tensors) {
    std::string f;
    if (t.name == p) f = "";
    else if (t.name.size() > p.size() && t.name.compare(0, p.size(), p) == 0 && t.name[p.size()] == '.') f = t.name.substr(p.size() + 1);
    else continue;
    if (f != "" && f != kAbsmax && f != kQuantMap && f != kNestedAbsmax && f != kNestedQuantMap &&
        std::none_of(std::begin(kQuantTypes), std::end(kQuantTypes), [&](const char* type) { return f == quant_state(type); }))
      fail(fmt::format("unknown tensor '{}'", t.name));
    if (!field.emplace(f, &t).second) fail(fmt::format("two tensors are named '{}'", t.name));
  }
  const auto need = [&](const std::string& f) -> const safetensors::Tensor& {
    const auto it = field.find(f);
    if (it == field.end()) fail(fmt::format("tensor '{}' is missing", f.empty() ? p : p + "." + f));
    return *it->second;
  };
  // dtype and a 1-D shape matching the byte count (the counts are checked by validate()).
  const auto vector_of = [&](const std::string& f, std::string_view dtype) -> const safetensors::Tensor& {
    const safetensors::Tensor& t = need(f);
    if (t.dtype != dtype) fail(fmt::format("tensor '{}' has dtype {}, expected {}", t.name, t.dtype, dtype));
    const std::size_t item = dtype == "F32" ? 4 : 1, count = t.bytes.size() / item;
    if (t.bytes.size() % item || t.shape != std::vector<std::uint64_t>{count}) fail(fmt::format("tensor '{}' has shape [{}], expected [{}]", t.name, fmt::join(t.shape, ", "), count));
    return t;
  };

  const bool has_nf4 = field.count(quant_state("nf4")), has_fp4 = field.count(quant_state("fp4"));
  if (has_nf4 && has_fp4) fail(fmt::format("both {0}.{1} and {0}.{2} are present", p, quant_state("nf4"), quant_state("fp4")));
  if (!has_nf4 && !has_fp4) fail(fmt::format("tensor '{}.{}' (or __fp4) is missing", p, quant_state("nf4")));
  const std::string suffix = has_nf4 ? "nf4" : "fp4";
  const safetensors::Tensor& qs = vector_of(quant_state(suffix), "U8");
  const QuantStateJson q = decode_quant_state_json(std::string_view(reinterpret_cast<const char*>(qs.bytes.data()), qs.bytes.size()));
  if (q.quant_type != suffix) fail(fmt::format("tensor '{}' holds quant_type '{}'", qs.name, q.quant_type));

  Bnb4bitState s;
  s.quant_type = q.quant_type;
  s.blocksize = q.blocksize;
  s.dtype = q.dtype;
  s.shape = q.shape;
  const std::uint64_t n = s.elements();
  const safetensors::Tensor& w = need("");
  if (w.dtype != "U8") fail(fmt::format("tensor '{}' has dtype {}, expected U8 (other quant_storage dtypes are not supported)", p, w.dtype));
  const std::vector<std::uint64_t> packed_shape{n / 2 + n % 2, 1};
  if (w.shape != packed_shape)
    fail(fmt::format("tensor '{}' has shape [{}], the quant_state shape [{}] needs [{}]", p, fmt::join(w.shape, ", "),
                     fmt::join(s.shape, ", "), fmt::join(packed_shape, ", ")));
  s.packed = w.bytes;
  s.quant_map = safetensors::values<float>(vector_of(kQuantMap, "F32"), "F32");

  const bool nested_tensors = field.count(kNestedAbsmax) || field.count(kNestedQuantMap);
  if (q.nested.has_value() != nested_tensors)
    fail(q.nested ? fmt::format("the quant_state is nested but {0}.{1} / {0}.{2} are missing", p, kNestedAbsmax, kNestedQuantMap)
                  : fmt::format("{0}.{1} / {0}.{2} are present but the quant_state is not nested", p, kNestedAbsmax, kNestedQuantMap));
  if (q.nested) {
    Bnb4bitNested nested;
    nested.codes = vector_of(kAbsmax, "U8").bytes;
    nested.nested_absmax = safetensors::values<float>(vector_of(kNestedAbsmax, "F32"), "F32");
    nested.nested_map = safetensors::values<float>(vector_of(kNestedQuantMap, "F32"), "F32");
    nested.nested_blocksize = q.nested->blocksize;
    nested.nested_dtype = q.nested->dtype;
    nested.offset = q.nested->offset;
    s.nested = std::move(nested);
  } else {
    s.absmax = safetensors::values<float>(vector_of(kAbsmax, "F32"), "F32");
  }
  validate(s, p);
  return s;
}

}  // namespace

Bnb4bitState from_tensors(std::span<const safetensors::Tensor> tensors, std::string_view prefix) {
  if (prefix.empty()) fail("the tensor prefix is empty");
  return reading([&] { return parse_tensors(tensors, prefix); });
}

Bnb4bitState encode(std::span<const float> in, std::vector<std::uint64_t> shape, const nf4::Options& o,
                    const std::optional<nf4::DoubleQuantOptions>& dq) {
  Bnb4bitState s;
  s.shape = shape;
  if (s.elements() != in.size())
    fail(fmt::format("shape [{}] holds {} elements, the weight {}", fmt::join(s.shape, ", "), s.elements(), in.size()));
  return state(nf4::encode(in, o), std::move(shape), o, dq);
}

Bnb4bitState state(nf4::Encoded e, std::vector<std::uint64_t> shape, const nf4::Options& o,
                   const std::optional<nf4::DoubleQuantOptions>& dq) {
  Bnb4bitState s;
  s.shape = std::move(shape);
  s.quant_type = nf4::name(o.table);
  s.blocksize = static_cast<std::uint64_t>(o.block);
  s.packed = std::move(e.packed);
  for (unsigned c = 0; c < 16; ++c) s.quant_map.push_back(nf4::table_value(o.table, c));
  if (dq) s.nested = nested(nf4::double_quantize(e.absmax, o, *dq));
  else s.absmax = std::move(e.absmax);
  return s;
}

std::vector<float> decode(const Bnb4bitState& s) {
  validate(s, "weight");
  nf4::Options o;
  o.table = *nf4::parse_table(s.quant_type);  // validate() checked it
  if (s.blocksize > 4096 || !nf4::valid_block(static_cast<int>(s.blocksize)))
    throw Error(fmt::format("blocksize {} is not supported (powers of two 32..4096)", s.blocksize), Errc::unsupported);
  o.block = static_cast<int>(s.blocksize);
  for (unsigned c = 0; c < 16; ++c)
    if (std::bit_cast<std::uint32_t>(s.quant_map[c]) != std::bit_cast<std::uint32_t>(nf4::table_value(o.table, c)))
      throw Error(fmt::format("quant_map entry {} is not bitsandbytes' {} table", c, s.quant_type), Errc::unsupported);
  const std::vector<float> absmax = s.nested ? nf4::double_dequantize(double_quantized(*s.nested)) : s.absmax;
  return nf4::decode(s.packed, absmax, s.elements(), o);
}

Bnb4bitNested nested(const nf4::DoubleQuantized& q) {
  return {q.codes, q.nested_absmax, {q.map.begin(), q.map.end()}, static_cast<std::uint64_t>(q.nested_block), "float32", q.offset};
}

nf4::DoubleQuantized double_quantized(const Bnb4bitNested& n) {
  if (n.nested_map.size() != 256) fail(fmt::format("nested_quant_map has {} entries, an 8-bit code needs 256", n.nested_map.size()));
  if (n.nested_blocksize != static_cast<std::uint64_t>(nf4::kNestedBlock))
    throw Error(fmt::format("nested blocksize {} is not supported (bitsandbytes uses {})", n.nested_blocksize, nf4::kNestedBlock),
                Errc::unsupported);
  nf4::DoubleQuantized q{n.offset, n.codes, n.nested_absmax, {}, nf4::kNestedBlock};
  std::copy(n.nested_map.begin(), n.nested_map.end(), q.map.begin());
  return q;
}

}  // namespace lowbit::io::bnb
