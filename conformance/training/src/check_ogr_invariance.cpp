// 5. OGR invariance: a layer in the original column order and reordered with the weak columns last.
#include <algorithm>

#include "validation_support.hpp"

namespace lowbit::training {

namespace {

using namespace detail;

// Terms added in ascending order of value (as test_weak_select.cpp's toy decoder): a sum then
// depends only on the multiset of its terms (from +0, zeros of either sign change nothing), so
// permuting the reduction dimension changes no bit, while a wiring error pairs different terms.
Matrix sorted_matmul_nt(const Matrix& a, const Matrix& b) {
  Matrix c(a.rows, b.rows);
  std::vector<float> terms(a.cols);
  for (std::size_t i = 0; i < a.rows; ++i)
    for (std::size_t j = 0; j < b.rows; ++j) {
      for (std::size_t k = 0; k < a.cols; ++k) terms[k] = a(i, k) * b(j, k);
      std::sort(terms.begin(), terms.end());
      float s = 0.0f;
      for (float t : terms) s += t;
      c(i, j) = s;
    }
  return c;
}

Matrix sorted_mm(unsigned, const Matrix& a, const OperandFormat&, const Matrix& b, const OperandFormat&, std::uint64_t) {
  return sorted_matmul_nt(a, b);
}

struct WeakRun {
  Matrix y;
  WeakGrads d;
};

// WeakColumnLinear's dataflow with the weak inputs at `weak` (the layer's own order has them last),
// every sum order-independent.
WeakRun sorted_weak(const Matrix& w4, const Matrix& o, std::span<const std::int32_t> weak, const Matrix& x, const Matrix& g) {
  const Matrix xw = gather_columns(x, weak);
  WeakRun r{add_scaled(sorted_matmul_nt(x, w4), 1.0f, sorted_matmul_nt(xw, o)),
            {sorted_matmul_nt(g, transpose(w4)), sorted_matmul_nt(transpose(g), transpose(xw))}};
  const Matrix gw = sorted_matmul_nt(g, transpose(o));
  for (std::size_t t = 0; t < g.rows; ++t)
    for (std::size_t j = 0; j < weak.size(); ++j) r.d.x(t, static_cast<std::size_t>(weak[j])) += gw(t, j);
  return r;
}

}  // namespace

std::vector<ValidationResult> validate_ogr_invariance(Mutant /*TODO mutants*/) {
  const std::vector<std::int32_t> weak{3, 17, 18, 40, 62};
  const std::size_t ic = 64;
  const std::vector<std::int32_t> perm = ref::weak_permutation(weak, ic), back = inverse(perm);
  std::vector<ValidationResult> out;

  // LoRA: W, A and x permuted along IC; dx and dA come back permuted, y and dB unchanged.
  const LoraCase c = lora_case(6, ic, 8, 4, 71);
  const LoraConfig f32 = lora_config("f32");
  const float s = c.alpha / static_cast<float>(c.a.rows);  // as LoraLinear's scale
  const LoraRun orig = lora_dataflow(c, c.w, f32, s, 0, sorted_mm);
  LoraCase p = c;
  p.x = gather_columns(c.x, perm);
  p.w = gather_columns(c.w, perm);
  p.a = gather_columns(c.a, perm);
  const LoraRun moved = lora_dataflow(p, p.w, f32, s, 0, sorted_mm);
  const Matrix dx = gather_columns(orig.d.x, perm), da = gather_columns(orig.d.a, perm);
  out.push_back(bitwise("ogr-invariance", "lora", {{&moved.y, &orig.y}, {&moved.d.x, &dx}, {&moved.d.a, &da}, {&moved.d.b, &orig.d.b}},
                        "max ulps of y, dx, dA, dB: original order vs weak columns last"));

  // QEFT: its layout is the reordered one (weak columns last); the original layer reads oweight's
  // inputs where the packer says they are (outlieridx).
  const qeft::Packed q = qeft_test_layer(8, ic, weak, 72);
  Matrix w4(q.oc, ic);
  w4.v = ref::qeft_dequantize(q, qeft::Path::nowc);
  const Matrix o = WeakColumnLinear(q).oweight();
  const Matrix x = gaussian(6, ic, 1.0f, 73), g = gaussian(6, q.oc, 1e-6f, 74);
  std::vector<std::int32_t> tail(weak.size());
  for (std::size_t j = 0; j < tail.size(); ++j) tail[j] = static_cast<std::int32_t>(ic - weak.size() + j);
  const WeakRun layout = sorted_weak(w4, o, tail, gather_columns(x, perm), g);
  const WeakRun original = sorted_weak(gather_columns(w4, back), o, q.outlieridx, x, g);
  const Matrix wdx = gather_columns(original.d.x, perm);
  out.push_back(bitwise("ogr-invariance", "qeft weak-column",
                        {{&layout.y, &original.y}, {&layout.d.x, &wdx}, {&layout.d.oweight, &original.d.oweight}},
                        "max ulps of y, dx, dO: original order vs QEFT's layout"));
  return out;
}

}  // namespace lowbit::training
