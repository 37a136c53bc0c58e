// The reference's argument checks: a failed one throws lowbit::Error, the one error type of every
// public function (Errc::invalid, a bad argument, unless the caller says otherwise).
#pragma once
#include <string>

#include "lowbit/error.hpp"

namespace lowbit::ref {

inline void require(bool ok, const std::string& what, Errc code = Errc::invalid) {
  if (!ok) throw Error(what, code);
}

}  // namespace lowbit::ref
