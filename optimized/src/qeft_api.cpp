#include <fmt/format.h>

#include "lowbit/kernels.hpp"
#include "lowbit/qeft.hpp"

namespace lowbit::qeft {

void validate(const qeft::Matrix& w) {
  if (w.oc == 0 || w.oc % 8) throw Error(fmt::format("QEFT needs OC to be a positive multiple of 8, got {}", w.oc));
  if (w.ic == 0 || w.ic % 64) throw Error(fmt::format("QEFT needs IC to be a positive multiple of 64, got {}", w.ic));
  if (w.group == 0 || w.group % 32 || w.ic % w.group)
    throw Error(fmt::format("QEFT's group must be a multiple of 32 that divides IC, got {}", w.group));
  if (w.k >= w.ic) throw Error(fmt::format("k = {} must be smaller than IC = {}", w.k, w.ic));
  if (!checked_mul(w.oc, w.ic)) throw Error(fmt::format("OC x IC = {} x {} overflows size_t", w.oc, w.ic));
  if (!w.qweight || !w.scales || !w.scaled_zeros || (w.k && !w.oweight)) throw Error("a QEFT buffer is missing");
}

void matvec(const qeft::Matrix& w, std::span<const float> x, std::span<float> y, const qeft::Impl* impl) {
  matmul(w, x, y, 1, impl);
}

void matmul(const qeft::Matrix& w, std::span<const float> x, std::span<float> y, std::size_t tokens, const qeft::Impl* impl) {
  validate(w);
  const auto nx = checked_mul(tokens, w.ic), ny = checked_mul(tokens, w.oc);
  if (!nx || !ny) throw Error(fmt::format("{} tokens of {} inputs and {} outputs overflow size_t", tokens, w.ic, w.oc));
  if (x.size() != *nx) throw Error(fmt::format("x has {} elements, expected {} x {}", x.size(), tokens, w.ic));
  if (y.size() != *ny) throw Error(fmt::format("y has {} elements, expected {} x {}", y.size(), tokens, w.oc));
  const qeft::MatvecFn fn = (impl ? *impl : kernels::best<qeft::Impl>()).matvec;
  for (std::size_t t = 0; t < tokens; ++t) fn(&w, x.data() + t * w.ic, y.data() + t * w.oc);
}

}  // namespace lowbit::qeft
