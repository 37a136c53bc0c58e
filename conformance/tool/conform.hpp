// lowbit conform: the registered suites over lowbit's implementations, or over a vendor plugin's
// functions (--plugin), scoped by --format, --impl, --profile and --rounding.
#pragma once
#include <string>
#include <vector>

#include "registry.hpp"

namespace lowbit::cli {

struct ConformRequest {
  SuiteRun run;                      // level, seeds, sizes, scope; run.formats is filled from `formats`
  std::vector<std::string> formats;  // --format names (aliases too); empty = every suite (a plugin: those it has)
  std::string plugin;                // a vendor plugin .so; empty = lowbit's implementations
};

// Every check of the request; UsageError for a name no suite knows, or a scope that selects nothing.
std::vector<conformance::Check> conform_checks(const ConformRequest& r);

}  // namespace lowbit::cli
