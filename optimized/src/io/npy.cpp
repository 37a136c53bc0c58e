#include "lowbit/io/npy.hpp"

#include <cstdio>
#include <optional>

#include "lowbit/io/files.hpp"

namespace lowbit::io::npy {
namespace {

// What parse() finds in a file (Errc::data).
[[noreturn]] void fail(const std::string& what) { throw Error("npy: " + what, Errc::data); }
// What the caller's Array cannot be (Errc::invalid).
[[noreturn]] void reject(const std::string& what) { throw Error("npy: " + what, Errc::invalid); }

constexpr char kMagic[] = "\x93NUMPY";

// A strict reader of the header's Python literal: {'key': value, ...} with string, True/False and
// tuple-of-integer values.
struct HeaderParser {
  std::string_view s;
  std::size_t i = 0;

  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  bool eat(char c) {
    ws();
    if (i < s.size() && s[i] == c) { ++i; return true; }
    return false;
  }
  void expect(char c, const char* what) {
    if (!eat(c)) fail(std::string("header is not a dict: expected ") + what);
  }
  std::string string() {
    ws();
    if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) fail("header is not a dict: expected a quoted string");
    const char q = s[i++];
    std::string out;
    while (i < s.size() && s[i] != q) {
      if (s[i] == '\\') fail("header is not a dict: escapes in strings are not supported");
      out += s[i++];
    }
    if (i >= s.size()) fail("header is not a dict: unterminated string");
    ++i;
    return out;
  }
  bool boolean() {
    ws();
    if (s.substr(i, 4) == "True") { i += 4; return true; }
    if (s.substr(i, 5) == "False") { i += 5; return false; }
    fail("header is not a dict: fortran_order is not True or False");
  }
  std::vector<std::uint64_t> tuple() {
    expect('(', "'(' for the shape");
    std::vector<std::uint64_t> out;
    bool first = true, comma = false;
    for (;;) {
      if (eat(')')) break;
      if (!first && !comma) fail("header is not a dict: shape elements need commas");
      ws();
      if (i >= s.size() || s[i] < '0' || s[i] > '9') fail("header is not a dict: the shape is not a tuple of non-negative integers");
      std::uint64_t v = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, static_cast<unsigned>(s[i] - '0'), &v))
          fail("shape product overflow: a dimension exceeds 64 bits");
        ++i;
      }
      out.push_back(v);
      first = false;
      comma = eat(',');
    }
    if (out.size() == 1 && !comma) fail("header is not a dict: a one-element shape needs a trailing comma");
    return out;
  }
};

std::string canonical_descr(std::string_view d) {
  if (d == "<u1" || d == "|u1") return "|u1";
  if (d == "<i1" || d == "|i1") return "|i1";
  return std::string(d);
}

}  // namespace

const DtypeInfo* find_dtype(std::string_view descr) {
  const std::string c = canonical_descr(descr);
  for (const DtypeInfo& d : kDtypes)
    if (d.descr == c) return &d;
  return nullptr;
}

std::uint64_t Array::size() const {
  std::uint64_t n = 1;
  for (std::uint64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n)) reject("shape product overflow");
  return n;
}

std::string header_dict(const Array& a) {
  std::string shape = "(";
  for (std::size_t k = 0; k < a.shape.size(); ++k) {
    if (k) shape += ", ";
    shape += std::to_string(a.shape[k]);
  }
  if (a.shape.size() == 1) shape += ",";
  shape += ")";
  return "{'descr': '" + a.descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
}

Array parse(std::span<const std::uint8_t> f) {
  if (f.size() < 8 || std::memcmp(f.data(), kMagic, 6) != 0) fail("bad magic: not a .npy file");
  const unsigned major = f[6], minor = f[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    fail("bad version " + std::to_string(major) + "." + std::to_string(minor) + " (1.0, 2.0 and 3.0 are supported)");
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  if (f.size() < 8 + len_bytes) fail("truncated header length");
  std::uint64_t hlen = 0;
  for (std::size_t k = 0; k < len_bytes; ++k) hlen |= std::uint64_t{f[8 + k]} << (8 * k);
  const std::uint64_t start = 8 + len_bytes;
  if (hlen > f.size() - start) fail("truncated header: " + std::to_string(hlen) + " bytes declared");
  const std::string_view h(reinterpret_cast<const char*>(f.data() + start), hlen);
  if (major < 3)
    for (char c : h)
      if (static_cast<unsigned char>(c) >= 0x80) fail("header of a version " + std::to_string(major) + ".0 file is not ASCII");
  if (h.empty() || h.back() != '\n') fail("header does not end with a newline");

  HeaderParser p{h};
  p.expect('{', "'{'");
  std::optional<std::string> descr;
  std::optional<bool> fortran;
  std::optional<std::vector<std::uint64_t>> shape;
  bool first = true, comma = false;
  for (;;) {
    if (p.eat('}')) break;
    if (!first && !comma) fail("header is not a dict: entries need commas");
    const std::string key = p.string();
    p.expect(':', "':'");
    if (key == "descr") {
      if (descr) fail("header is not a dict: duplicate key 'descr'");
      descr = p.string();
    } else if (key == "fortran_order") {
      if (fortran) fail("header is not a dict: duplicate key 'fortran_order'");
      fortran = p.boolean();
    } else if (key == "shape") {
      if (shape) fail("header is not a dict: duplicate key 'shape'");
      shape = p.tuple();
    } else {
      fail("header is not a dict of descr, fortran_order and shape: unexpected key '" + key + "'");
    }
    first = false;
    comma = p.eat(',');
  }
  p.ws();
  if (p.i != h.size()) fail("header is not a dict: text after the closing '}'");
  if (!descr || !fortran || !shape) fail("header is not a dict of descr, fortran_order and shape: a key is missing");
  if (*fortran) fail("fortran_order True is not supported (C order only)");
  const DtypeInfo* d = find_dtype(*descr);
  if (!d) fail("unsupported dtype '" + *descr + "'");

  Array a{std::string(d->descr), std::move(*shape), {}};
  std::uint64_t n = 1, nbytes = 0;
  for (std::uint64_t dim : a.shape)
    if (__builtin_mul_overflow(n, dim, &n)) fail("shape product overflow");
  if (__builtin_mul_overflow(n, std::uint64_t{d->size}, &nbytes)) fail("shape product overflow: byte count exceeds 64 bits");
  const std::uint64_t data = f.size() - start - hlen;
  if (nbytes != data)
    fail("data size mismatch: " + std::to_string(data) + " bytes, dtype x shape needs " + std::to_string(nbytes));
  a.bytes.assign(f.begin() + static_cast<std::ptrdiff_t>(start + hlen), f.end());
  return a;
}

std::vector<std::uint8_t> serialize(const Array& a) {
  const DtypeInfo* d = find_dtype(a.descr);
  if (!d) reject("unsupported dtype '" + a.descr + "'");
  std::uint64_t nbytes = 0;
  if (__builtin_mul_overflow(a.size(), std::uint64_t{d->size}, &nbytes) || nbytes != a.bytes.size())
    reject("data size mismatch: " + std::to_string(a.bytes.size()) + " bytes for dtype x shape");
  std::string h = header_dict(a);
  unsigned major = 1;
  std::size_t prefix = 10;
  std::size_t total = (prefix + h.size() + 1 + 63) / 64 * 64;
  if (total - prefix > 65535) {
    major = 2;
    prefix = 12;
    total = (prefix + h.size() + 1 + 63) / 64 * 64;
  }
  h.append(total - prefix - h.size() - 1, ' ');
  h += '\n';
  std::vector<std::uint8_t> out(kMagic, kMagic + 6);
  out.push_back(static_cast<std::uint8_t>(major));
  out.push_back(0);
  const std::uint64_t hlen = h.size();
  for (std::size_t k = 0; k < prefix - 8; ++k) out.push_back(static_cast<std::uint8_t>(hlen >> (8 * k)));
  out.insert(out.end(), h.begin(), h.end());
  out.insert(out.end(), a.bytes.begin(), a.bytes.end());
  return out;
}

std::vector<std::uint8_t> read_bytes(const std::string& path) { return read_file(path); }

void write_bytes(const std::string& path, std::span<const std::uint8_t> bytes) { write_file(path, bytes); }

Array read(const std::string& path) {
  const std::vector<std::uint8_t> b = read_file(path);
  try {
    return parse(b);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what(), e.code());
  }
}

void write(const std::string& path, const Array& a) { write_bytes(path, serialize(a)); }

}  // namespace lowbit::io::npy
