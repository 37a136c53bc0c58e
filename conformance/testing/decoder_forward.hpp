// An order-independent fp32 forward pass of qeft::DecoderModel (a Llama-style decoder): the tests
// of QEFT's reordering (reference/tests/test_weak_select.cpp, optimized/tests/test_convert_weak.cpp)
// compare its logits before and after permuting a model, bit for bit; permute() is their oracle
// of a permuted matrix.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "lowbit/formats/weak.hpp"

namespace lowbit::testing {

// Every sum of the forward pass below adds its fp32 terms in ascending order of value. The
// reordering permutes the terms of the sums over d (norms, q/k/v/gate/up/head), over a (o_proj)
// and over ff (down_proj); a plain fp32 loop would then round differently and the logits would
// differ by ulps even when every rule is wired right. Sorted, a sum depends only on the multiset
// of its terms (signed zeros included: from +0, a sum of zeros is +0 in any order), so the
// reordered model must give the same logits bit for bit, and a wiring error (a norm, a weight
// or the o_proj gather left in the wrong order) pairs different terms and changes them.
inline float ordered_sum(std::vector<float> terms) {
  std::sort(terms.begin(), terms.end());
  float s = 0.0f;
  for (float t : terms) s += t;
  return s;
}

inline float dot(const float* x, const float* y, std::size_t n) {
  std::vector<float> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = x[i] * y[i];
  return ordered_sum(t);
}

// y = W x for W [out x in].
inline std::vector<float> linear(const std::vector<float>& w, std::size_t out, std::size_t in, const std::vector<float>& x) {
  std::vector<float> y(out);
  for (std::size_t o = 0; o < out; ++o) y[o] = dot(&w[o * in], x.data(), in);
  return y;
}

inline std::vector<float> rms_norm(const std::vector<float>& x, const std::vector<float>& w) {
  const float inv = 1.0f / std::sqrt(dot(x.data(), x.data(), x.size()) / static_cast<float>(x.size()) + 1e-6f);
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] * inv * w[i];
  return y;
}

inline void add(std::vector<float>& h, const std::vector<float>& y) {
  for (std::size_t i = 0; i < h.size(); ++i) h[i] += y[i];
}

// Causal multi-head attention over the tokens' q, k, v rows ([T][a]).
inline std::vector<std::vector<float>> attention(const std::vector<std::vector<float>>& q, const std::vector<std::vector<float>>& k,
                                          const std::vector<std::vector<float>>& v, std::size_t heads) {
  const std::size_t T = q.size(), a = q[0].size(), hd = a / heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  std::vector<std::vector<float>> out(T, std::vector<float>(a));
  for (std::size_t h = 0; h < heads; ++h)
    for (std::size_t t = 0; t < T; ++t) {
      std::vector<float> p(t + 1);
      for (std::size_t s = 0; s <= t; ++s) p[s] = dot(&q[t][h * hd], &k[s][h * hd], hd) * scale;
      const float m = *std::max_element(p.begin(), p.end());
      for (float& x : p) x = std::exp(x - m);
      const float z = ordered_sum(p);
      for (std::size_t c = 0; c < hd; ++c) {
        std::vector<float> terms(t + 1);
        for (std::size_t s = 0; s <= t; ++s) terms[s] = p[s] / z * v[s][h * hd + c];
        out[t][h * hd + c] = ordered_sum(terms);
      }
    }
  return out;
}

// The inputs each linear layer saw (calibration activations), per block.
struct Capture {
  std::vector<std::vector<float>> attn_in, o_in, mlp_in, down_in;  // [block] -> tokens x width
};

// logits [T x vocab] of a Llama-style decoder: RMSNorm, causal attention, SwiGLU, final norm, head.
inline std::vector<float> forward(const lowbit::qeft::DecoderModel& m, const std::vector<int>& tokens, Capture* cap = nullptr) {
  const std::size_t T = tokens.size();
  std::vector<std::vector<float>> h(T);
  for (std::size_t t = 0; t < T; ++t)
    h[t].assign(m.embedding.begin() + static_cast<std::ptrdiff_t>(tokens[t] * m.d),
                m.embedding.begin() + static_cast<std::ptrdiff_t>((tokens[t] + 1) * m.d));
  if (cap) *cap = Capture{};
  const auto record = [&](std::vector<std::vector<float>> Capture::*where, const std::vector<float>& x) {
    if (cap) (cap->*where).back().insert((cap->*where).back().end(), x.begin(), x.end());
  };
  for (const lowbit::qeft::DecoderBlock& b : m.blocks) {
    if (cap)
      for (auto* c : {&cap->attn_in, &cap->o_in, &cap->mlp_in, &cap->down_in}) c->emplace_back();
    std::vector<std::vector<float>> q(T), k(T), v(T);
    for (std::size_t t = 0; t < T; ++t) {
      const std::vector<float> x = rms_norm(h[t], b.attn_norm);
      record(&Capture::attn_in, x);
      q[t] = linear(b.q, m.a, m.d, x);
      k[t] = linear(b.k, m.a, m.d, x);
      v[t] = linear(b.v, m.a, m.d, x);
    }
    const std::vector<std::vector<float>> att = attention(q, k, v, m.heads);
    for (std::size_t t = 0; t < T; ++t) {
      std::vector<float> x = att[t];
      for (std::size_t j = 0; j < b.o_gather.size(); ++j) x[j] = att[t][static_cast<std::size_t>(b.o_gather[j])];
      record(&Capture::o_in, x);
      add(h[t], linear(b.o, m.d, m.a, x));
    }
    for (std::size_t t = 0; t < T; ++t) {
      const std::vector<float> x = rms_norm(h[t], b.mlp_norm);
      record(&Capture::mlp_in, x);
      const std::vector<float> g = linear(b.gate, m.ff, m.d, x), u = linear(b.up, m.ff, m.d, x);
      std::vector<float> y(m.ff);
      for (std::size_t i = 0; i < m.ff; ++i) y[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
      record(&Capture::down_in, y);
      add(h[t], linear(b.down, m.d, m.ff, y));
    }
  }
  std::vector<float> logits;
  for (std::size_t t = 0; t < T; ++t) {
    const std::vector<float> y = linear(m.head, m.vocab, m.d, rms_norm(h[t], m.final_norm));
    logits.insert(logits.end(), y.begin(), y.end());
  }
  return logits;
}

// out[i][j] = in[rp[i]][cp[j]] (empty = identity), written independently of the library.
inline std::vector<float> permute(const std::vector<float>& in, std::size_t rows, std::size_t cols,
                                  const std::vector<std::int32_t>& rp, const std::vector<std::int32_t>& cp) {
  std::vector<float> out;
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j)
      out.push_back(in[(rp.empty() ? i : static_cast<std::size_t>(rp[i])) * cols + (cp.empty() ? j : static_cast<std::size_t>(cp[j]))]);
  return out;
}

}  // namespace lowbit::testing
