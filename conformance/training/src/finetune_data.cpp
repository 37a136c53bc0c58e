// The fine-tuning experiment's settings and synthetic tasks (lowbit/training/finetune.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "finetune_support.hpp"
#include "lowbit/error.hpp"
#include "lowbit/training/finetune.hpp"

namespace lowbit::training {

FinetuneSettings FinetuneSettings::full(std::uint64_t seed) {
  FinetuneSettings s;
  s.seed = seed;
  return s;
}

FinetuneSettings FinetuneSettings::quick(std::uint64_t seed) {
  FinetuneSettings s;
  s.seed = seed;
  s.hidden = 128;
  s.pretrain_examples = 96000;
  s.pretrain_steps = 1500;
  s.finetune_examples = 4096;
  s.finetune_steps = 300;
  s.validation_examples = 2048;
  s.test_examples = 2048;
  s.calibration_examples = 256;
  return s;
}

std::string_view task_name(TaskKind k) { return k == TaskKind::outlier ? "outlier" : "dense"; }

namespace detail {

std::vector<std::size_t> shuffled(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = i;
  std::uint64_t state = seed;
  for (std::size_t i = n; i > 1; --i) {
    const unsigned __int128 prod = static_cast<unsigned __int128>(splitmix64(state)) * i;
    std::swap(p[i - 1], p[static_cast<std::size_t>(prod >> 64)]);
  }
  return p;
}

std::uint64_t mix(std::uint64_t seed, std::uint64_t n) {
  std::uint64_t state = seed ^ (n * 0xD1B54A32D192ED03ull);
  return splitmix64(state);
}

std::string gsq_name(int bits) { return fmt::format("gsq-4-{0}-{0}/{0}-{0}-{0}", bits); }

}  // namespace detail

std::uint64_t derive_seed(std::uint64_t seed, std::string_view tag) {
  std::uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a
  for (const char c : tag) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ull;
  std::uint64_t state = seed ^ h;
  return splitmix64(state);
}

std::vector<int> Teacher::label(const Matrix& x) const {
  Matrix h = matmul_nt_fast(x, u);
  for (float& e : h.v) e = std::tanh(e);
  const Matrix z = matmul_nt_fast(h, v);
  std::vector<int> y(z.rows);
  for (std::size_t t = 0; t < z.rows; ++t) {
    std::size_t arg = 0;
    for (std::size_t c = 1; c < z.cols; ++c)
      if (z(t, c) > z(t, arg)) arg = c;
    y[t] = static_cast<int>(arg);
  }
  return y;
}

namespace {

// Multiplies column j of m by col[j].
void scale_columns(Matrix& m, const std::vector<float>& col) {
  for (std::size_t r = 0; r < m.rows; ++r)
    for (std::size_t j = 0; j < m.cols; ++j) m(r, j) *= col[j];
}

}  // namespace

Task make_task(const FinetuneSettings& s, TaskKind kind) {
  const std::uint64_t k = s.seed;
  const bool outlier = kind == TaskKind::outlier;
  // The dense task's streams keep their original tags, so its data does not depend on the other task.
  const std::string prefix = outlier ? "outlier-" : "";
  auto seed_of = [&](std::string_view tag) { return derive_seed(k, prefix + std::string(tag)); };
  Task t;
  t.kind = kind;
  // Outlier task, per input feature: the data's scale and the standard deviation of the teacher's
  // column (the dense task draws at its one sigma directly, as it always has).
  const float dense_sigma = static_cast<float>(1 / std::sqrt(double(s.input)));
  std::vector<float> x_scale(s.input, 1.0f), u_sigma(s.input, dense_sigma);
  std::vector<std::uint8_t> shifted(s.input, 1);  // the columns of U the shift rotates
  if (outlier) {
    const std::size_t n = s.outliers;
    if (n == 0 || n >= s.input || !(s.outlier_min > 0 && s.outlier_min <= s.outlier_max) || !(s.outlier_share > 0 && s.outlier_share < 1))
      throw Error("make_task: the outlier task needs 0 < outliers < input, 0 < outlier_min <= outlier_max, 0 < share < 1");
    const std::vector<std::size_t> order = detail::shuffled(s.input, seed_of("channels"));
    std::vector<std::pair<std::size_t, float>> chosen;
    for (std::size_t i = 0; i < n; ++i) {
      const double f = n == 1 ? 0 : static_cast<double>(i) / static_cast<double>(n - 1);
      chosen.emplace_back(order[i], static_cast<float>(s.outlier_min * std::pow(double(s.outlier_max) / s.outlier_min, f)));
    }
    std::sort(chosen.begin(), chosen.end());
    const float rest = static_cast<float>(std::sqrt((1 - s.outlier_share) / static_cast<double>(s.input - n)));
    const double out = std::sqrt(s.outlier_share / static_cast<double>(n));
    std::fill(u_sigma.begin(), u_sigma.end(), rest);
    std::fill(shifted.begin(), shifted.end(), 0);
    for (const auto& [j, scale] : chosen) {
      t.outlier_channels.push_back(j);
      t.outlier_scales.push_back(scale);
      x_scale[j] = scale;
      u_sigma[j] = static_cast<float>(out / scale);  // each outlier feature adds share / n to the variance
      shifted[j] = 1;
    }
  }
  auto teacher_u = [&](std::string_view tag) {
    Matrix u = gaussian(s.teacher_hidden, s.input, outlier ? 1.0f : dense_sigma, seed_of(tag));
    if (outlier) scale_columns(u, u_sigma);
    return u;
  };
  t.pretrain_teacher.u = teacher_u("teacher-u");
  t.pretrain_teacher.v = gaussian(s.classes, s.teacher_hidden, static_cast<float>(1 / std::sqrt(double(s.teacher_hidden))),
                                  seed_of("teacher-v"));
  const Matrix g = teacher_u("teacher-shift");
  t.shifted_teacher = t.pretrain_teacher;
  const double angle = outlier ? s.outlier_shift : s.shift;
  const float c = static_cast<float>(std::cos(angle)), sn = static_cast<float>(std::sin(angle));
  for (std::size_t i = 0; i < g.v.size(); ++i)
    if (shifted[i % s.input]) t.shifted_teacher.u.v[i] = c * t.pretrain_teacher.u.v[i] + sn * g.v[i];

  auto inputs = [&](std::size_t n, std::string_view tag) {
    Matrix x = gaussian(n, s.input, 1.0f, seed_of(tag));
    if (outlier) scale_columns(x, x_scale);
    return x;
  };
  auto make = [&](std::size_t n, const Teacher& teacher, std::string_view tag) {
    Dataset d;
    d.x = inputs(n, tag);
    d.labels = teacher.label(d.x);
    return d;
  };
  t.pretrain = make(s.pretrain_examples, t.pretrain_teacher, "pretrain-x");
  t.pretrain_test = make(s.test_examples, t.pretrain_teacher, "pretrain-test-x");
  t.finetune = make(s.finetune_examples, t.shifted_teacher, "finetune-x");
  t.validation = make(s.validation_examples, t.shifted_teacher, "validation-x");
  t.test = make(s.test_examples, t.shifted_teacher, "test-x");
  t.calibration = inputs(s.calibration_examples, "calibration-x");
  return t;
}

}  // namespace lowbit::training
