// lowbit finetune: the end-to-end fine-tuning tables of docs/training.md. A small MLP is pre-trained
// in fp32 on a synthetic task, then fine-tuned on a shifted task with fp32 LoRA, QLoRA, GSQ-Tuning
// (GSE-INT 8/6/5), FP8, QEFT weak columns and full fp32 fine-tuning; GSQ-Tuning also over ranks
// 8..128 (the bits x rank sweep); on two tasks (dense shift, outlier channels), the learning rates
// chosen on a validation set. Prints docs/training.md section 5's tables as Markdown (several
// seeds: each seed's, then the accuracy over the seeds) or, with --json, JSON; with --out DIR
// writes DIR/table.csv, sweep.csv, lr.csv and pareto.svg. Deterministic given the seed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lowbit::cli {

struct FinetuneArgs {
  bool quick = false;                // the smaller run (hidden width 128, fewer steps, smaller data sets)
  std::vector<std::uint64_t> seeds;  // empty: seed 1
  std::string task = "both";         // dense, outlier or both
  std::string out;                   // "" = write no files; one seed only
  bool json = false;
};

int run_finetune(const FinetuneArgs& a);

}  // namespace lowbit::cli
