// Errors while reading a container: whatever check finds a bad value in a file's contents (a
// size, a shape, a field), it is malformed data, Errc::data, not a bad argument.
#pragma once
#include <utility>

#include "lowbit/error.hpp"

namespace lowbit::io {

// f(), with every Errc::invalid it throws turned into Errc::data (the same message).
template <class F> auto reading(F&& f) -> decltype(std::forward<F>(f)()) {
  try {
    return std::forward<F>(f)();
  } catch (const Error& e) {
    if (e.code() != Errc::invalid) throw;
    throw Error(e.what(), Errc::data);
  }
}

}  // namespace lowbit::io
