#include "lowbit/reference/weak_select.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "lowbit/reference/torch_ops.hpp"
#include "lowbit/reference/weak.hpp"
#include "require.hpp"

namespace lowbit::ref {
namespace {

bool all_finite(std::span<const float> x) {
  return std::all_of(x.begin(), x.end(), [](float v) { return std::isfinite(v); });
}

}  // namespace

std::vector<float> weak_sensitivity(std::span<const float> activations, std::size_t tokens, std::size_t ic) {
  require(tokens > 0, "weak_sensitivity: no tokens");
  require(activations.size() == tokens * ic, "weak_sensitivity: the activations hold " +
                                                 std::to_string(activations.size()) + " values, not tokens x IC");
  require(all_finite(activations), "weak_sensitivity: an activation is not finite");
  std::vector<double> s(ic, 0.0);
  for (std::size_t t = 0; t < tokens; ++t)
    for (std::size_t j = 0; j < ic; ++j) {
      const double x = activations[t * ic + j];
      s[j] += x * x;
    }
  std::vector<float> lambda(ic);
  for (std::size_t j = 0; j < ic; ++j) {
    lambda[j] = static_cast<float>(2.0 * s[j] / static_cast<double>(tokens));
    require(std::isfinite(lambda[j]), "weak_sensitivity: column " + std::to_string(j) + " overflows fp32");
  }
  return lambda;
}

std::vector<float> weak_frob_error(std::span<const float> w, std::size_t oc, std::size_t ic, int bits, weak::Tuning tuning) {
  require(w.size() == oc * ic && ic > 0, "weak_frob_error: the weight holds " + std::to_string(w.size()) +
                                             " values, not OC x IC");
  require(bits >= 2 && bits <= 8, "weak_frob_error: bits must be 2 to 8");
  require(all_finite(w), "weak_frob_error: a weight is not finite");
  weak::QuantOptions o;
  o.bits = bits;
  o.group = 0;
  o.tuning = tuning;
  o.grid = 30;
  std::vector<double> s(ic, 0.0);
  for (std::size_t r = 0; r < oc; ++r) {
    const std::span<const float> row = w.subspan(r * ic, ic);
    const WeakGroupParams p = weak_find_params(row, o);
    for (std::size_t j = 0; j < ic; ++j) {
      const double e = row[j] - weak_fake_quant(row[j], p, o);
      s[j] += e * e;
    }
  }
  return {s.begin(), s.end()};  // binary64 -> fp32: the one rounding of each column sum
}

void weak_apply_frob_norm(std::span<float> lambda, std::span<const float> frob) {
  require(lambda.size() == frob.size(), "weak_apply_frob_norm: sizes differ");
  for (std::size_t j = 0; j < lambda.size(); ++j) lambda[j] *= frob[j];
}

std::vector<std::int32_t> weak_topk(std::span<const float> lambda, std::size_t k) {
  require(k < lambda.size(), "weak_topk: k must be smaller than the number of columns");
  require(std::none_of(lambda.begin(), lambda.end(), [](float v) { return std::isnan(v); }), "weak_topk: a NaN sensitivity");
  std::vector<std::int32_t> idx(lambda.size());
  std::iota(idx.begin(), idx.end(), 0);
  const auto before = [&](std::int32_t a, std::int32_t b) {
    const float x = lambda[static_cast<std::size_t>(a)], y = lambda[static_cast<std::size_t>(b)];
    return x > y || (x == y && a < b);
  };
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(), before);
  idx.resize(k);
  std::sort(idx.begin(), idx.end());
  return idx;
}

std::vector<float> ogr_scores(std::span<const std::vector<float>> lambdas, std::size_t k, qeft::OgrVariant v) {
  require(!lambdas.empty(), "ogr_scores: no layers");
  const std::size_t d = lambdas[0].size();
  std::vector<float> s(d, 0.0f);
  for (std::size_t l = 0; l < lambdas.size(); ++l) {
    const std::vector<float>& lambda = lambdas[l];
    require(lambda.size() == d, "ogr_scores: layer " + std::to_string(l) + " has " + std::to_string(lambda.size()) +
                                    " columns, layer 0 has " + std::to_string(d));
    const float mean = torch_mean_f32(lambda);
    require(std::isfinite(mean) && mean > 0, "ogr_scores: the mean sensitivity of layer " + std::to_string(l) +
                                                 " is not a positive finite number");
    if (v == qeft::OgrVariant::qeft) {
      for (std::size_t j = 0; j < d; ++j) s[j] += lambda[j] / mean;
    } else {
      for (std::int32_t j : weak_topk(lambda, k)) s[static_cast<std::size_t>(j)] += lambda[static_cast<std::size_t>(j)] / mean;
    }
  }
  return s;
}

std::vector<std::int32_t> ogr_global(std::span<const std::vector<float>> lambdas, std::size_t k, qeft::OgrVariant v) {
  return weak_topk(ogr_scores(lambdas, k, v), k);
}

// ---- reordering ---------------------------------------------------------------------------------------

ReorderRule reorder_rule(ReorderRole r) {
  using I = ReorderIndex;
  switch (r) {
    case ReorderRole::embedding:
    case ReorderRole::head:
    case ReorderRole::norm:
    case ReorderRole::q:
    case ReorderRole::k:
    case ReorderRole::v: return {I::none, I::global, false};  // they read the residual stream
    case ReorderRole::o: return {I::global, I::o, true};       // writes it; its input gathered at run time
    case ReorderRole::gate:
    case ReorderRole::up: return {I::down, I::global, false};  // reads it; writes the MLP's inner dimension
    case ReorderRole::down: return {I::global, I::down, false};
  }
  throw Error("reorder_rule: unknown role", Errc::internal);
}

template <class T>
std::vector<T> permute_matrix(std::span<const T> in, std::size_t rows, std::size_t cols, std::span<const std::int32_t> rp,
                              std::span<const std::int32_t> cp, const std::string& what) {
  require(in.size() == rows * cols, what + " holds " + std::to_string(in.size()) + " values, expected " + std::to_string(rows) +
                                        " x " + std::to_string(cols));
  require((rp.empty() || rp.size() == rows) && (cp.empty() || cp.size() == cols),
          what + " [" + std::to_string(rows) + " x " + std::to_string(cols) + "] does not fit its permutations (" +
              std::to_string(rp.size()) + " rows, " + std::to_string(cp.size()) + " columns)");
  std::vector<T> out(in.size());
  for (std::size_t i = 0; i < rows; ++i) {
    const std::size_t r = rp.empty() ? i : static_cast<std::size_t>(rp[i]);
    for (std::size_t j = 0; j < cols; ++j) out[i * cols + j] = in[r * cols + (cp.empty() ? j : static_cast<std::size_t>(cp[j]))];
  }
  return out;
}
template std::vector<float> permute_matrix(std::span<const float>, std::size_t, std::size_t, std::span<const std::int32_t>,
                                           std::span<const std::int32_t>, const std::string&);
template std::vector<std::uint16_t> permute_matrix(std::span<const std::uint16_t>, std::size_t, std::size_t,
                                                   std::span<const std::int32_t>, std::span<const std::int32_t>, const std::string&);
template std::vector<std::uint32_t> permute_matrix(std::span<const std::uint32_t>, std::size_t, std::size_t,
                                                   std::span<const std::int32_t>, std::span<const std::int32_t>, const std::string&);

namespace {

// weak_permutation with the checks of a plan's index list: ascending, distinct, below n.
std::vector<std::int32_t> plan_permutation(std::span<const std::int32_t> weak, std::size_t n, const std::string& what) {
  require(weak.size() < n, "reorder_model: " + what + " has " + std::to_string(weak.size()) + " weak columns of " +
                               std::to_string(n));
  for (std::size_t i = 1; i < weak.size(); ++i)
    require(weak[i - 1] < weak[i], "reorder_model: " + what + " is not ascending and distinct");
  return weak_permutation(weak, n);  // checks the range
}

// The permutations of one block, applied to a tensor by its role's rule (rows x cols before).
struct BlockPermutations {
  std::span<const std::int32_t> global, o, down;
  std::span<const std::int32_t> of(ReorderIndex i) const {
    return i == ReorderIndex::global ? global : i == ReorderIndex::o ? o : i == ReorderIndex::down ? down : std::span<const std::int32_t>{};
  }
  std::vector<float> apply(ReorderRole role, const std::vector<float>& in, std::size_t rows, std::size_t cols, const char* what) const {
    const ReorderRule r = reorder_rule(role);
    return permute_matrix<float>(in, rows, cols, of(r.rows), of(r.cols), std::string("reorder_model: ") + what);
  }
};

}  // namespace

qeft::DecoderModel reorder_model(const qeft::DecoderModel& m, const qeft::WeakPlan& plan) {
  require(plan.o_weak.size() == m.blocks.size() && plan.down_weak.size() == m.blocks.size(),
          "reorder_model: the plan does not have one o_proj and one down_proj index per block");
  const std::vector<std::int32_t> pg = plan_permutation(plan.global, m.d, "the global index");
  const std::size_t d = m.d, a = m.a, ff = m.ff;
  using R = ReorderRole;
  const BlockPermutations top{pg, {}, {}};
  qeft::DecoderModel r = m;
  r.embedding = top.apply(R::embedding, m.embedding, m.vocab, d, "embedding");
  r.final_norm = top.apply(R::norm, m.final_norm, 1, d, "final_norm");
  r.head = top.apply(R::head, m.head, m.vocab, d, "head");
  for (std::size_t b = 0; b < m.blocks.size(); ++b) {
    const qeft::DecoderBlock& in = m.blocks[b];
    qeft::DecoderBlock& out = r.blocks[b];
    require(in.o_gather.empty(), "reorder_model: block " + std::to_string(b) + " is already reordered");
    const std::string block = "block " + std::to_string(b) + "'s ";
    const std::vector<std::int32_t> po = plan_permutation(plan.o_weak[b], a, block + "o_proj index");
    const std::vector<std::int32_t> pd = plan_permutation(plan.down_weak[b], ff, block + "down_proj index");
    const BlockPermutations p{pg, po, pd};
    out.attn_norm = p.apply(R::norm, in.attn_norm, 1, d, "attn_norm");
    out.mlp_norm = p.apply(R::norm, in.mlp_norm, 1, d, "mlp_norm");
    out.q = p.apply(R::q, in.q, a, d, "q");
    out.k = p.apply(R::k, in.k, a, d, "k");
    out.v = p.apply(R::v, in.v, a, d, "v");
    out.o = p.apply(R::o, in.o, d, a, "o");
    if (reorder_rule(R::o).gather) out.o_gather = po;
    out.gate = p.apply(R::gate, in.gate, ff, d, "gate");
    out.up = p.apply(R::up, in.up, ff, d, "up");
    out.down = p.apply(R::down, in.down, d, ff, "down");
  }
  return r;
}

}  // namespace lowbit::ref
