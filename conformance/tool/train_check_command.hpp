// lowbit train-check: the gradient validations of the training layers
// (lowbit/training/validation.hpp), one line each with its metric, bound and PASS/FAIL, then
// "N passed, M failed"; then the negative controls, one line per (validation, mutant) with whether
// the check caught it, then "N caught, M not caught"; --json prints one JSON object instead. Exit
// status 0 only if every validation passes and every mutant is caught (training::all_hold), else 1.
#pragma once

namespace lowbit::cli {

int run_train_check(bool json);

}  // namespace lowbit::cli
