// The fine-tuning experiment's tables as Markdown, exactly as docs/training.md section 5 shows them.
#include <fmt/format.h>

#include "finetune_support.hpp"
#include "lowbit/error.hpp"
#include "lowbit/training/finetune.hpp"

namespace lowbit::training {
namespace {

// 17536 -> "17,536"
std::string grouped(std::uint64_t n) {
  std::string d = std::to_string(n), o;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (i && (d.size() - i) % 3 == 0) o += ',';
    o += d[i];
  }
  return o;
}

std::string percent(double fraction, int digits = 2) { return fmt::format("{:.{}f}%", 100 * fraction, digits); }

std::string title(TaskKind k) { return k == TaskKind::outlier ? "Outlier task" : "Dense task"; }

std::string methods_table(const TaskReport& t) {
  std::string s =
      "| method | bits | base bits | rank | trainable | lr | final loss | test loss | accuracy | before | memory (KiB) |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const MethodResult& m : t.table) {
    if (m.family == "none") {
      s += fmt::format("| pretrained (no fine-tuning) | 32 | 32 | - | 0 | - | {:.4f} (pre-training) | {:.4f} | {} | {} | {:.1f} (weights only) |\n",
                       m.final_loss, m.test_loss, percent(m.accuracy), percent(m.initial_accuracy), m.memory.total_bytes() / 1024);
      continue;
    }
    const std::string rank = m.family == "lora" ? std::to_string(m.rank) : m.family == "qeft" ? fmt::format("~{}", m.rank) : "-";
    s += fmt::format("| {} | {:g} | {:.4g} | {} | {} | {:g} | {:.4f} | {:.4f} | {} | {} | {:.1f} |\n", m.name, m.bits, m.base_bits, rank,
                     grouped(m.trainable_params), m.lr, m.final_loss, m.test_loss, percent(m.accuracy), percent(m.initial_accuracy),
                     m.memory.total_bytes() / 1024);
  }
  return s;
}

std::string lr_table(const TaskReport& t) {
  std::string s = "| family | trained | validation accuracy at each peak lr | chosen |\n|---|---|---|---|\n";
  for (const LrSelection& l : t.lr) {
    std::string cells;
    for (const MethodResult& m : l.trials)
      cells += fmt::format("{}{:g}: {}{}", cells.empty() ? "" : ", ", m.lr, percent(m.validation_accuracy), m.lr == l.chosen ? "*" : "");
    s += fmt::format("| {} | {} | {} | {:g} |\n", l.family, l.method, cells, l.chosen);
  }
  return s;
}

std::string sweep_table(const TaskReport& t, const FinetuneSettings& st) {
  std::string s = "| bits |";
  for (const std::size_t rank : st.sweep_ranks) s += fmt::format(" rank {} |", rank);
  s += "\n|---|";
  for (std::size_t i = 0; i < st.sweep_ranks.size(); ++i) s += "---|";
  s += "\n";
  for (const int bits : st.sweep_bits) {
    s += fmt::format("| {} |", bits);
    for (const std::size_t rank : st.sweep_ranks)
      for (const MethodResult& m : t.sweep)
        if (static_cast<int>(m.bits) == bits && m.rank == rank)
          s += fmt::format(" {:.2f}{} / {:.1f} |", 100 * m.accuracy, m.pareto ? "*" : "", m.memory.total_bytes() / 1024);
    s += "\n";
  }
  return s;
}

std::string clamp_table(const TaskReport& t) {
  std::string s =
      "| method | GSE groups | exp_underflow, offset as trained | exp_underflow, offset 0 | exp_overflow, offset as trained | "
      "exp_overflow, offset 0 |\n|---|---|---|---|---|---|\n";
  for (const MethodResult& m : t.table) {
    if (m.stats.groups == 0) continue;
    const double g = static_cast<double>(m.stats.groups);
    s += fmt::format("| {} | {} | {} | {} | {} | {} |\n", m.name, grouped(m.stats.groups), percent(m.stats.exp_underflow / g, 3),
                     percent(m.no_offset.exp_underflow / g, 3), percent(m.stats.exp_overflow / g, 3),
                     percent(m.no_offset.exp_overflow / g, 3));
  }
  return s;
}

// One row per (layer, bits): the error of each group size, rne / rtz, and the gains at groups of 32.
std::string formats_table(const TaskReport& t) {
  constexpr int kGroups[] = {16, 32, 64, 128};
  std::string s = "| layer | bits |";
  for (const int g : kGroups) s += fmt::format(" error, groups of {} (rne / rtz) |", g);
  s += " gain, groups of 32 (rne / rtz) |\n|---|---|---|---|---|---|---|\n";
  for (std::size_t i = 0; i < t.formats.size();) {
    const FormatError& first = t.formats[i];
    std::string cells, gain = "-";
    for (const int g : kGroups) {
      std::string cell = "-";
      for (; i < t.formats.size() && t.formats[i].layer == first.layer && t.formats[i].bits == first.bits && t.formats[i].group == g; ++i) {
        const FormatError& f = t.formats[i];
        cell = fmt::format("{} / {}", percent(f.rne_error), percent(f.rtz_error));
        if (g == 32) gain = fmt::format("{:.4f} / {:.4f}", f.rne_gain, f.rtz_gain);
      }
      cells += fmt::format(" {} |", cell);
    }
    s += fmt::format("| L{} | {} |{} {} |\n", first.layer + 1, first.bits, cells, gain);
  }
  return s;
}

const MethodResult& row_of(const TaskReport& t, std::string_view name) {
  for (const MethodResult& m : t.table)
    if (m.name == name) return m;
  throw Error("seeds_markdown: no row " + std::string(name));
}

}  // namespace

std::string report_markdown(const FinetuneReport& r) {
  const FinetuneSettings& st = r.settings;
  std::string s;
  for (const TaskReport& t : r.tasks) {
    s += fmt::format("#### {} (seed {})\n\n", title(t.task), st.seed);
    s += fmt::format(
        "MLP {}-{}-{}-{}; pre-trained in fp32 for {} steps (final loss {:.4f}), {} on its own task's held-out set; the shift "
        "changes {} of the held-out labels. Fine-tuned for {} steps of batch {} over {} examples; learning rates chosen on {} "
        "validation examples; test set {} examples.\n\n",
        st.input, st.hidden, st.hidden, st.classes, st.pretrain_steps, t.pretrain_final_loss, percent(t.pretrain_accuracy),
        percent(t.changed_labels, 1), st.finetune_steps, st.batch, st.finetune_examples, st.validation_examples, st.test_examples);
    s += fmt::format(
        "{}\nLearning rates (validation accuracy; * = chosen):\n\n{}\n"
        "GSQ-Tuning bits x rank (test accuracy % / training memory KiB; * = Pareto-optimal):\n\n{}\n"
        "GSE exponent clamps (fraction of the GSE groups, over the fine-tuning and its evaluations):\n\n{}\n"
        "GSE rounding and group size on the pre-trained model's calibration operands: relative error of Q(x) Q(W)^T against x "
        "W^T, and its gain <Q(x) Q(W)^T, x W^T> / |x W^T|^2 (bits per value b + 5/group):\n\n{}\n",
        methods_table(t), lr_table(t), sweep_table(t, st), clamp_table(t), formats_table(t));
  }
  return s;
}

std::string seeds_markdown(const std::vector<FinetuneReport>& runs) {
  if (runs.empty()) throw Error("seeds_markdown: no runs");
  const FinetuneSettings& st = runs.front().settings;
  std::string s;
  for (std::size_t ti = 0; ti < runs.front().tasks.size(); ++ti) {
    const TaskKind kind = runs.front().tasks[ti].task;
    s += fmt::format("#### {}: test accuracy at r = {} over seeds\n\n| method |", title(kind), st.rank);
    for (const FinetuneReport& r : runs) s += fmt::format(" seed {} |", r.settings.seed);
    s += " mean | mean - fp32 LoRA |\n|---|";
    for (std::size_t i = 0; i < runs.size() + 2; ++i) s += "---|";
    s += "\n";
    auto mean_of = [&](std::string_view name) {
      double sum = 0;
      for (const FinetuneReport& r : runs) sum += row_of(r.tasks.at(ti), name).accuracy;
      return sum / static_cast<double>(runs.size());
    };
    const double lora = mean_of("f32-lora");
    for (const MethodResult& m : runs.front().tasks[ti].table) {
      s += fmt::format("| {} |", m.family == "none" ? "pretrained (no fine-tuning)" : m.name);
      for (const FinetuneReport& r : runs) s += fmt::format(" {} |", percent(row_of(r.tasks.at(ti), m.name).accuracy));
      const double mean = mean_of(m.name);
      s += fmt::format(" {} | {} |\n", percent(mean), m.family == "none" ? "" : fmt::format("{:+.2f}", 100 * (mean - lora)));
    }
    s += "\nSweep, mean test accuracy % over the seeds (";
    for (std::size_t i = 0; i < st.sweep_bits.size(); ++i) s += fmt::format("{}INT{}", i ? " / " : "", st.sweep_bits[i]);
    s += "):";
    for (const std::size_t rank : st.sweep_ranks) {
      s += fmt::format(" rank {}", rank);
      for (std::size_t i = 0; i < st.sweep_bits.size(); ++i) {
        double sum = 0;
        for (const FinetuneReport& r : runs)
          for (const MethodResult& m : r.tasks.at(ti).sweep)
            if (m.name == detail::gsq_name(st.sweep_bits[i]) && m.rank == rank) sum += m.accuracy;
        s += fmt::format("{}{:.2f}", i ? " / " : " ", 100 * sum / static_cast<double>(runs.size()));
      }
      s += rank == st.sweep_ranks.back() ? "." : ",";
    }
    s += "\nPre-trained accuracy on its own task:";
    for (std::size_t i = 0; i < runs.size(); ++i) s += fmt::format("{} {}", i ? "," : "", percent(runs[i].tasks.at(ti).pretrain_accuracy));
    s += ". Chosen learning rates (lora / qeft / full):";
    for (const FinetuneReport& r : runs) {
      std::string lrs;
      for (const LrSelection& l : r.tasks.at(ti).lr) lrs += fmt::format("{}{:g}", lrs.empty() ? "" : " / ", l.chosen);
      s += fmt::format(" seed {} {};", r.settings.seed, lrs);
    }
    s.back() = '.';
    s += "\n\n";
  }
  return s;
}

}  // namespace lowbit::training
