// Weak-column selection (reference/weak_select.hpp): the sensitivity, the frob-norm factor, the
// top-k, QEFT's global index in both variants, and the offline reordering of a toy decoder, which
// must leave its logits unchanged bit for bit while dropping any one rule changes them.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "lowbit/reference/weak.hpp"
#include "lowbit/reference/weak_select.hpp"
#include "testing/decoder_forward.hpp"

namespace ref = lowbit::ref;
namespace qeft = lowbit::qeft;
using lowbit::weak::QuantOptions;
using lowbit::weak::Tuning;
using Idx = std::vector<std::int32_t>;
using lowbit::testing::Capture;
using lowbit::testing::forward;
using lowbit::testing::permute;

namespace {

// ---- sensitivity, frob norm, top-k, OGR -----------------------------------------------------------

TEST(WeakSelect, SensitivityIsTwoOverNTimesTheSumOfSquares) {
  const std::vector<float> x = {1, 2, 0,  //
                                3, -1, 0.5f,
                                0, 0, 0,
                                1, 1, 1};
  EXPECT_EQ(ref::weak_sensitivity(x, 4, 3), (std::vector<float>{5.5f, 3.0f, 0.625f}));  // {11, 6, 1.25} * 2/4
}

TEST(WeakSelect, SensitivityAccumulatesInBinary64) {
  // 1 + 2^-24 + 2^-24 is 1 in fp32 (each addition ties to even) but 1 + 2^-23 in binary64.
  const float t = std::ldexp(1.0f, -12);
  EXPECT_EQ(ref::weak_sensitivity(std::vector<float>{1, t, t, 0}, 4, 1)[0], 0.5f + std::ldexp(1.0f, -24));
}

TEST(WeakSelect, SensitivityRejectsBadInput) {
  EXPECT_THROW(ref::weak_sensitivity(std::vector<float>{}, 0, 3), lowbit::Error);
  EXPECT_THROW(ref::weak_sensitivity(std::vector<float>(5), 2, 3), lowbit::Error);
  EXPECT_THROW(ref::weak_sensitivity(std::vector<float>{1, NAN}, 1, 2), lowbit::Error);
  EXPECT_THROW(ref::weak_sensitivity(std::vector<float>{3e38f, 3e38f}, 1, 2), lowbit::Error);  // lambda = 2 x^2
  try {
    ref::weak_sensitivity(std::vector<float>(5), 2, 3);
    ADD_FAILURE() << "no error";
  } catch (const lowbit::Error& e) {
    EXPECT_EQ(e.code(), lowbit::Errc::invalid);
  }
}

// Independent min-max RTN of one row (Quantizer.find_params with mse=False, then quantize).
std::vector<float> rtn_minmax_row(std::span<const float> x, int bits) {
  const float maxq = static_cast<float>((1 << bits) - 1);
  float lo = std::min(*std::min_element(x.begin(), x.end()), 0.0f), hi = std::max(*std::max_element(x.begin(), x.end()), 0.0f);
  if (lo == 0 && hi == 0) lo = -1, hi = 1;
  const float s = (hi - lo) / maxq, z = std::nearbyint(-lo / s);
  std::vector<float> q;
  for (float v : x) q.push_back(s * (std::clamp(std::nearbyint(v / s) + z, 0.0f, maxq) - z));
  return q;
}

// sum over rows of (w - q)^2 with the row quantizer `quant`, in long double.
std::vector<float> direct_frob(const std::vector<float>& w, std::size_t oc, std::size_t ic,
                               const std::function<std::vector<float>(std::span<const float>)>& quant) {
  std::vector<long double> s(ic, 0);
  for (std::size_t r = 0; r < oc; ++r) {
    const std::span<const float> row(w.data() + r * ic, ic);
    const std::vector<float> q = quant(row);
    for (std::size_t j = 0; j < ic; ++j) {
      const float e = row[j] - q[j];
      s[j] += static_cast<long double>(e) * e;
    }
  }
  return {s.begin(), s.end()};
}

std::vector<float> random_floats(std::mt19937& g, std::size_t n, float scale = 1.0f) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(g);
  return v;
}

TEST(WeakSelect, FrobErrorIsTheColumnSumOfTheSquaredRowRtnError) {
  std::mt19937 g(7);
  const std::size_t oc = 6, ic = 40;
  const std::vector<float> w = random_floats(g, oc * ic);
  for (int bits : {2, 3, 4}) {
    EXPECT_EQ(ref::weak_frob_error(w, oc, ic, bits, lowbit::weak::Tuning::minmax),
              direct_frob(w, oc, ic, [&](std::span<const float> row) { return rtn_minmax_row(row, bits); }))
        << bits << " bits, minmax";
    lowbit::weak::QuantOptions o;  // extract_outidx.py: the whole row, clip grid num=30
    o.bits = bits;
    o.group = 0;
    o.grid = 30;
    const auto mse_row = [&](std::span<const float> row) {
      const ref::WeakGroupParams p = ref::weak_find_params(row, o);
      std::vector<float> q;
      for (float v : row) q.push_back(ref::weak_fake_quant(v, p, o));
      return q;
    };
    EXPECT_EQ(ref::weak_frob_error(w, oc, ic, bits, lowbit::weak::Tuning::mse), direct_frob(w, oc, ic, mse_row)) << bits << " bits, mse";
  }
  EXPECT_THROW(ref::weak_frob_error(w, oc, ic + 1, 4, lowbit::weak::Tuning::mse), lowbit::Error);
  EXPECT_THROW(ref::weak_frob_error(w, oc, ic, 1, lowbit::weak::Tuning::mse), lowbit::Error);
}

TEST(WeakSelect, FrobNormMultipliesInFp32) {
  std::vector<float> lambda = {3.0f, 1.0f / 3.0f, 0.0f};
  ref::weak_apply_frob_norm(lambda, std::vector<float>{0.5f, 3.0f, 7.0f});
  EXPECT_EQ(lambda, (std::vector<float>{1.5f, (1.0f / 3.0f) * 3.0f, 0.0f}));
  EXPECT_THROW(ref::weak_apply_frob_norm(lambda, std::vector<float>{1.0f}), lowbit::Error);
}

TEST(WeakSelect, TopKIsAscendingWithTiesToTheLowerIndex) {
  EXPECT_EQ(ref::weak_topk(std::vector<float>{9, 1, 8}, 2), (Idx{0, 2}));
  const std::vector<float> ties = {3, 5, 5, 1, 5};
  EXPECT_EQ(ref::weak_topk(ties, 1), (Idx{1}));
  EXPECT_EQ(ref::weak_topk(ties, 2), (Idx{1, 2}));
  EXPECT_EQ(ref::weak_topk(ties, 4), (Idx{0, 1, 2, 4}));
  EXPECT_EQ(ref::weak_topk(ties, 0), Idx{});
  EXPECT_THROW(ref::weak_topk(ties, 5), lowbit::Error);  // every column weak
  EXPECT_THROW(ref::weak_topk(std::vector<float>{1, NAN, 2}, 1), lowbit::Error);
}

// Two layers where the two variants disagree. Both means are 2: the scores are exact.
//   L1 / 2 = {2, 1.5, 0.5, 0}, L2 / 2 = {0, 1.5, 0.5, 2}
//   qeft:           s = {2, 3, 1, 2}                               -> top-1 {1}
//   per-layer top1: L1 adds 2 at 0, L2 adds 2 at 3: s = {2, 0, 0, 2} -> top-1 {0} (the tie)
TEST(WeakSelect, OgrVariantsOnAHandComputedExample) {
  const std::vector<std::vector<float>> layers = {{4, 3, 1, 0}, {0, 3, 1, 4}};
  EXPECT_EQ(ref::ogr_scores(layers, 1, qeft::OgrVariant::qeft), (std::vector<float>{2, 3, 1, 2}));
  EXPECT_EQ(ref::ogr_global(layers, 1, qeft::OgrVariant::qeft), (Idx{1}));
  EXPECT_EQ(ref::ogr_scores(layers, 1, qeft::OgrVariant::per_layer_topk), (std::vector<float>{2, 0, 0, 2}));
  EXPECT_EQ(ref::ogr_global(layers, 1, qeft::OgrVariant::per_layer_topk), (Idx{0}));
  // k = 2: L1 adds at {0, 1}, L2 at {1, 3}.
  EXPECT_EQ(ref::ogr_scores(layers, 2, qeft::OgrVariant::per_layer_topk), (std::vector<float>{2, 3, 0, 2}));
}

TEST(WeakSelect, OgrScoresAreFp32QuotientsAddedInLayerOrder) {
  // Inexact means and quotients: the expected value is the same fp32 arithmetic written out.
  const std::vector<std::vector<float>> layers = {{1, 2, 4}, {3, 0.1f, 5}, {0.7f, 0.3f, 0.2f}};
  std::vector<float> expect(3, 0.0f);
  for (const auto& l : layers) {
    const float mean = (l[0] + l[1] + l[2]) / 3.0f;  // torch's sum of 3 floats: in order
    for (int j = 0; j < 3; ++j) expect[j] += l[j] / mean;
  }
  EXPECT_EQ(ref::ogr_scores(layers, 1, qeft::OgrVariant::qeft), expect);
}

TEST(WeakSelect, OgrIgnoresTheScaleOfALayer) {
  std::mt19937 g(3);
  std::vector<std::vector<float>> layers;
  for (int l = 0; l < 5; ++l) {
    std::vector<float> v = random_floats(g, 64);
    for (float& x : v) x *= x;
    layers.push_back(v);
  }
  const Idx before = ref::ogr_global(layers, 6, qeft::OgrVariant::qeft);
  for (float& x : layers[2]) x *= 1024.0f;  // a power of two: every quotient is unchanged
  EXPECT_EQ(ref::ogr_global(layers, 6, qeft::OgrVariant::qeft), before);
}

TEST(WeakSelect, OgrRejectsBadLayers) {
  EXPECT_THROW(ref::ogr_global({}, 1, qeft::OgrVariant::qeft), lowbit::Error);
  const std::vector<std::vector<float>> ragged = {{1, 2, 3}, {1, 2}};
  EXPECT_THROW(ref::ogr_global(ragged, 1, qeft::OgrVariant::qeft), lowbit::Error);
  const std::vector<std::vector<float>> dead = {{1, 2, 3}, {0, 0, 0}};
  EXPECT_THROW(ref::ogr_global(dead, 1, qeft::OgrVariant::per_layer_topk), lowbit::Error);
}

// ---- a toy decoder ---------------------------------------------------------------------------------

qeft::DecoderModel toy_model(unsigned seed) {
  std::mt19937 g(seed);
  qeft::DecoderModel m;
  m.vocab = 11;
  m.d = 16;
  m.heads = 2;
  m.a = 8;
  m.ff = 24;
  const auto norm = [&] {  // not all ones: a norm left unpermuted must show
    std::vector<float> w = random_floats(g, m.d, 0.2f);
    for (float& x : w) x += 1.0f;
    return w;
  };
  m.embedding = random_floats(g, m.vocab * m.d);
  for (int b = 0; b < 2; ++b) {
    qeft::DecoderBlock blk;
    blk.attn_norm = norm();
    blk.q = random_floats(g, m.a * m.d, 0.4f);
    blk.k = random_floats(g, m.a * m.d, 0.4f);
    blk.v = random_floats(g, m.a * m.d, 0.4f);
    blk.o = random_floats(g, m.d * m.a, 0.4f);
    blk.mlp_norm = norm();
    blk.gate = random_floats(g, m.ff * m.d, 0.3f);
    blk.up = random_floats(g, m.ff * m.d, 0.3f);
    blk.down = random_floats(g, m.d * m.ff, 0.3f);
    m.blocks.push_back(blk);
  }
  m.final_norm = norm();
  m.head = m.embedding;  // tied
  return m;
}

const std::vector<int> kTokens = {3, 7, 0, 10, 7, 2};

// The weak columns chosen the QEFT way from the model's own activations on kTokens: OGR over
// q, k, v, up, gate of every block (with the frob-norm factor), the o_proj and down_proj inputs
// per layer.
qeft::WeakPlan plan_from_activations(const qeft::DecoderModel& m, std::size_t kg, std::size_t kl) {
  Capture cap;
  forward(m, kTokens, &cap);
  const std::size_t T = kTokens.size();
  const auto lambda = [&](const std::vector<float>& x, const std::vector<float>* w, std::size_t oc, std::size_t ic) {
    std::vector<float> l = ref::weak_sensitivity(x, T, ic);
    if (w) ref::weak_apply_frob_norm(l, ref::weak_frob_error(*w, oc, ic, 4, lowbit::weak::Tuning::mse));
    return l;
  };
  qeft::WeakPlan p;
  std::vector<std::vector<float>> residual_readers;
  for (std::size_t b = 0; b < m.blocks.size(); ++b) {
    const qeft::DecoderBlock& blk = m.blocks[b];
    for (const auto* w : {&blk.q, &blk.k, &blk.v}) residual_readers.push_back(lambda(cap.attn_in[b], w, m.a, m.d));
    for (const auto* w : {&blk.up, &blk.gate}) residual_readers.push_back(lambda(cap.mlp_in[b], w, m.ff, m.d));
    p.o_weak.push_back(ref::weak_topk(lambda(cap.o_in[b], &blk.o, m.d, m.a), kl));
    p.down_weak.push_back(ref::weak_topk(lambda(cap.down_in[b], &blk.down, m.d, m.ff), kl));
  }
  p.global = ref::ogr_global(residual_readers, kg, qeft::OgrVariant::qeft);
  return p;
}

TEST(WeakSelect, ReorderedDecoderGivesTheSameLogitsBitForBit) {
  const qeft::DecoderModel m = toy_model(11);
  const qeft::WeakPlan plan = plan_from_activations(m, 3, 2);
  ASSERT_EQ(plan.global.size(), 3u);
  const qeft::DecoderModel r = ref::reorder_model(m, plan);
  const std::vector<float> want = forward(m, kTokens), got = forward(r, kTokens);
  ASSERT_EQ(want.size(), kTokens.size() * m.vocab);
  for (std::size_t i = 0; i < want.size(); ++i) ASSERT_EQ(std::bit_cast<std::uint32_t>(got[i]), std::bit_cast<std::uint32_t>(want[i])) << i;
  // The weak columns are last: q's last 3 columns are its global weak columns, o's last 2 its own.
  for (std::size_t row = 0; row < m.a; ++row)
    for (std::size_t c = 0; c < 3; ++c)
      EXPECT_EQ(r.blocks[0].q[row * m.d + m.d - 3 + c], m.blocks[0].q[row * m.d + static_cast<std::size_t>(plan.global[c])]);
  EXPECT_EQ(r.blocks[1].o_gather, ref::weak_permutation(plan.o_weak[1], m.a));
}

// Each rule of reorder_model undone on its own, keeping every other: the logits must change.
TEST(WeakSelect, DroppingAnyReorderRuleChangesTheLogits) {
  const qeft::DecoderModel m = toy_model(12);
  const qeft::WeakPlan plan = plan_from_activations(m, 4, 3);
  const qeft::DecoderModel r = ref::reorder_model(m, plan);
  const std::vector<float> want = forward(m, kTokens);
  ASSERT_EQ(forward(r, kTokens), want);
  const Idx pg = ref::weak_permutation(plan.global, m.d), pd0 = ref::weak_permutation(plan.down_weak[0], m.ff);
  const Idx po1 = ref::weak_permutation(plan.o_weak[1], m.a);
  const std::vector<std::pair<std::string, std::function<void(qeft::DecoderModel&)>>> drops = {
      {"o_proj gather", [](qeft::DecoderModel& x) { x.blocks[0].o_gather.clear(); }},
      {"o_proj columns", [&](qeft::DecoderModel& x) { x.blocks[1].o = permute(m.blocks[1].o, m.d, m.a, pg, {}); }},
      {"o_proj rows", [&](qeft::DecoderModel& x) { x.blocks[1].o = permute(m.blocks[1].o, m.d, m.a, {}, po1); }},
      {"attention norm", [&](qeft::DecoderModel& x) { x.blocks[0].attn_norm = m.blocks[0].attn_norm; }},
      {"mlp norm", [&](qeft::DecoderModel& x) { x.blocks[1].mlp_norm = m.blocks[1].mlp_norm; }},
      {"final norm", [&](qeft::DecoderModel& x) { x.final_norm = m.final_norm; }},
      {"embedding", [&](qeft::DecoderModel& x) { x.embedding = m.embedding; }},
      {"head", [&](qeft::DecoderModel& x) { x.head = m.head; }},
      {"k columns", [&](qeft::DecoderModel& x) { x.blocks[1].k = m.blocks[1].k; }},
      {"up rows (down's index)", [&](qeft::DecoderModel& x) { x.blocks[0].up = permute(m.blocks[0].up, m.ff, m.d, {}, pg); }},
      {"down columns", [&](qeft::DecoderModel& x) { x.blocks[0].down = permute(m.blocks[0].down, m.d, m.ff, pg, {}); }},
      {"down rows", [&](qeft::DecoderModel& x) { x.blocks[0].down = permute(m.blocks[0].down, m.d, m.ff, {}, pd0); }},
  };
  for (const auto& [rule, drop] : drops) {
    qeft::DecoderModel broken = r;
    drop(broken);
    EXPECT_NE(forward(broken, kTokens), want) << "without the " << rule << " rule";
  }
}

TEST(WeakSelect, ReorderRejectsABadPlan) {
  const qeft::DecoderModel m = toy_model(13);
  qeft::WeakPlan p{{1, 5}, {{0}, {2}}, {{3}, {4}}};
  EXPECT_NO_THROW(ref::reorder_model(m, p));
  qeft::WeakPlan unsorted = p;
  unsorted.global = {5, 1};
  EXPECT_THROW(ref::reorder_model(m, unsorted), lowbit::Error);
  qeft::WeakPlan out_of_range = p;
  out_of_range.o_weak[1] = {static_cast<std::int32_t>(m.a)};
  EXPECT_THROW(ref::reorder_model(m, out_of_range), lowbit::Error);
  qeft::WeakPlan short_plan = p;
  short_plan.down_weak.pop_back();
  EXPECT_THROW(ref::reorder_model(m, short_plan), lowbit::Error);
  qeft::DecoderModel bad = m;
  bad.blocks[1].up.pop_back();
  EXPECT_THROW(ref::reorder_model(bad, p), lowbit::Error);
  EXPECT_THROW(ref::reorder_model(ref::reorder_model(m, p), p), lowbit::Error);  // o_gather already set
}

}  // namespace
