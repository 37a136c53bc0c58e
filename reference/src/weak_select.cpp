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

namespace {

// A [rows x cols] matrix with its rows and/or columns permuted: out[i][j] = in[rp[i]][cp[j]]; an
// empty permutation is the identity.
std::vector<float> permuted(const std::vector<float>& in, std::size_t rows, std::size_t cols, const char* what,
                            std::span<const std::int32_t> rp, std::span<const std::int32_t> cp) {
  require(in.size() == rows * cols, std::string("reorder_model: ") + what + " holds " + std::to_string(in.size()) +
                                        " values, expected " + std::to_string(rows) + " x " + std::to_string(cols));
  std::vector<float> out(in.size());
  for (std::size_t i = 0; i < rows; ++i) {
    const std::size_t r = rp.empty() ? i : static_cast<std::size_t>(rp[i]);
    for (std::size_t j = 0; j < cols; ++j) out[i * cols + j] = in[r * cols + (cp.empty() ? j : static_cast<std::size_t>(cp[j]))];
  }
  return out;
}

// weak_permutation with the checks of a plan's index list: ascending, distinct, below n.
std::vector<std::int32_t> plan_permutation(std::span<const std::int32_t> weak, std::size_t n, const std::string& what) {
  require(weak.size() < n, "reorder_model: " + what + " has " + std::to_string(weak.size()) + " weak columns of " +
                               std::to_string(n));
  for (std::size_t i = 1; i < weak.size(); ++i)
    require(weak[i - 1] < weak[i], "reorder_model: " + what + " is not ascending and distinct");
  return weak_permutation(weak, n);  // checks the range
}

}  // namespace

qeft::DecoderModel reorder_model(const qeft::DecoderModel& m, const qeft::WeakPlan& plan) {
  require(plan.o_weak.size() == m.blocks.size() && plan.down_weak.size() == m.blocks.size(),
          "reorder_model: the plan does not have one o_proj and one down_proj index per block");
  const std::vector<std::int32_t> pg = plan_permutation(plan.global, m.d, "the global index");
  const std::size_t d = m.d, a = m.a, ff = m.ff;
  constexpr std::span<const std::int32_t> id{};
  qeft::DecoderModel r = m;
  r.embedding = permuted(m.embedding, m.vocab, d, "embedding", id, pg);
  r.final_norm = permuted(m.final_norm, 1, d, "final_norm", id, pg);
  r.head = permuted(m.head, m.vocab, d, "head", id, pg);
  for (std::size_t b = 0; b < m.blocks.size(); ++b) {
    const qeft::DecoderBlock& in = m.blocks[b];
    qeft::DecoderBlock& out = r.blocks[b];
    require(in.o_gather.empty(), "reorder_model: block " + std::to_string(b) + " is already reordered");
    const std::string block = "block " + std::to_string(b) + "'s ";
    const std::vector<std::int32_t> po = plan_permutation(plan.o_weak[b], a, block + "o_proj index");
    const std::vector<std::int32_t> pd = plan_permutation(plan.down_weak[b], ff, block + "down_proj index");
    out.attn_norm = permuted(in.attn_norm, 1, d, "attn_norm", id, pg);
    out.mlp_norm = permuted(in.mlp_norm, 1, d, "mlp_norm", id, pg);
    out.q = permuted(in.q, a, d, "q", id, pg);
    out.k = permuted(in.k, a, d, "k", id, pg);
    out.v = permuted(in.v, a, d, "v", id, pg);
    out.o = permuted(in.o, d, a, "o", pg, po);
    out.o_gather = po;
    out.gate = permuted(in.gate, ff, d, "gate", pd, pg);
    out.up = permuted(in.up, ff, d, "up", pd, pg);
    out.down = permuted(in.down, d, ff, "down", pg, pd);
  }
  return r;
}

}  // namespace lowbit::ref
