// lowbit list: what each family registered (its formats, options, profiles and roundings), then
// every kernel of the kernel list and whether this CPU runs it.
#include <fmt/format.h>

#include <algorithm>

#include "lowbit/cpu.hpp"
#include "registry.hpp"

namespace lowbit::cli {
namespace {

int run_list() {
  for (const auto& print : registry().lists()) print();
  fmt::print("kernels (lowbit/kernels.inc):\n");
  const auto rows = kernels::rows();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const kernels::Row& r = rows[i];
    // Dispatch runs the last row of a family this CPU runs.
    const bool dispatched = r.available && std::none_of(rows.begin() + static_cast<std::ptrdiff_t>(i) + 1, rows.end(),
                                                        [&](const kernels::Row& q) { return q.family == r.family && q.available; });
    fmt::print("  {:<9} {:<10} {:<20} needs {:<14} {}{}\n", r.family, r.isa, r.symbol, cpu::names(r.cpu),
               r.available ? "available" : "not available on this CPU", dispatched ? " (dispatched)" : "");
  }
  return kSuccess;
}

void define(Registry& reg) {
  reg.add(Command{"list", "", {}, "", [](CLI::App&) -> Action { return run_list; }});
}

const Registration registration("list", define);

}  // namespace
}  // namespace lowbit::cli
