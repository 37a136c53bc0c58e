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

namespace lowbit::cli {
namespace {

using training::FinetuneReport;
using training::FinetuneSettings;
using training::MethodResult;

nlohmann::ordered_json method_json(const MethodResult& m, bool sweep) {
  nlohmann::ordered_json j;
  j["name"] = m.name;
  j["family"] = m.family;
  j["bits"] = m.bits;
  j["base_bits"] = m.base_bits;
  j["rank"] = m.rank;
  j["trainable_params"] = m.trainable_params;
  j["final_loss"] = m.final_loss;
  j["test_loss"] = m.test_loss;
  j["accuracy"] = m.accuracy;
  j["initial_test_loss"] = m.initial_test_loss;
  j["initial_accuracy"] = m.initial_accuracy;
  j["memory_bytes"] = m.memory.total_bytes();
  j["memory"] = {{"base_bytes", m.memory.base_bits / 8},
                 {"trainable_bytes", m.memory.trainable_bits / 8},
                 {"activation_bytes", m.memory.activation_bits / 8}};
  if (m.family == "lora")
    j["quantization"] = {{"values", m.stats.values},
                         {"groups", m.stats.groups},
                         {"exp_underflow", m.stats.exp_underflow},
                         {"exp_overflow", m.stats.exp_overflow},
                         {"saturated", m.stats.saturated}};
  if (sweep) j["pareto"] = m.pareto;
  return j;
}

nlohmann::ordered_json settings_json(const FinetuneSettings& s) {
  return {{"input", s.input},
          {"hidden", s.hidden},
          {"classes", s.classes},
          {"teacher_hidden", s.teacher_hidden},
          {"shift", s.shift},
          {"pretrain_examples", s.pretrain_examples},
          {"finetune_examples", s.finetune_examples},
          {"test_examples", s.test_examples},
          {"batch", s.batch},
          {"pretrain_steps", s.pretrain_steps},
          {"finetune_steps", s.finetune_steps},
          {"pretrain_lr", s.pretrain_lr},
          {"lora_lr", s.lora_lr},
          {"qeft_lr", s.qeft_lr},
          {"full_lr", s.full_lr},
          {"lora_alpha", s.lora_alpha},
          {"rank", s.rank},
          {"sweep_ranks", s.sweep_ranks},
          {"sweep_bits", s.sweep_bits}};
}

std::string rank_text(const MethodResult& m) { return m.family == "lora" || m.family == "qeft" ? std::to_string(m.rank) : "-"; }

void print_table(const FinetuneReport& r, bool quick, double seconds) {
  const FinetuneSettings& s = r.settings;
  fmt::print("lowbit finetune{}: MLP {}-{}-{}-{} (ReLU, no bias), seed {}\n", quick ? " --quick" : "", s.input, s.hidden, s.hidden,
             s.classes, s.seed);
  fmt::print("pre-trained in fp32: {} steps, final loss {:.4f}, held-out accuracy on its own task {:.2f}%\n", s.pretrain_steps,
             r.pretrain_final_loss, 100 * r.pretrain_accuracy);
  fmt::print("fine-tuned on the shifted task: {} steps of batch {} over {} examples; held-out set {} examples\n\n",
             s.finetune_steps, s.batch, s.finetune_examples, s.test_examples);
  fmt::print("{:<17} {:>4} {:>9} {:>4} {:>9} {:>10} {:>9} {:>9} {:>8} {:>12}\n", "method", "bits", "base bits", "rank",
             "trainable", "final loss", "test loss", "accuracy", "before", "memory (KiB)");
  for (const MethodResult& m : r.table)
    fmt::print("{:<17} {:>4g} {:>9.3f} {:>4} {:>9} {:>10.4f} {:>9.4f} {:>8.2f}% {:>7.2f}% {:>12.1f}\n", m.name, m.bits, m.base_bits,
               rank_text(m), m.trainable_params, m.final_loss, m.test_loss, 100 * m.accuracy, 100 * m.initial_accuracy,
               m.memory.total_bytes() / 1024);
  fmt::print("\nGSQ-Tuning bits x rank: held-out accuracy % / training memory KiB (* = Pareto-optimal)\n");
  fmt::print("{:>5}", "bits");
  for (const std::size_t rank : s.sweep_ranks) fmt::print(" {:>17}", fmt::format("rank {}", rank));
  fmt::print("\n");
  for (const int bits : s.sweep_bits) {
    fmt::print("{:>5}", bits);
    for (const std::size_t rank : s.sweep_ranks)
      for (const MethodResult& m : r.sweep)
        if (static_cast<int>(m.bits) == bits && m.rank == rank)
          fmt::print(" {:>17}", fmt::format("{:.2f}{} / {:.1f}", 100 * m.accuracy, m.pareto ? "*" : " ", m.memory.total_bytes() / 1024));
    fmt::print("\n");
  }
  fmt::print("\n{:.1f} s\n", seconds);
}

}  // namespace

int run_finetune(const FinetuneArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  const FinetuneSettings s = a.quick ? FinetuneSettings::quick(a.seed) : FinetuneSettings::full(a.seed);
  if (!a.out.empty()) std::filesystem::create_directories(a.out);  // fail before the run, not after it
  const FinetuneReport r = training::run_finetune_experiment(s);
  if (!a.out.empty()) training::write_finetune_outputs(r, a.out);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a.json) {
    nlohmann::ordered_json j;
    j["seed"] = s.seed;
    j["quick"] = a.quick;
    j["settings"] = settings_json(s);
    j["pretrain"] = {{"final_loss", r.pretrain_final_loss}, {"accuracy", r.pretrain_accuracy}};
    j["methods"] = nlohmann::ordered_json::array();
    for (const MethodResult& m : r.table) j["methods"].push_back(method_json(m, false));
    j["sweep"] = nlohmann::ordered_json::array();
    for (const MethodResult& m : r.sweep) j["sweep"].push_back(method_json(m, true));
    fmt::print("{}\n", conformance::json_text(j, 2));
  } else {
    print_table(r, a.quick, seconds);
    if (!a.out.empty()) fmt::print("wrote {0}/table.csv, {0}/sweep.csv, {0}/pareto.svg\n", a.out);
  }
  std::fflush(stdout);
  return 0;
}

namespace {

void define(Registry& reg) {
  reg.add(Command{"finetune", "", {}, "", [](CLI::App& c) -> Action {
    auto a = std::make_shared<FinetuneArgs>();
    c.add_flag("--quick", a->quick, "the smaller run (about 30 s on one core)");
    c.add_option("--seed", a->seed, "seed of the data, the teachers, the initialisation and the batch order (default 1)");
    c.add_option("--out", a->out, "folder for table.csv, sweep.csv and pareto.svg (created if missing)");
    c.add_flag("--json", a->json, "one JSON object instead of the table");
    return [a] { return run_finetune(*a); };
  }});
}

const Registration registration("finetune", define);

}  // namespace

}  // namespace lowbit::cli
