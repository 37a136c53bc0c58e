// 5. OGR invariance: the real layers in the original column order and reordered with the weak
// columns last compute the same function.
#include <cmath>
#include <utility>

#include "validation_support.hpp"

namespace lowbit::training {

namespace {

using namespace detail;

// Integers in [-3, 3] times 2^e. On such data (the exponents below) every product, partial sum and
// scaled value the layers form is an integer multiple of 2^-11 below 2^9 in magnitude (the finest:
// the LoRA layer's dx; the largest: its y, at most 396), so it needs at most 20 bits: every fp32
// rounding is exact, and no sum depends on the order of its terms. The layers sum in index order, so
// permuting the reduction dimension leaves every bit unchanged, while a wiring error pairs different
// terms and changes the values.
Matrix grid(std::size_t rows, std::size_t cols, int e, std::uint64_t seed) {
  Matrix m(rows, cols);
  for (float& v : m.v) v = std::ldexp(static_cast<float>(static_cast<int>(splitmix64(seed) % 7) - 3), e);
  return m;
}

// A weight on minmax's 4-bit grid, (c - 8) / 16 for codes c in 0..15, with c = 0 and 15 in every row
// (columns 0 and 1, which are not weak): each row's group gets scale 2^-4 and zero point 8, so the
// quantization is lossless, W4 holds W on the non-weak columns and 0 (the zero code) on the weak
// ones, and O holds W on the weak ones.
Matrix qeft_grid(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  Matrix m(rows, cols);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < cols; ++j) {
      const int c = j == 0 ? 0 : j == 1 ? 15 : static_cast<int>(splitmix64(seed) % 16);
      m(r, j) = std::ldexp(static_cast<float>(c - 8), -4);
    }
  return m;
}

}  // namespace

std::vector<ValidationResult> validate_ogr_invariance(Mutant m) {
  const std::vector<std::int32_t> weak{3, 17, 18, 40, 62};
  const std::size_t ic = 64, t = 6, oc = 8, first = ic - weak.size();
  const std::vector<std::int32_t> perm = ref::weak_permutation(weak, ic), back = inverse(perm);
  // The permutation the inputs x are reordered by: perm, or for the negative control perm with the
  // last non-weak and the first weak entry swapped (a runtime reordering that disagrees with the
  // layout's).
  std::vector<std::int32_t> x_perm = perm;
  if (m == Mutant::wrong_weak_permutation) std::swap(x_perm[first - 1], x_perm[first]);
  const LoraConfig f32 = lora_config("f32");
  std::vector<ValidationResult> out;

  // LoRA: W, A and x permuted along IC give the same y and dB, and dx and dA permuted.
  const LoraCase c{grid(t, ic, 0, 71), grid(oc, ic, -3, 72), grid(4, ic, -3, 73), grid(oc, 4, -2, 74), grid(t, oc, -5, 75), 6.0f};
  LoraLinear orig(c.w, c.a, c.b, c.alpha, f32), moved(gather_columns(c.w, perm), gather_columns(c.a, perm), c.b, c.alpha, f32);
  const Matrix y = orig.forward(c.x), moved_y = moved.forward(gather_columns(c.x, x_perm));
  const LoraGrads d = orig.backward(c.g), moved_d = moved.backward(c.g);
  const Matrix dx = gather_columns(d.x, perm), da = gather_columns(d.a, perm);
  out.push_back(bitwise("ogr-invariance", "lora", {{&moved_y, &y}, {&moved_d.x, &dx}, {&moved_d.a, &da}, {&moved_d.b, &d.b}},
                        "max ulps of y, dx, dA, dB of LoraLinear f32: original order vs weak columns last"));

  // QEFT: WeakColumnLinear holds the reordered layout (weak columns last) and takes x reordered;
  // the original-order model is a dense fp32 layer (y = x W^T, dx = g W, dW = g^T x) whose W is W4
  // put back in the original order plus O on the columns outlieridx names.
  const qeft::Packed q = qeft_layer(qeft_grid(oc, ic, 76), weak);
  WeakColumnLinear layer(q);
  const WeakModel model = weak_model(q);
  Matrix w = gather_columns(model.w4, back);
  for (std::size_t r = 0; r < oc; ++r)
    for (std::size_t j = 0; j < weak.size(); ++j) w(r, static_cast<std::size_t>(q.outlieridx[j])) += model.o(r, j);
  const Matrix x = grid(t, ic, 0, 77), g = grid(t, oc, -5, 78);
  const Matrix layer_y = layer.forward(gather_columns(x, x_perm));
  const WeakGrads layer_d = layer.backward(g);
  const Matrix dense_y = matmul_nt(x, w), dense_dx = gather_columns(matmul_nt(g, transpose(w)), perm),
               dense_do = gather_columns(matmul_nt(transpose(g), transpose(x)), q.outlieridx);
  out.push_back(bitwise("ogr-invariance", "qeft weak-column",
                        {{&layer_y, &dense_y}, {&layer_d.x, &dense_dx}, {&layer_d.oweight, &dense_do}},
                        "max ulps of y, dx, dO of WeakColumnLinear (layout order) vs a dense fp32 layer (original order)"));
  return out;
}

}  // namespace lowbit::training
