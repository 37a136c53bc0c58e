// Which columns are weak: OWQ/QEFT's sensitivity of each input column from calibration
// activations, the per-layer top-k, QEFT's global index (OGR) over the layers that read the
// residual stream, and the offline reordering of a decoder model by that index. The semantics
// follow xvyaward/qeft (extract_outidx.py, recon.py's add_batch / hessian_sorting, reorder.py);
// where the peer's order of floating-point operations is not reproducible (a CUDA matmul, a CUDA
// mean) lowbit fixes one and says so here. Such differences move a value by a few ulps and can
// change a selection only between near-ties.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lowbit/error.hpp"
#include "lowbit/formats/weak.hpp"

namespace lowbit::ref {

// ---- sensitivity -------------------------------------------------------------------------------------

// lambda_j = diag(H)_j with H = (2/N) sum_t x_t^T x_t over the N = `tokens` rows of `activations`
// (tokens x ic, row-major): lambda_j = float((2 * S_j) / N) where S_j = sum_t x_tj^2 is
// accumulated in binary64 in token order (every square of a float is exact there) and the
// quotient is computed in binary64. The peer accumulates H in fp32 batch by batch (H *= n/(n+b);
// H += (sqrt(2/n) X)^T (sqrt(2/n) X)), whose rounding this does not reproduce.
// The factor 2/N is one positive constant per layer: it never changes the layer's top-k, and OGR
// divides each layer by its own mean, so it cancels there as well (up to rounding).
// Throws lowbit::Error for no tokens, a size that is not tokens x ic, an activation that
// is not finite, or a lambda that overflows fp32.
std::vector<float> weak_sensitivity(std::span<const float> activations, std::size_t tokens, std::size_t ic);

// The "frob norm" factor (the peer's default unless --no_frob_norm): for each input column j,
// sum_o (w[o][j] - RTN(w)[o][j])^2, RTN being the asymmetric per-channel quantizer over the whole
// row (weak_find_params on all ic columns of the row, grid 30 for mse, as extract_outidx.py's
// find_params(W, weight=True, num=30); minmax has no grid) and weak_fake_quant. Each error
// e = w - RTN(w) is one fp32 subtraction, as torch's; e^2 is summed in binary64 over the rows in
// ascending order and rounded once to fp32 (the peer's CUDA column sum has its own order).
// w: oc x ic row-major. Throws lowbit::Error for a bad size, bits outside 2..8, or a
// weight that is not finite.
std::vector<float> weak_frob_error(std::span<const float> w, std::size_t oc, std::size_t ic, int bits, weak::Tuning tuning);

// lambda_j *= frob_j in fp32 (hessian_sorting's `H_diag *= frob_norm`). Sizes must match.
void weak_apply_frob_norm(std::span<float> lambda, std::span<const float> frob);

// ---- selection ---------------------------------------------------------------------------------------

// The indices of the k largest values, ascending (torch.sort(argsort(descending)[:k])). Equal
// values are taken lowest index first: torch's argsort and topk leave the order of ties
// unspecified, so the peer may pick any of them. Throws lowbit::Error for k >= size (a
// layer keeps at least one quantized column, as sparse_to_dense_ids asserts) or a NaN.
std::vector<std::int32_t> weak_topk(std::span<const float> lambda, std::size_t k);

// The global scores s (length d) over `lambdas`, the sensitivities of the layers that read the
// residual stream, in the order the peer visits them (per block: q, k, v, up, gate). s starts at
// +0; mean(lambda_l) is torch's fp32 CPU mean (torch_mean_f32); every lambda_l[j] / mean is one
// fp32 division and is added to s[j] in fp32, layer after layer. `k` is used by per_layer_topk
// only. Throws lowbit::Error for no layers, layers of different lengths, a layer whose
// mean is not a positive finite number (all zero: 0/0 in the peer), or per_layer_topk with k >= d.
std::vector<float> ogr_scores(std::span<const std::vector<float>> lambdas, std::size_t k, qeft::OgrVariant v);
// weak_topk(ogr_scores(lambdas, k, v), k): the global weak columns, ascending.
std::vector<std::int32_t> ogr_global(std::span<const std::vector<float>> lambdas, std::size_t k, qeft::OgrVariant v);

// ---- reordering a decoder ----------------------------------------------------------------------------

// The model with every weak column last, computing the same function. With P = weak_permutation
// (new index j = old index P[j]) of plan.global over d, of o_weak[b] over a, of down_weak[b]
// over ff (make_reorder in reorder.py):
//   P_global: embedding, head and q/k/v/gate/up columns; attn_norm, mlp_norm and final_norm
//             entries; o and down rows (the residual stream is permuted throughout).
//   P_down:   down columns and gate/up rows (reorder_in_mlp: offline, the MLP is elementwise).
//   P_o:      o columns, and o_gather = P_o: the attention output is gathered at run time,
//             because its per-head layout cannot be permuted offline (the W_O exception).
// Throws lowbit::Error for sizes that do not match the model's dimensions, a plan whose
// block count differs from the model's, bad indices, or a block whose o_gather is already set.
qeft::DecoderModel reorder_model(const qeft::DecoderModel& m, const qeft::WeakPlan& plan);

// The rules above, tensor by tensor: one table that reorder_model and the whole-checkpoint QEFT
// target (io/convert.hpp) both apply, so that "which tensor is permuted how" exists once.
enum class ReorderRole : std::uint8_t { embedding, head, norm, q, k, v, o, gate, up, down };  // norm: any of the three
enum class ReorderIndex : std::uint8_t { none, global, o, down };  // which permutation: P_global, P_o, P_down
struct ReorderRule {
  ReorderIndex rows, cols;  // a norm is one row of d entries
  bool gather;              // the columns are gathered at run time (o_proj), not permuted offline in a plain layer
};
ReorderRule reorder_rule(ReorderRole r);

// out[i][j] = in[rp[i]][cp[j]] for a [rows x cols] matrix (an empty permutation is the identity);
// `what` names it in the lowbit::Error for a size that is not rows x cols or a permutation whose
// length differs from rows / cols.
template <class T>
std::vector<T> permute_matrix(std::span<const T> in, std::size_t rows, std::size_t cols, std::span<const std::int32_t> rp,
                              std::span<const std::int32_t> cp, const std::string& what);
extern template std::vector<float> permute_matrix(std::span<const float>, std::size_t, std::size_t, std::span<const std::int32_t>,
                                                  std::span<const std::int32_t>, const std::string&);
extern template std::vector<std::uint16_t> permute_matrix(std::span<const std::uint16_t>, std::size_t, std::size_t,
                                                          std::span<const std::int32_t>, std::span<const std::int32_t>,
                                                          const std::string&);
extern template std::vector<std::uint32_t> permute_matrix(std::span<const std::uint32_t>, std::size_t, std::size_t,
                                                          std::span<const std::int32_t>, std::span<const std::int32_t>,
                                                          const std::string&);

}  // namespace lowbit::ref
