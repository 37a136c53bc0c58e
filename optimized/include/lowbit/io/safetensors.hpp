// The .safetensors container (Hugging Face): an 8-byte little-endian header length N, N bytes of
// UTF-8 JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
// optional "__metadata__": {str: str}}, then the byte buffer; offsets are relative to the buffer.
//
// write() is deterministic and lays a file out as safetensors' reference (Rust) serializer does:
// tensors sorted by dtype rank, descending (the order of kDtypes below, i.e. widest alignment
// first), then by name (byte-wise); buffer packed in that order without gaps; compact JSON with
// "__metadata__" first (when not empty), then the tensors in buffer order, each as
// {"dtype", "shape", "data_offsets"}; the header padded with spaces to a multiple of 8 bytes.
//
// read() accepts any file the reference reader accepts, with stricter checks, and throws
// lowbit::Error (Errc::data) naming the problem for every malformed input; it never reads outside the
// input. It rejects: a file shorter than 8 bytes; a header length beyond the file or above
// kMaxHeader; a header that is not UTF-8 or not a JSON object, or nests arrays and objects
// deeper than the schema's 2 levels (refused while parsing, so a header of nested empty arrays
// cannot make the parsed tree many times the file's size); duplicate keys; a tensor entry
// that is not exactly {dtype, shape, data_offsets} with the right JSON types; an unknown dtype;
// a shape whose element count or byte count overflows 64 bits; a byte range that does not match
// dtype x shape; offsets out of the buffer, overlapping, or leaving gaps (the ranges must tile
// the whole buffer, as the reference requires); "__metadata__" that is not {str: str}.
#pragma once
#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lowbit::io::safetensors {

// Headers larger than this are refused (safetensors' own limit).
inline constexpr std::uint64_t kMaxHeader = 100'000'000;

struct DtypeInfo {
  std::string_view name;  // as in the header, e.g. "F32"
  unsigned bits;          // per element: 8, 16, 32, 64; 4 and 6 for the packed sub-byte floats
};
// Every dtype safetensors defines, in its rank order (ascending alignment).
inline constexpr DtypeInfo kDtypes[] = {
    {"BOOL", 8},  {"F4", 4},   {"F6_E2M3", 6}, {"F6_E3M2", 6}, {"U8", 8},   {"I8", 8},   {"F8_E5M2", 8},
    {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"I16", 16}, {"U16", 16},   {"F16", 16}, {"BF16", 16}, {"I32", 32},
    {"U32", 32},  {"F32", 32}, {"C64", 64},    {"F64", 64},    {"I64", 64}, {"U64", 64},
};
// nullptr when `name` is not a safetensors dtype.
const DtypeInfo* find_dtype(std::string_view name);

// Bytes that `shape` elements of `dtype` occupy; throws lowbit::Error for an unknown dtype,
// a product that overflows 64 bits, or a sub-byte tensor that does not fill whole bytes.
std::uint64_t byte_size(std::string_view dtype, std::span<const std::uint64_t> shape);

struct Tensor {
  std::string name;
  std::string dtype;  // "U8", "F32", ...
  std::vector<std::uint64_t> shape;
  std::vector<std::uint8_t> bytes;  // little-endian, row-major; size == byte_size(dtype, shape)

  bool operator==(const Tensor&) const = default;
};

using Metadata = std::map<std::string, std::string>;

struct File {
  std::vector<Tensor> tensors;  // in buffer order
  Metadata metadata;            // "__metadata__"; empty when absent

  // The tensor called `name`, or nullptr.
  const Tensor* find(std::string_view name) const;
  // The tensor called `name`; throws lowbit::Error (Errc::data) when there is none.
  const Tensor& at(std::string_view name) const;
};

// A tensor from little-endian values (lowbit's targets are little-endian); T's size must match
// the dtype's.
template <class T> Tensor make_tensor(std::string name, std::string dtype, std::vector<std::uint64_t> shape, const std::vector<T>& v) {
  Tensor t{std::move(name), std::move(dtype), std::move(shape), std::vector<std::uint8_t>(v.size() * sizeof(T))};
  if (!v.empty()) std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
  return t;
}
// The values of `t`, which must have dtype `dtype` and `rank` dimensions (any rank if rank < 0);
// throws lowbit::Error (Errc::data) naming the tensor otherwise.
void expect_tensor(const Tensor& t, std::string_view dtype, int rank);
template <class T> std::vector<T> values(const Tensor& t, std::string_view dtype, int rank = -1) {
  expect_tensor(t, dtype, rank);
  std::vector<T> v(t.bytes.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), t.bytes.data(), v.size() * sizeof(T));
  return v;
}

// ---- the header alone, for readers that map or stream the buffer (io/model.hpp) --------------------

// A tensor's entry in a header: its bytes are [begin, end) of the buffer.
struct Entry {
  std::string name;
  std::string dtype;
  std::vector<std::uint64_t> shape;
  std::uint64_t begin, end;
};
struct Header {
  std::vector<Entry> entries;  // in buffer order; their ranges tile the buffer
  Metadata metadata;
};
// The header length N from a file's first 8 bytes (`first` holds at least 8 of them) and the
// file's size; the buffer starts at 8 + N and has file_size - 8 - N bytes. Throws what read() throws
// for a short file or a length beyond the file or kMaxHeader.
std::uint64_t header_length(std::span<const std::uint8_t> first, std::uint64_t file_size);
// The N bytes of header text after the length, checked against a buffer of `buffer_size` bytes
// exactly as read() checks them.
Header parse_header(std::span<const std::uint8_t> text, std::uint64_t buffer_size);

// Throws lowbit::Error (Errc::invalid) for an unknown dtype, a size that does not match dtype x shape, a
// duplicate name, the name "__metadata__", or a name or metadata string that is not UTF-8.
std::vector<std::uint8_t> write(std::span<const Tensor> tensors, const Metadata& metadata = {});
// The first 8 + N bytes of a file whose buffer holds `entries` in this order (their ranges must tile
// it from 0: begin of each == end of the one before) — for writers that stream the buffer. Throws
// what write() throws.
std::vector<std::uint8_t> write_header(std::span<const Entry> entries, const Metadata& metadata = {});
File read(std::span<const std::uint8_t> bytes);

}  // namespace lowbit::io::safetensors
