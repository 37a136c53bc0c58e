// lowbit train-check: the gradient validations of the training layers
// (lowbit/training/validation.hpp), one line each with its metric, bound and PASS/FAIL, then
// "N passed, M failed"; --json prints one JSON object instead. Exit status 1 on any failure.
#pragma once

namespace lowbit::cli {

int run_train_check(bool json);

}  // namespace lowbit::cli
