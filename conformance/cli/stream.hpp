// Raw little-endian element streams for the lowbit tool: stdin/stdout or files, read and written
// in chunks. A partial trailing element is an error; a file output appears only on success.
#pragma once
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
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
};

class OutputStream {
 public:
  explicit OutputStream(const std::string& path);  // "" or "-" = stdout
  ~OutputStream();                                  // removes the temporary file unless committed
  void write(std::span<const std::uint8_t> bytes);
  void commit();                                    // flush, and rename the file into place

 private:
  std::FILE* f_;
  std::filesystem::path final_, temp_;
  bool committed_ = false;
};

// The whole input ("" or "-" = stdin).
std::vector<std::uint8_t> read_all(const std::string& path);
// Raw little-endian words of a whole input; `what` names it in the error for a partial word.
template <class T> std::vector<T> read_words(const std::string& path, const std::string& what);

}  // namespace lowbit::cli
