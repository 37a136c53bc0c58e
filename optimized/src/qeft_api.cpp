#include <fmt/format.h>

#include <algorithm>

#include "checks.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/qeft.hpp"
#include "lowbit/reference/weak_select.hpp"
#include "weak_api.hpp"

namespace lowbit::qeft {

using detail::check_size;
using detail::copy_out;
using detail::product;

Packed encode(std::size_t oc, std::size_t ic, std::span<const float> w, std::span<const std::int32_t> weak_columns,
              const Options& o, std::vector<Clamp>* clamped) {
  return ref::qeft_pack(weak::quantize_layer(weak::Layout::qeft, oc, ic, w, weak_columns, o), clamped);
}

void decode(const Packed& p, std::span<float> out, const Options& o) {
  validate(p);
  check_size("output", out.size(), p.oc * p.ic);
  const std::vector<float> stored = ref::qeft_dequantize(p, o.path);
  if (o.order == Order::stored) {
    std::copy(stored.begin(), stored.end(), out.begin());
    return;
  }
  const std::vector<std::int32_t> perm = permutation(p.outlieridx, p.ic);  // stored column j = original perm[j]
  for (std::size_t r = 0; r < p.oc; ++r)
    for (std::size_t j = 0; j < p.ic; ++j) out[r * p.ic + static_cast<std::size_t>(perm[j])] = stored[r * p.ic + j];
}

std::vector<float> decode(const Packed& p, const Options& o) {
  validate(p);
  std::vector<float> out(p.oc * p.ic);
  decode(p, std::span(out), o);
  return out;
}

void quantize(std::size_t oc, std::size_t ic, std::span<const float> w, std::span<const std::int32_t> weak_columns,
              std::span<float> out, const Options& o) {
  decode(encode(oc, ic, w, weak_columns, o), out, o);
}

std::vector<float> quantize(std::size_t oc, std::size_t ic, std::span<const float> w,
                            std::span<const std::int32_t> weak_columns, const Options& o) {
  return decode(encode(oc, ic, w, weak_columns, o), o);
}

void pack(std::size_t oc, std::size_t ic, std::span<const std::uint8_t> codes, std::span<std::int16_t> qweight) {
  copy_out("qweight", pack(oc, ic, codes), qweight);
}

std::vector<std::int16_t> pack(std::size_t oc, std::size_t ic, std::span<const std::uint8_t> codes) {
  check_size("codes", codes.size(), product("codes", oc, ic));
  if (const auto bad = std::find_if(codes.begin(), codes.end(), [](std::uint8_t c) { return c > 15; }); bad != codes.end())
    throw Error(fmt::format("code {} at element {} is not a 4-bit code", *bad, bad - codes.begin()), Errc::data);
  return ref::qeft_pack_codes(codes, oc, ic);
}

void unpack(std::size_t oc, std::size_t ic, std::span<const std::int16_t> qweight, std::span<std::uint8_t> codes) {
  copy_out("codes", unpack(oc, ic, qweight), codes);
}

std::vector<std::uint8_t> unpack(std::size_t oc, std::size_t ic, std::span<const std::int16_t> qweight) {
  check_size("qweight", qweight.size(), product("qweight", oc / kRowInterleave, ic));
  return ref::qeft_unpack_codes(qweight, oc, ic);
}

void validate(const Matrix& w) {
  if (w.oc == 0 || w.oc % 8) throw Error(fmt::format("QEFT needs OC to be a positive multiple of 8, got {}", w.oc));
  if (w.ic == 0 || w.ic % 64) throw Error(fmt::format("QEFT needs IC to be a positive multiple of 64, got {}", w.ic));
  if (w.group == 0 || w.group % 32 || w.ic % w.group)
    throw Error(fmt::format("QEFT's group must be a multiple of 32 that divides IC, got {}", w.group));
  if (w.k >= w.ic) throw Error(fmt::format("k = {} must be smaller than IC = {}", w.k, w.ic));
  if (!checked_mul(w.oc, w.ic)) throw Error(fmt::format("OC x IC = {} x {} overflows size_t", w.oc, w.ic));
  if (!w.qweight || !w.scales || !w.scaled_zeros || (w.k && !w.oweight)) throw Error("a QEFT buffer is missing");
}

void validate(const Packed& p) { ref::qeft_validate(p); }

void matvec(const Matrix& w, std::span<const float> x, std::span<float> y, const Impl* impl) { matmul(w, x, y, 1, impl); }

void matmul(const Matrix& w, std::span<const float> x, std::span<float> y, std::size_t tokens, const Impl* impl) {
  validate(w);
  check_size("x", x.size(), product("x", tokens, w.ic));
  check_size("y", y.size(), product("y", tokens, w.oc));
  const MatvecFn fn = detail::impl_of(impl).matvec;
  for (std::size_t t = 0; t < tokens; ++t) fn(&w, x.data() + t * w.ic, y.data() + t * w.oc);
}

std::vector<float> ogr_scores(std::span<const std::vector<float>> lambdas, std::size_t k, OgrVariant v) {
  return ref::ogr_scores(lambdas, k, v);
}

std::vector<std::int32_t> ogr_global(std::span<const std::vector<float>> lambdas, std::size_t k, OgrVariant v) {
  return ref::ogr_global(lambdas, k, v);
}

DecoderModel reorder_model(const DecoderModel& m, const WeakPlan& plan) { return ref::reorder_model(m, plan); }

}  // namespace lowbit::qeft
