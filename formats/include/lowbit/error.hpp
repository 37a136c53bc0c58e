// The one error type of lowbit: every public C++ function reports a failure by throwing
// lowbit::Error, whose code() says what kind of failure it is. The codes are the C API's status
// codes (lowbit/c_types.h), so a C++ exception and a C status say the same thing.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>

namespace lowbit {

enum class Errc : int {
  unsupported = 1,  // an option combination this implementation does not provide
  invalid = 2,      // a bad argument: a size, an option, a name, a value out of range
  null = 3,         // a null pointer where a buffer is needed (C API)
  no_memory = 4,    // out of memory
  internal = 5,     // a bug in lowbit
  data = 6,         // malformed input data: a corrupt or truncated file, a code out of range
  io = 7,           // a file could not be opened, read or written
};

// "unsupported", "invalid argument", "null pointer", "out of memory", "internal error",
// "malformed data", "i/o error"
constexpr std::string_view name(Errc e) {
  switch (e) {
    case Errc::unsupported: return "unsupported";
    case Errc::invalid: return "invalid argument";
    case Errc::null: return "null pointer";
    case Errc::no_memory: return "out of memory";
    case Errc::internal: return "internal error";
    case Errc::data: return "malformed data";
    case Errc::io: return "i/o error";
  }
  return "unknown error";
}

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, Errc code = Errc::invalid) : std::runtime_error(what), code_(code) {}
  Errc code() const noexcept { return code_; }

 private:
  Errc code_;
};

}  // namespace lowbit
