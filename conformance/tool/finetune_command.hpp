// lowbit finetune: the end-to-end fine-tuning table of docs/training.md. A small MLP is pre-trained
// in fp32 on a synthetic task, then fine-tuned on a shifted task with fp32 LoRA, QLoRA, GSQ-Tuning
// (GSE-INT 8/6/5), FP8, QEFT weak columns and full fp32 fine-tuning; GSQ-Tuning also over ranks
// 8..128 (the bits x rank sweep). Prints the table (or, with --json, one JSON object) and, with
// --out DIR, writes DIR/table.csv, DIR/sweep.csv and DIR/pareto.svg. Deterministic given --seed.
#pragma once
#include <cstdint>
#include <string>

namespace lowbit::cli {

struct FinetuneArgs {
  bool quick = false;      // the smaller run (hidden width 128, fewer steps, smaller data sets)
  std::uint64_t seed = 1;
  std::string out;         // "" = write no files
  bool json = false;
};

int run_finetune(const FinetuneArgs& a);

}  // namespace lowbit::cli
