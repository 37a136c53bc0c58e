// docs/examples/qeft.cpp: pick a layer's weak columns from calibration activations, store it in
// QEFT's buffers and multiply with them.
#include <cmath>
#include <cstdio>
#include <vector>

#include "lowbit/qeft.hpp"

int main() {
  const std::size_t oc = 64, ic = 256, tokens = 32, k = 8;
  std::vector<float> w(oc * ic), acts(tokens * ic), x(ic);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.05f * std::sin(1.7f * static_cast<float>(i));
  for (std::size_t i = 0; i < acts.size(); ++i) acts[i] = std::cos(0.9f * static_cast<float>(i)) * (i % ic % 37 == 0 ? 20 : 1);
  for (std::size_t j = 0; j < ic; ++j) x[j] = acts[j];

  // The k most sensitive input columns: activation energy weighted by the quantization error.
  std::vector<float> lambda = lowbit::qeft::sensitivity(tokens, ic, acts);
  lowbit::qeft::apply_frob_norm(lambda, lowbit::qeft::frob_error(oc, ic, w));
  const std::vector<std::int32_t> weak = lowbit::qeft::topk(lambda, k);

  lowbit::qeft::Options o;  // 4 bits, groups of 128, asymmetric, mse search with the repo's grid
  const lowbit::qeft::Packed p = lowbit::qeft::encode(oc, ic, w, weak, o);

  // The kernels take x in the stored column order (weak columns last).
  const std::vector<std::int32_t> perm = lowbit::qeft::permutation(weak, ic);
  std::vector<float> xs(ic), y(oc);
  for (std::size_t j = 0; j < ic; ++j) xs[j] = x[static_cast<std::size_t>(perm[j])];
  lowbit::qeft::matvec(p.view(), xs, y);

  // The same product from the effective weight, decoded in the original column order.
  const std::vector<float> wq = lowbit::qeft::decode(p, o);
  bool close = true;
  for (std::size_t r = 0; r < oc; ++r) {
    double dot = 0, norm = 0;
    for (std::size_t j = 0; j < ic; ++j) {
      dot += double{wq[r * ic + j]} * x[j];
      norm += std::fabs(double{wq[r * ic + j]} * x[j]);
    }
    close &= std::fabs(y[r] - dot) <= 1e-5 * norm;
  }
  std::printf("weak columns %d .. %d, y[0] = %g\n", weak.front(), weak.back(), y[0]);
  return close && p.k == k ? 0 : 1;
}
