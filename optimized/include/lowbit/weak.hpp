// lowbit::weak, what the public QEFT and OWQ APIs share; lowbit/qeft.hpp and lowbit/owq.hpp bring
// every name here into their own namespace (qeft::topk is weak::topk). Choosing the weak columns
// of a layer from calibration data: each input column's sensitivity, the "frob norm" factor of the
// quantization error, the top-k. Offline code (the reference's, docs/formats/qeft-owq.md section 8,
// "Sensitivity, OGR and the permutation of a model"); throws lowbit::Error (Errc::invalid) on bad arguments.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "lowbit/error.hpp"
#include "lowbit/formats/weak.hpp"

namespace lowbit::weak {

// The sensitivity of each of the ic input columns (the diagonal of the layer's Hessian 2/N X^T X):
// lambda_j = float(2 * sum_t x_tj^2 / tokens), summed in binary64. activations: tokens x ic,
// row-major, finite; tokens > 0.
std::vector<float> sensitivity(std::size_t tokens, std::size_t ic, std::span<const float> activations);

// The quantization error of each input column: sum_o (w[o][j] - RTN(w)[o][j])^2, RTN being the
// per-channel asymmetric quantizer over the whole row (bits 2..8; mse with a grid of 30, as the
// peer's extract_outidx.py). w: oc x ic, row-major, finite.
std::vector<float> frob_error(std::size_t oc, std::size_t ic, std::span<const float> w, int bits = 4,
                              Tuning tuning = Tuning::mse);

// lambda[j] *= frob[j] in fp32: the peer's default weighting (unless --no_frob_norm).
void apply_frob_norm(std::span<float> lambda, std::span<const float> frob);

// The indices of the k largest values, ascending; ties go to the lower index. k < lambda.size()
// (a layer keeps one quantized column at least); no NaN.
std::vector<std::int32_t> topk(std::span<const float> lambda, std::size_t k);

// QEFT's column order: stored column j is original column permutation(weak, ic)[j], the
// non-weak columns ascending, then the weak ones. weak: ascending, distinct, < ic.
std::vector<std::int32_t> permutation(std::span<const std::int32_t> weak, std::size_t ic);

}  // namespace lowbit::weak
