#include "version.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "lowbit/c_api.h"
#include "lowbit/kernels.hpp"

namespace lowbit::cli {

std::string version_text() {
  std::string s = fmt::format("lowbit {}\nISAs compiled in:", lowbit_version_string());
  std::vector<std::string_view> isas;
  for (const kernels::Row& r : kernels::rows())
    if (std::find(isas.begin(), isas.end(), r.isa) == isas.end()) isas.push_back(r.isa);
  for (std::string_view isa : isas) {
    std::size_t rows = 0, runs = 0;
    for (const kernels::Row& r : kernels::rows())
      if (r.isa == isa) ++rows, runs += r.available;
    s += fmt::format("\n  {:<10} {} kernels, {}", isa, rows,
                     runs == rows ? "all run on this CPU" : fmt::format("{} run on this CPU", runs));
  }
  return s;
}

}  // namespace lowbit::cli
