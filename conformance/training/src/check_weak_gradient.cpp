// 4. The weak-column gradient.
#include "validation_support.hpp"

namespace lowbit::training {

using namespace detail;

std::vector<ValidationResult> validate_weak_column_gradient(Mutant /*TODO mutants*/) {
  const std::size_t t = 24, oc = 16, ic = 64;
  const std::vector<std::int32_t> weak{2, 9, 30, 31, 50, 63};
  WeakColumnLinear layer(qeft_test_layer(oc, ic, weak, 51));
  const Matrix x = gaussian(t, ic, 1.0f, 52), g = gaussian(t, oc, 1e-6f, 53);
  layer.forward(x);
  const WeakGrads d = layer.backward(g);
  // The layer is y = x W^T with W = W4 + [0 | O]; dW = g^T x, and its weak (last k) columns are dO.
  const Matrix full = columns(matmul_nt(transpose(g), transpose(x)), ic - weak.size(), ic);
  return {bitwise("weak-gradient", "qeft dO", {{&d.oweight, &full}}, "max ulps of dO against (g^T x)[:, IC-k:]")};
}

}  // namespace lowbit::training
