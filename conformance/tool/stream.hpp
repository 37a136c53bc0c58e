// Element streams for the lowbit tool: stdin/stdout or files, read and written in chunks. A file
// whose name ends in .npy is a NumPy array (lowbit/conformance/npy.hpp): an input's data are the
// elements (its dtype must have the element's size; any shape, read in C order), an output is a 1-D
// array of the command's dtype. Any other file is raw little-endian elements. A partial trailing
// element is an error; a file output appears only on success.
#pragma once
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace lowbit::cli {

// A user-facing error: main prints "lowbit: <what>" and exits non-zero.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class InputStream {
 public:
  InputStream(const std::string& path, std::size_t element_size);  // "" or "-" = stdin
  ~InputStream();
  // Reads up to max_elements whole elements into buf; returns the count, 0 at the end.
  std::size_t read(std::vector<std::uint8_t>& buf, std::size_t max_elements);

 private:
  std::FILE* f_;
  bool owned_;
  std::string name_;
  std::size_t element_size_;
  std::uint64_t total_ = 0;
  std::vector<std::uint8_t> npy_data_;  // a .npy input's data, served from memory
  std::size_t npy_pos_ = 0;
  bool npy_ = false;
};

class OutputStream {
 public:
  // "" or "-" = stdout. npy_descr: the dtype of a .npy output ("<f4", "|u1", ...); empty for
  // commands whose output is a container (GSE file, .safetensors), which refuse a .npy name.
  explicit OutputStream(const std::string& path, std::string_view npy_descr = {});
  ~OutputStream();                                  // removes the temporary file unless committed
  void write(std::span<const std::uint8_t> bytes);
  void commit();                                    // flush, and rename the file into place

 private:
  std::FILE* f_;
  std::filesystem::path final_, temp_;
  bool committed_ = false;
  std::string npy_descr_;             // non-empty: a .npy output, its data buffered until commit
  std::vector<std::uint8_t> npy_data_;
};

// The whole input ("" or "-" = stdin).
std::vector<std::uint8_t> read_all(const std::string& path);
// Raw little-endian words of a whole input; `what` names it in the error for a partial word.
template <class T> std::vector<T> read_words(const std::string& path, const std::string& what);

}  // namespace lowbit::cli
