// The rows of a family's kernel list (kernels::list<Impl>()) that this CPU runs: what a family's kernel
// tests compare with the reference (without it) and its properties pick from (with it).
#pragma once
#include <string_view>
#include <vector>

#include "lowbit/kernels.hpp"

namespace lowbit::test {

template <class Impl> std::vector<const Impl*> available_rows(bool with_reference) {
  std::vector<const Impl*> v;
  for (const Impl& impl : kernels::list<Impl>())
    if (kernels::available(impl) && (with_reference || std::string_view(impl.name) != "reference")) v.push_back(&impl);
  return v;
}

}  // namespace lowbit::test
