#include "train_check_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>

#include "lowbit/conformance/json_text.hpp"
#include "lowbit/training/validation.hpp"
#include "registry.hpp"

namespace lowbit::cli {

int run_train_check(bool json) {
  const std::vector<training::ValidationResult> results = training::validate_all();
  const std::vector<training::Control> controls = training::run_controls();
  const auto passed = static_cast<std::size_t>(
      std::count_if(results.begin(), results.end(), [](const training::ValidationResult& r) { return r.passed; }));
  const auto caught = static_cast<std::size_t>(
      std::count_if(controls.begin(), controls.end(), [](const training::Control& c) { return c.caught; }));
  const std::size_t failed = results.size() - passed, uncaught = controls.size() - caught;
  if (json) {
    nlohmann::ordered_json out = {{"results", nlohmann::ordered_json::array()}, {"passed", passed}, {"failed", failed},
                                  {"controls", nlohmann::ordered_json::array()}, {"caught", caught}, {"uncaught", uncaught}};
    for (const training::ValidationResult& r : results)
      out["results"].push_back({{"name", r.name}, {"config", r.config}, {"max_error", r.max_error}, {"bound", r.bound},
                                {"passed", r.passed}, {"cases", r.cases}, {"detail", r.detail}});
    for (const training::Control& c : controls)
      out["controls"].push_back({{"validation", c.validation}, {"mutant", training::mutant_name(c.mutant)},
                                 {"caught", c.caught}, {"failed", c.failed}, {"results", c.results}});
    fmt::print("{}\n", conformance::json_text(out, 2));
  } else {
    fmt::print("{:<19} {:<26} {:>10} {:>10}  {:<6} {:>6}  {}\n", "check", "config", "max error", "bound", "result", "cases",
               "detail");
    for (const training::ValidationResult& r : results)
      fmt::print("{:<19} {:<26} {:>10.3e} {:>10.3e}  {:<6} {:>6}  {}\n", r.name, r.config, r.max_error, r.bound,
                 r.passed ? "PASS" : "FAIL", r.cases, r.detail);
    fmt::print("{} passed, {} failed\n\n", passed, failed);
    // Each mutant is a deliberately broken layer or rounding run through the check: caught when at
    // least one of its results fails.
    fmt::print("{:<19} {:<30} {:<6}  {}\n", "control", "mutant", "caught", "failed/results");
    for (const training::Control& c : controls)
      fmt::print("{:<19} {:<30} {:<6}  {}/{}\n", c.validation, training::mutant_name(c.mutant), c.caught ? "yes" : "NO",
                 c.failed, c.results);
    fmt::print("{} caught, {} not caught\n", caught, uncaught);
  }
  return training::all_hold(results, controls) ? kSuccess : kMismatch;
}

namespace {

void define(Registry& reg) {
  reg.add(Command{"train-check", "", {}, "", [](CLI::App& c) -> Action {
    auto json = std::make_shared<bool>(false);
    c.add_flag("--json", *json, "one JSON object instead of the table");
    return [json] { return run_train_check(*json); };
  }});
}

const Registration registration("train-check", define);

}  // namespace

}  // namespace lowbit::cli
