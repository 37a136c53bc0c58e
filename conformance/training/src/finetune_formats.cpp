// GSE's default rounding and group size measured on the fine-tuning tasks' operands
// (measure_gse_formats, lowbit/training/finetune.hpp).
#include <cmath>
#include <vector>

#include "finetune_support.hpp"
#include "lowbit/gse.hpp"
#include "lowbit/training/finetune.hpp"

namespace lowbit::training {
namespace {

// a quantized along its rows: a row holds whole groups (cols % group == 0), so the flat stream's
// groups are the rows' groups.
Matrix quantized(const Matrix& a, int bits, int group, Rounding rounding) {
  gse::Options o;
  o.format = gse_format(OperandFormat::gse(bits), a);
  o.format.group = group;
  o.rounding = rounding;
  Matrix q(a.rows, a.cols);
  gse::quantize(a.v, q.v, o);
  return q;
}

struct ErrorGain {
  double error = 0, gain = 0;
};

ErrorGain compare(const Matrix& q, const Matrix& exact) {
  double d = 0, n = 0, dot = 0;
  for (std::size_t i = 0; i < exact.v.size(); ++i) {
    const double e = exact.v[i], v = q.v[i];
    d += (v - e) * (v - e);
    n += e * e;
    dot += v * e;
  }
  return {n > 0 ? std::sqrt(d / n) : 0, n > 0 ? dot / n : 1};
}

}  // namespace

std::vector<FormatError> measure_gse_formats(const FinetuneSettings& s, const Task& t, const Mlp& pretrained) {
  const std::vector<Matrix> x = detail::layer_inputs(pretrained, t.calibration);
  std::vector<FormatError> out;
  for (std::size_t l = 0; l < 2 && l < pretrained.w.size(); ++l) {
    const Matrix& w = pretrained.w[l];
    const Matrix exact = matmul_nt_fast(x[l], w);
    for (const int bits : s.sweep_bits)
      for (const int group : {16, 32, 64, 128}) {
        if (w.cols % static_cast<std::size_t>(group) != 0) continue;
        FormatError f{l, bits, group, gse::Format{.bits = bits, .group = group}.bits_per_value()};
        const auto [rne_e, rne_g] = compare(matmul_nt_fast(quantized(x[l], bits, group, Rounding::rne),
                                                           quantized(w, bits, group, Rounding::rne)), exact);
        const auto [rtz_e, rtz_g] = compare(matmul_nt_fast(quantized(x[l], bits, group, Rounding::rtz),
                                                           quantized(w, bits, group, Rounding::rtz)), exact);
        f.rne_error = rne_e;
        f.rne_gain = rne_g;
        f.rtz_error = rtz_e;
        f.rtz_gain = rtz_g;
        out.push_back(f);
      }
  }
  return out;
}

}  // namespace lowbit::training
