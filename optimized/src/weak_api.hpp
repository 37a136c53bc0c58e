// What the QEFT and OWQ API sources share: a layer through the reference quantizer, with the
// family's Options.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "lowbit/formats/weak.hpp"
#include "lowbit/reference/weak.hpp"

namespace lowbit::weak {

// O: qeft::Options or owq::Options; grid 0 means the repo's default for the layout and group.
template <class O>
ref::WeakQuantized quantize_layer(Layout l, std::size_t oc, std::size_t ic, std::span<const float> w,
                                  std::span<const std::int32_t> weak_columns, const O& o) {
  const QuantOptions q{o.bits, o.group, o.sym, o.tuning, o.grid == 0 ? default_grid(l, o.group) : o.grid};
  return ref::weak_quantize(l, w, oc, ic, weak_columns, q);
}

}  // namespace lowbit::weak
