#include "finetune_command.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "lowbit/conformance/json_text.hpp"
#include "lowbit/training/finetune.hpp"
#include "registry.hpp"
#include "usage_error.hpp"

namespace lowbit::cli {
namespace {

using training::FinetuneReport;
using training::FinetuneSettings;
using training::MethodResult;
using training::TaskReport;

nlohmann::ordered_json counts_json(const training::QuantStats& q) {
  return {{"values", q.values}, {"groups", q.groups}, {"exp_underflow", q.exp_underflow}, {"exp_overflow", q.exp_overflow},
          {"saturated", q.saturated}};
}

nlohmann::ordered_json method_json(const MethodResult& m, bool sweep) {
  nlohmann::ordered_json j;
  j["name"] = m.name;
  j["family"] = m.family;
  j["bits"] = m.bits;
  j["base_bits"] = m.base_bits;
  j["rank"] = m.rank;
  j["trainable_params"] = m.trainable_params;
  j["lr"] = m.lr;
  j["final_loss"] = m.final_loss;
  j["validation_loss"] = m.validation_loss;
  j["validation_accuracy"] = m.validation_accuracy;
  j["test_loss"] = m.test_loss;
  j["accuracy"] = m.accuracy;
  j["initial_test_loss"] = m.initial_test_loss;
  j["initial_accuracy"] = m.initial_accuracy;
  j["memory_bytes"] = m.memory.total_bytes();
  j["memory"] = {{"base_bytes", m.memory.base_bits / 8},
                 {"trainable_bytes", m.memory.trainable_bits / 8},
                 {"activation_bytes", m.memory.activation_bits / 8}};
  if (m.family == "lora") {
    j["quantization"] = counts_json(m.stats);
    j["quantization_offset_0"] = counts_json(m.no_offset);
  }
  if (sweep) j["pareto"] = m.pareto;
  return j;
}

nlohmann::ordered_json settings_json(const FinetuneSettings& s) {
  return {{"input", s.input},
          {"hidden", s.hidden},
          {"classes", s.classes},
          {"teacher_hidden", s.teacher_hidden},
          {"shift", s.shift},
          {"outliers", s.outliers},
          {"outlier_min", s.outlier_min},
          {"outlier_max", s.outlier_max},
          {"outlier_share", s.outlier_share},
          {"outlier_shift", s.outlier_shift},
          {"pretrain_examples", s.pretrain_examples},
          {"finetune_examples", s.finetune_examples},
          {"validation_examples", s.validation_examples},
          {"test_examples", s.test_examples},
          {"calibration_examples", s.calibration_examples},
          {"batch", s.batch},
          {"pretrain_steps", s.pretrain_steps},
          {"finetune_steps", s.finetune_steps},
          {"pretrain_lr", s.pretrain_lr},
          {"lora_lrs", s.lora_lrs},
          {"qeft_lrs", s.qeft_lrs},
          {"full_lrs", s.full_lrs},
          {"lora_alpha", s.lora_alpha},
          {"rank", s.rank},
          {"sweep_ranks", s.sweep_ranks},
          {"sweep_bits", s.sweep_bits}};
}

nlohmann::ordered_json task_json(const TaskReport& t) {
  nlohmann::ordered_json j;
  j["task"] = training::task_name(t.task);
  j["pretrain"] = {{"final_loss", t.pretrain_final_loss}, {"accuracy", t.pretrain_accuracy}};
  j["changed_labels"] = t.changed_labels;
  j["learning_rates"] = nlohmann::ordered_json::array();
  for (const training::LrSelection& l : t.lr) {
    nlohmann::ordered_json trials = nlohmann::ordered_json::array();
    for (const MethodResult& m : l.trials)
      trials.push_back({{"lr", m.lr}, {"validation_loss", m.validation_loss}, {"validation_accuracy", m.validation_accuracy}});
    j["learning_rates"].push_back({{"family", l.family}, {"method", l.method}, {"chosen", l.chosen}, {"trials", trials}});
  }
  j["methods"] = nlohmann::ordered_json::array();
  for (const MethodResult& m : t.table) j["methods"].push_back(method_json(m, false));
  j["sweep"] = nlohmann::ordered_json::array();
  for (const MethodResult& m : t.sweep) j["sweep"].push_back(method_json(m, true));
  j["formats"] = nlohmann::ordered_json::array();
  for (const training::FormatError& f : t.formats)
    j["formats"].push_back({{"layer", f.layer},
                            {"bits", f.bits},
                            {"group", f.group},
                            {"bits_per_value", f.bits_per_value},
                            {"rne_error", f.rne_error},
                            {"rne_gain", f.rne_gain},
                            {"rtz_error", f.rtz_error},
                            {"rtz_gain", f.rtz_gain}});
  return j;
}

nlohmann::ordered_json report_json(const FinetuneReport& r, bool quick) {
  nlohmann::ordered_json j;
  j["seed"] = r.settings.seed;
  j["quick"] = quick;
  j["settings"] = settings_json(r.settings);
  j["tasks"] = nlohmann::ordered_json::array();
  for (const TaskReport& t : r.tasks) j["tasks"].push_back(task_json(t));
  return j;
}

}  // namespace

int run_finetune(const FinetuneArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<std::uint64_t> seeds = a.seeds.empty() ? std::vector<std::uint64_t>{1} : a.seeds;
  if (!a.out.empty() && seeds.size() > 1) throw UsageError("finetune: --out takes one seed");
  std::vector<training::TaskKind> tasks;
  if (a.task == "dense" || a.task == "both") tasks.push_back(training::TaskKind::dense);
  if (a.task == "outlier" || a.task == "both") tasks.push_back(training::TaskKind::outlier);
  if (!a.out.empty()) std::filesystem::create_directories(a.out);  // fail before the run, not after it
  std::vector<FinetuneReport> runs;
  for (const std::uint64_t seed : seeds) {
    FinetuneSettings s = a.quick ? FinetuneSettings::quick(seed) : FinetuneSettings::full(seed);
    s.tasks = tasks;
    runs.push_back(training::run_finetune_experiment(s));
  }
  if (!a.out.empty()) training::write_finetune_outputs(runs.front(), a.out);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a.json) {
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (const FinetuneReport& r : runs) j.push_back(report_json(r, a.quick));
    fmt::print("{}\n", conformance::json_text(runs.size() == 1 ? j.front() : j, 2));
  } else {
    for (const FinetuneReport& r : runs) fmt::print("{}", training::report_markdown(r));
    if (runs.size() > 1) fmt::print("{}", training::seeds_markdown(runs));
    if (!a.out.empty()) fmt::print("wrote {0}/table.csv, {0}/sweep.csv, {0}/lr.csv, {0}/pareto.svg\n", a.out);
    fmt::print("{:.1f} s\n", seconds);
  }
  std::fflush(stdout);
  return 0;
}

namespace {

void define(Registry& reg) {
  reg.add(Command{"finetune", "", {}, "", [](CLI::App& c) -> Action {
    auto a = std::make_shared<FinetuneArgs>();
    c.add_flag("--quick", a->quick, "the smaller run (about 35 s on one core, both tasks)");
    c.add_option("--seed", a->seeds,
                 "seed(s) of the data, the teachers, the initialisation and the batch order (default 1); several seeds "
                 "also print the accuracy over the seeds")
        ->expected(1, 16);
    c.add_option("--task", a->task, "dense, outlier or both (default)")->check(CLI::IsMember({"dense", "outlier", "both"}));
    c.add_option("--out", a->out, "folder for table.csv, sweep.csv, lr.csv and pareto.svg (created if missing; one seed)");
    c.add_flag("--json", a->json, "JSON instead of the Markdown tables (an array of runs for several seeds)");
    return [a] { return run_finetune(*a); };
  }});
}

const Registration registration("finetune", define);

}  // namespace

}  // namespace lowbit::cli
