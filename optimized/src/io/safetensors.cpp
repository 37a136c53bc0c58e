#include "lowbit/io/safetensors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>

#include "json_excerpt.hpp"
#include "lowbit/error.hpp"
#include "strict_json.hpp"

namespace lowbit::io::safetensors {
namespace {

// What reading a file finds (Errc::data).
[[noreturn]] void fail(const std::string& what) { throw Error("safetensors: " + what, Errc::data); }
// What the caller's arguments to write() or byte_size() cannot be (Errc::invalid).
[[noreturn]] void reject(const std::string& what) { throw Error("safetensors: " + what, Errc::invalid); }

// Deepest nesting of arrays and objects a header may have (the schema needs 3).
// A safetensors header nests containers two deep at most ({"t": {"shape": [..]}}); anything deeper
// is invalid, and refusing it while parsing keeps the parsed tree within a few times the header's size.
constexpr int kMaxDepth = 3;

// Offset of the first byte that breaks strict UTF-8 (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF), or npos when `s` is valid.
std::size_t utf8_error(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (s.size() - i < len) return i;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

std::size_t rank(std::string_view dtype) {
  const DtypeInfo* d = find_dtype(dtype);
  return static_cast<std::size_t>(d - std::begin(kDtypes));
}

std::uint64_t unsigned_value(const nlohmann::json& v, const std::string& what) {
  if (!v.is_number_unsigned()) fail(fmt::format("{} must be a non-negative integer, not {}", what, json_excerpt(v)));
  return v.get<std::uint64_t>();
}

Entry parse_entry(const std::string& name, const nlohmann::json& v) {
  const std::string where = fmt::format("tensor '{}'", name);
  if (!v.is_object()) fail(fmt::format("{}: entry must be an object, not {}", where, v.type_name()));
  for (const auto& [key, _] : v.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets") fail(fmt::format("{}: unknown field '{}'", where, key));
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!v.contains(key)) fail(fmt::format("{}: missing field '{}'", where, key));
  Entry e;
  e.name = name;
  const auto& dtype = v["dtype"];
  if (!dtype.is_string()) fail(fmt::format("{}: dtype must be a string, not {}", where, dtype.type_name()));
  e.dtype = dtype.get<std::string>();
  if (!find_dtype(e.dtype)) fail(fmt::format("{}: unknown dtype '{}'", where, e.dtype));
  const auto& shape = v["shape"];
  if (!shape.is_array()) fail(fmt::format("{}: shape must be an array, not {}", where, shape.type_name()));
  for (const auto& d : shape) e.shape.push_back(unsigned_value(d, where + " shape entry"));
  const auto& off = v["data_offsets"];
  if (!off.is_array() || off.size() != 2) fail(fmt::format("{}: data_offsets must be an array [begin, end]", where));
  e.begin = unsigned_value(off[0], where + " data_offsets");
  e.end = unsigned_value(off[1], where + " data_offsets");
  if (e.end < e.begin) fail(fmt::format("{}: data_offsets [{}, {}] end before they begin", where, e.begin, e.end));
  return e;
}

}  // namespace

const DtypeInfo* find_dtype(std::string_view name) {
  for (const DtypeInfo& d : kDtypes)
    if (d.name == name) return &d;
  return nullptr;
}

std::uint64_t byte_size(std::string_view dtype, std::span<const std::uint64_t> shape) {
  const DtypeInfo* d = find_dtype(dtype);
  if (!d) reject(fmt::format("unknown dtype '{}'", dtype));
  std::uint64_t n = 1;
  for (std::uint64_t dim : shape)
    if (__builtin_mul_overflow(n, dim, &n)) reject(fmt::format("shape [{}] has more than 2^64 elements", fmt::join(shape, ", ")));
  std::uint64_t bits;
  if (__builtin_mul_overflow(n, std::uint64_t{d->bits}, &bits))
    reject(fmt::format("shape [{}] of {} needs more than 2^64 bits", fmt::join(shape, ", "), dtype));
  if (bits % 8) reject(fmt::format("shape [{}] of {} does not fill whole bytes", fmt::join(shape, ", "), dtype));
  return bits / 8;
}

const Tensor* File::find(std::string_view name) const {
  for (const Tensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

const Tensor& File::at(std::string_view name) const {
  if (const Tensor* t = find(name)) return *t;
  fail(fmt::format("no tensor named '{}'", name));
}

void expect_tensor(const Tensor& t, std::string_view dtype, int rank) {
  if (t.dtype != dtype) fail(fmt::format("tensor '{}' is {}, expected {}", t.name, t.dtype, dtype));
  if (rank >= 0 && t.shape.size() != static_cast<std::size_t>(rank))
    fail(fmt::format("tensor '{}' has {} dimensions, expected {}", t.name, t.shape.size(), rank));
}

std::vector<std::uint8_t> write_header(std::span<const Entry> entries, const Metadata& metadata) {
  std::set<std::string_view> names;
  std::uint64_t offset = 0;
  for (const Entry& t : entries) {
    if (utf8_error(t.name) != std::string_view::npos) reject("a tensor name is not valid UTF-8");
    if (t.name == "__metadata__") reject("a tensor cannot be named __metadata__");
    if (!names.insert(t.name).second) reject(fmt::format("two tensors are named '{}'", t.name));
    const std::uint64_t want = byte_size(t.dtype, t.shape);
    if (t.begin != offset || t.end < t.begin || t.end - t.begin != want)
      reject(fmt::format("tensor '{}': {} x [{}] needs {} bytes at offset {}, it has [{}, {})", t.name, t.dtype,
                         fmt::join(t.shape, ", "), want, offset, t.begin, t.end));
    offset = t.end;
  }
  for (const auto& [k, v] : metadata)
    if (utf8_error(k) != std::string_view::npos || utf8_error(v) != std::string_view::npos)
      reject("a __metadata__ string is not valid UTF-8");

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = std::move(m);
  }
  for (const Entry& t : entries) {
    nlohmann::ordered_json e = nlohmann::ordered_json::object();
    e["dtype"] = t.dtype;
    e["shape"] = t.shape;
    e["data_offsets"] = {t.begin, t.end};
    header[t.name] = std::move(e);
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  if (json.size() > kMaxHeader) reject(fmt::format("the header would have {} bytes, above the limit of {}", json.size(), kMaxHeader));

  std::vector<std::uint8_t> out(8 + json.size());
  const std::uint64_t n = json.size();
  for (int b = 0; b < 8; ++b) out[b] = static_cast<std::uint8_t>(n >> (8 * b));
  std::memcpy(out.data() + 8, json.data(), json.size());
  return out;
}

std::vector<std::uint8_t> write(std::span<const Tensor> tensors, const Metadata& metadata) {
  for (const Tensor& t : tensors)
    if (const std::uint64_t want = byte_size(t.dtype, t.shape); t.bytes.size() != want)
      reject(fmt::format("tensor '{}': {} x [{}] needs {} bytes, it has {}", t.name, t.dtype, fmt::join(t.shape, ", "), want,
                         t.bytes.size()));
  std::vector<std::size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const std::size_t ra = rank(tensors[a].dtype), rb = rank(tensors[b].dtype);
    return ra != rb ? ra > rb : tensors[a].name < tensors[b].name;
  });
  std::vector<Entry> entries;
  std::uint64_t offset = 0;
  for (std::size_t i : order) {
    const Tensor& t = tensors[i];
    entries.push_back({t.name, t.dtype, t.shape, offset, offset + t.bytes.size()});
    offset += t.bytes.size();
  }
  std::vector<std::uint8_t> out = write_header(entries, metadata);
  out.reserve(out.size() + offset);
  for (std::size_t i : order) out.insert(out.end(), tensors[i].bytes.begin(), tensors[i].bytes.end());
  return out;
}

std::uint64_t header_length(std::span<const std::uint8_t> in, std::uint64_t file_size) {
  if (file_size < 8 || in.size() < 8) fail(fmt::format("file has {} bytes, too short for the 8-byte header length", file_size));
  std::uint64_t n = 0;
  for (int b = 0; b < 8; ++b) n |= std::uint64_t{in[b]} << (8 * b);
  if (n > kMaxHeader) fail(fmt::format("header length {} is above the limit of {} bytes", n, kMaxHeader));
  if (n > file_size - 8) fail(fmt::format("header length {} runs past the end of the file ({} bytes follow it)", n, file_size - 8));
  return n;
}

Header parse_header(std::span<const std::uint8_t> bytes, std::uint64_t buffer) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (const std::size_t bad = utf8_error(text); bad != std::string_view::npos)
    fail(fmt::format("header is not valid UTF-8 (byte {} of the header)", bad));

  const nlohmann::json header = parse_strict_json(text, "header", kMaxDepth, fail);
  if (!header.is_object()) fail(fmt::format("header must be a JSON object, not {}", header.type_name()));

  Header file;
  std::vector<Entry>& entries = file.entries;
  try {
    for (const auto& [key, value] : header.items()) {
      if (key == "__metadata__") {
        if (!value.is_object()) fail(fmt::format("__metadata__ must be an object, not {}", value.type_name()));
        for (const auto& [k, v] : value.items()) {
          if (!v.is_string()) fail(fmt::format("__metadata__ value of '{}' must be a string, not {}", k, v.type_name()));
          file.metadata[k] = v.get<std::string>();
        }
        continue;
      }
      Entry e = parse_entry(key, value);
      std::uint64_t want;
      try {
        want = byte_size(e.dtype, e.shape);
      } catch (const Error& err) {
        fail(fmt::format("tensor '{}': {}", key, err.what() + std::strlen("safetensors: ")));
      }
      if (e.end > buffer)
        fail(fmt::format("tensor '{}': data_offsets [{}, {}] lie outside the {}-byte buffer", key, e.begin, e.end, buffer));
      if (e.end - e.begin != want)
        fail(fmt::format("tensor '{}': {} x [{}] needs {} bytes, data_offsets [{}, {}] hold {}", key, e.dtype,
                         fmt::join(e.shape, ", "), want, e.begin, e.end, e.end - e.begin));
      entries.push_back(std::move(e));
    }
  } catch (const nlohmann::json::exception& e) {
    fail(fmt::format("malformed header: {}", e.what()));  // defensive: every access above is type-checked
  }

  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  std::uint64_t cursor = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < cursor)
      fail(fmt::format("tensors '{}' and '{}' overlap (data_offsets [{}, {}] and [{}, {}])", previous->name, e.name,
                       previous->begin, previous->end, e.begin, e.end));
    if (e.begin > cursor)
      fail(fmt::format("buffer bytes [{}, {}) before tensor '{}' belong to no tensor", cursor, e.begin, e.name));
    cursor = e.end;
    previous = &e;
  }
  if (cursor != buffer) fail(fmt::format("buffer bytes [{}, {}) after the last tensor belong to no tensor", cursor, buffer));

  return file;
}

File read(std::span<const std::uint8_t> in) {
  const std::uint64_t n = header_length(in, in.size());
  Header header = parse_header(in.subspan(8, n), in.size() - 8 - n);
  File file;
  file.metadata = std::move(header.metadata);
  const std::uint8_t* data = in.data() + 8 + n;
  file.tensors.reserve(header.entries.size());
  for (Entry& e : header.entries)
    file.tensors.push_back({std::move(e.name), std::move(e.dtype), std::move(e.shape),
                            std::vector<std::uint8_t>(data + e.begin, data + e.end)});
  return file;
}

}  // namespace lowbit::io::safetensors
