// NumPy .npy files (format versions 1.0, 2.0 and 3.0): little-endian, C order, the dtypes of the
// golden-data files only. https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//
// Layout: the magic "\x93NUMPY", major and minor version bytes, the header length (2 bytes
// little-endian for 1.0, 4 bytes for 2.0 and 3.0), the header — a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (3,), } (ASCII for 1.0/2.0, UTF-8 for 3.0),
// padded with spaces and ended by '\n' — then the raw data.
//
// parse() is strict and throws one lowbit::Error (Errc::data) naming the problem for each malformed input:
// bad magic, an unsupported version, a truncated header, a header that is not a dict of exactly
// 'descr', 'fortran_order' and 'shape', fortran_order True, an unsupported dtype (big-endian,
// object, structured, ...), a shape whose element or byte count overflows 64 bits, or data whose size
// is not dtype x shape. It never allocates more than the input's own size.
// serialize() writes version 1.0 (2.0 only when the header does not fit 65535 bytes), with the
// header padded so that the data starts at a multiple of 64 bytes, as numpy does.
#pragma once
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lowbit/error.hpp"

namespace lowbit::io::npy {

struct DtypeInfo {
  std::string_view descr;  // as written, e.g. "<f4", "|u1"
  unsigned size;           // bytes per element
};
inline constexpr DtypeInfo kDtypes[] = {
    {"<f4", 4}, {"<f8", 8}, {"<f2", 2}, {"|u1", 1}, {"<u2", 2}, {"<u4", 4}, {"<i4", 4}, {"|i1", 1}, {"<i2", 2},
};
// The supported dtype of a descr ("<u1" and "|u1" are the same; also "<i1"), or nullptr.
const DtypeInfo* find_dtype(std::string_view descr);

struct Array {
  std::string descr;                 // canonical descr of kDtypes
  std::vector<std::uint64_t> shape;  // empty = a scalar (one element)
  std::vector<std::uint8_t> bytes;   // little-endian, C order

  std::uint64_t size() const;  // elements
  bool operator==(const Array&) const = default;

  // The elements as T; Error (Errc::invalid) when T's size is not the dtype's.
  template <class T> std::vector<T> values() const {
    const DtypeInfo* d = find_dtype(descr);
    if (!d || d->size != sizeof(T))
      throw Error("npy: dtype " + descr + " read as a " + std::to_string(sizeof(T)) + "-byte type");
    std::vector<T> v(bytes.size() / sizeof(T));
    if (!v.empty()) std::memcpy(v.data(), bytes.data(), v.size() * sizeof(T));
    return v;
  }
};

// A 1-D (or `shape`d) array from values; T's size must match descr's.
template <class T> Array make_array(std::string_view descr, const std::vector<T>& v, std::vector<std::uint64_t> shape = {}) {
  const DtypeInfo* d = find_dtype(descr);
  if (!d || d->size != sizeof(T)) throw Error("npy: bad dtype " + std::string(descr) + " for the values");
  Array a{std::string(d->descr), shape.empty() ? std::vector<std::uint64_t>{v.size()} : std::move(shape),
          std::vector<std::uint8_t>(v.size() * sizeof(T))};
  if (a.size() != v.size()) throw Error("npy: shape does not match the number of values");
  if (!v.empty()) std::memcpy(a.bytes.data(), v.data(), a.bytes.size());
  return a;
}

Array parse(std::span<const std::uint8_t> file);
std::vector<std::uint8_t> serialize(const Array& a);
// The header dict as serialize() writes it, without padding: "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }".
std::string header_dict(const Array& a);

// Files; read() throws lowbit::Error naming the path on any problem (Errc::io for a file that
// cannot be read, Errc::data for one that is not a valid .npy). read_bytes and write_bytes are
// io::read_file and io::write_file (lowbit/io/files.hpp).
Array read(const std::string& path);
void write(const std::string& path, const Array& a);
std::vector<std::uint8_t> read_bytes(const std::string& path);
void write_bytes(const std::string& path, std::span<const std::uint8_t> bytes);

}  // namespace lowbit::io::npy
