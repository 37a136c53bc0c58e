// lowbit --version (a translation unit of its own: lowbit/c_api.h and lowbit/vendor.h do not yet
// share their C types).
#pragma once
#include <string>

namespace lowbit::cli {

// "lowbit 0.1.0", then each ISA compiled in and how many of its kernels this CPU runs.
std::string version_text();

}  // namespace lowbit::cli
