#include "lowbit/weak.hpp"

#include "lowbit/reference/weak.hpp"
#include "lowbit/reference/weak_select.hpp"

namespace lowbit::weak {

std::vector<float> sensitivity(std::size_t tokens, std::size_t ic, std::span<const float> activations) {
  return ref::weak_sensitivity(activations, tokens, ic);
}

std::vector<float> frob_error(std::size_t oc, std::size_t ic, std::span<const float> w, int bits, Tuning tuning) {
  return ref::weak_frob_error(w, oc, ic, bits, tuning);
}

void apply_frob_norm(std::span<float> lambda, std::span<const float> frob) { ref::weak_apply_frob_norm(lambda, frob); }

std::vector<std::int32_t> topk(std::span<const float> lambda, std::size_t k) { return ref::weak_topk(lambda, k); }

std::vector<std::int32_t> permutation(std::span<const std::int32_t> weak, std::size_t ic) {
  return ref::weak_permutation(weak, ic);
}

}  // namespace lowbit::weak
