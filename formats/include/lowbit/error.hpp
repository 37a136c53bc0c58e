// The one exception type of lowbit's public API: bad arguments (sizes, options, codes).
#pragma once
#include <stdexcept>

namespace lowbit {

class Error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace lowbit
