// Shared helpers of the fuzz targets (docs/fuzzing.md). Each fuzz_<name>.cpp exports
// LLVMFuzzerTestOneInput; the same file links either with libFuzzer (LOWBIT_FUZZ=ON, clang) or with
// replay_main.cpp, which runs the checked-in corpus as an ordinary test.
//
// The contract every target checks: malformed input ends in a lowbit::Error (the one error type of
// the public API) and nothing else. A crash, a sanitizer
// report, std::bad_alloc / std::length_error from a size taken on trust, any other exception, or a
// failed LOWBIT_FUZZ_CHECK (a decoder that disagrees with itself or with the reference) is a finding.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include "lowbit/error.hpp"

namespace lowbit::fuzz {

[[noreturn]] inline void finding(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
  std::fflush(stderr);
  std::abort();
}

#define LOWBIT_FUZZ_CHECK(cond) ((cond) ? void(0) : ::lowbit::fuzz::finding(#cond, __FILE__, __LINE__))

// LOWBIT_FUZZ_VERBOSE=1 in the environment: print every rejection (to see why a seed is refused).
inline bool verbose() {
  static const bool v = std::getenv("LOWBIT_FUZZ_VERBOSE") != nullptr;
  return v;
}

// Runs f(); true when it returns, false when it throws lowbit::Error.
template <class F> bool accepted(F&& f) {
  try {
    f();
    if (verbose()) std::fprintf(stderr, "  accepted\n");
    return true;
  } catch (const lowbit::Error& e) {
    if (verbose()) std::fprintf(stderr, "  rejected (%s): %s\n", lowbit::name(e.code()).data(), e.what());
  }
  return false;
}

// A cursor over the fuzzer's bytes: reads past the end give zeros, so every input means something.
class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::size_t left() const { return size_ - pos_; }
  std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | u8() << 8); }
  std::span<const std::uint8_t> take(std::size_t n) {
    n = n < left() ? n : left();
    const std::span<const std::uint8_t> s(data_ + pos_, n);
    pos_ += n;
    return s;
  }
  std::span<const std::uint8_t> rest() { return take(left()); }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// A new temporary folder (its name starts with `prefix`), removed with what it holds when the process exits.
inline std::filesystem::path temp_folder(const char* prefix) {
  struct Removed {
    std::vector<std::filesystem::path> dirs;
    ~Removed() {
      std::error_code ec;
      for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
    }
  };
  static Removed at_exit;
  std::string name = (std::filesystem::temp_directory_path() / (std::string(prefix) + "XXXXXX")).string();
  if (!::mkdtemp(name.data())) finding("mkdtemp failed", __FILE__, __LINE__);
  return at_exit.dirs.emplace_back(name);
}

// `count` little-endian values from raw bytes (lowbit's targets are little-endian); zeros where
// the bytes run out.
template <class T> std::vector<T> values_from(std::span<const std::uint8_t> b, std::size_t count) {
  std::vector<T> v(count);
  const std::size_t bytes = count * sizeof(T) < b.size() ? count * sizeof(T) : b.size();
  if (bytes) std::memcpy(v.data(), b.data(), bytes);
  return v;
}

template <class T> bool same_bits(std::span<const T> a, std::span<const T> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// The .safetensors file a checkpoint target reads. Two spellings of one input: a raw file, or (when
// the input starts with '{') the JSON header, a NUL byte, then the data buffer, for which the
// target writes the 8-byte header length itself. The second form lets the fuzzer grow or shrink
// the header without breaking the length in front of it (the safetensors target fuzzes that length).
inline std::vector<std::uint8_t> safetensors_input(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || data[0] != '{') return {data, data + size};
  const auto* nul = static_cast<const std::uint8_t*>(std::memchr(data, 0, size));
  const std::size_t header = nul ? static_cast<std::size_t>(nul - data) : size;
  std::vector<std::uint8_t> out(8 + size - (nul ? 1 : 0));
  for (int b = 0; b < 8; ++b) out[b] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(header) >> (8 * b));
  std::memcpy(out.data() + 8, data, header);
  if (nul) std::memcpy(out.data() + 8 + header, nul + 1, size - header - 1);
  return out;
}

}  // namespace lowbit::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
