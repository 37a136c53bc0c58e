// The one I/O layer of every lowbit command. An input is recognised by its first bytes, never by its
// name alone, on files and on standard input alike: a .npy array (magic "\x93NUMPY"), a .safetensors
// file (a little-endian header length, then '{"' or '{}'), a .gse stream (magic "LBGS"), or else a raw
// little-endian stream. A command that reads values takes a raw stream or a .npy array and refuses the
// containers; a command that reads a container refuses anything else. A .npy array's dtype must be the
// element's (<f4 for f32, <f2 for f16, <u2 for bf16, ...); the integer dtype of a float's size (the
// golden sets' <u4 bit patterns) is read as bit patterns only when the command is given
// --bits-as-float. An output named *.npy is a .npy array of the command's dtype. A file output is
// written as lowbit/conformance/output.hpp says: a regular file appears only on success, under a
// temporary name renamed into place; a FIFO or a device is written directly. An empty input gives an
// empty output: an empty raw stream, a .npy array of shape (0,), a valid empty container.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lowbit/conformance/output.hpp"
#include "usage_error.hpp"

namespace lowbit::cli {

enum class FileKind { raw, npy, safetensors, gse };
std::string_view describe(FileKind k);  // "a raw stream", "a .npy array", "a .safetensors file", "a .gse stream"
// What the first bytes of an input (up to 16; fewer for a short input) say it is.
FileKind sniff(std::span<const std::uint8_t> head);

// The element type of a stream.
struct Element {
  std::string_view name;        // f32, f64, f16, bf16, u8 (FP8 codes), i32
  unsigned size;                // bytes
  std::string_view descr;       // its .npy dtype: <f4, <f8, <f2, <u2 (numpy has no bf16), |u1, <i4
  bool is_float;                // an integer .npy of its size needs --bits-as-float
};
inline constexpr Element kF32{"f32", 4, "<f4", true};
inline constexpr Element kF64{"f64", 8, "<f8", true};
inline constexpr Element kF16{"f16", 2, "<f2", true};
inline constexpr Element kBf16{"bf16", 2, "<u2", true};
inline constexpr Element kU8{"u8", 1, "|u1", false};
inline constexpr Element kI32{"i32", 4, "<i4", false};
const Element& element(std::string_view name);  // f32, f64, f16, bf16

// Values read in chunks: a raw stream or a .npy array ("" or "-" = standard input).
class InputStream {
 public:
  InputStream(const std::string& path, const Element& e, bool bits_as_float = false);
  // Reads up to max_elements whole elements into buf; returns the count, 0 at the end.
  std::size_t read(std::vector<std::uint8_t>& buf, std::size_t max_elements);
  // A .npy input's shape; empty for a raw stream.
  const std::vector<std::uint64_t>& shape() const { return shape_; }

 private:
  std::size_t fill(std::uint8_t* dst, std::size_t bytes);  // the peeked head first, then the file

  struct Close {
    void operator()(std::FILE* f) const {
      if (f != stdin) std::fclose(f);
    }
  };
  std::unique_ptr<std::FILE, Close> f_;
  std::string name_;
  Element element_;
  std::uint64_t total_ = 0;
  std::vector<std::uint8_t> head_;  // bytes read to recognise the input, served first
  std::size_t head_pos_ = 0;
  bool npy_ = false;  // a .npy input: its data, served from head_
  std::vector<std::uint64_t> shape_;
};

// A whole input of values, and its .npy shape (empty for a raw stream).
template <class T> struct Values {
  std::vector<T> values;
  std::vector<std::uint64_t> shape;
};
template <class T> Values<T> read_values(const std::string& path, const Element& e, bool bits_as_float = false);

// A whole container input that must be of `kind` (a .safetensors file, a .gse stream); `what` names
// what the command expects in the error ("a .safetensors file with a tensor 'weight'").
std::vector<std::uint8_t> read_container(const std::string& path, FileKind kind, std::string_view what);
// A whole input and what it is.
struct Input {
  FileKind kind;
  std::vector<std::uint8_t> bytes;
};
Input read_input(const std::string& path);

class OutputStream {
 public:
  // "" or "-" = stdout. npy: the element of a .npy output; null for commands whose output is a
  // container (a .gse stream, a .safetensors file), which refuse a .npy name.
  explicit OutputStream(const std::string& path, const Element* npy = nullptr);
  void write(std::span<const std::uint8_t> bytes);
  template <class T> void write_values(std::span<const T> v) {
    write({reinterpret_cast<const std::uint8_t*>(v.data()), v.size() * sizeof(T)});
  }
  // Flushes and renames the file into place; a .npy output gets `shape` (default: 1-D).
  void commit(std::vector<std::uint64_t> shape = {});

 private:
  conformance::OutputFile file_;
  const Element* npy_ = nullptr;  // a .npy output, its data buffered until commit
  std::vector<std::uint8_t> npy_data_;
};

// Reads `in` chunk by chunk (`chunk` elements: whole blocks of the format), lets f(values, outputs,
// stream index of values[0]) fill the outputs, writes them to `out`, and commits it with the input's
// shape.
template <class In, class Out, class F> void map_stream(InputStream& in, OutputStream& out, std::size_t chunk, F f) {
  std::vector<std::uint8_t> buf;
  std::vector<In> x;
  std::vector<Out> y;
  std::uint64_t index = 0;
  while (const std::size_t n = in.read(buf, chunk)) {
    x.resize(n);
    y.resize(n);
    std::memcpy(x.data(), buf.data(), n * sizeof(In));  // n > 0: never a null pointer
    f(std::span<const In>(x), std::span<Out>(y), index);
    out.write_values<Out>(y);
    index += n;
  }
  out.commit(in.shape());
}

// Whether an output path names a .npy array.
bool names_npy(const std::string& path);

// Writes a container (or any bytes) to `path` ("" or "-" = stdout), only on success.
void write_file(const std::string& path, std::span<const std::uint8_t> bytes);

}  // namespace lowbit::cli
