// The tool's user-facing error: lowbit prints "lowbit: <what>" and exits with status 2 (kUsage).
#pragma once
#include <stdexcept>

namespace lowbit::cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace lowbit::cli
