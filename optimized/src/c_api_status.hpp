// The C API's one way of failing (internal): every entry point runs its body through guarded(), which
// turns the exception in flight into a lowbit_status and this thread's lowbit_last_error() message.
#pragma once
#include "lowbit/c_types.h"

namespace lowbit::capi {

// Inside a catch block: the status of the exception being handled (lowbit::Error: its code();
// std::bad_alloc: LOWBIT_E_NOMEM; the standard library's invalid_argument, length_error and
// out_of_range: LOWBIT_E_INVALID; anything else: LOWBIT_E_INTERNAL), its message kept as
// "fn: what" for lowbit_last_error().
lowbit_status status_of_current_exception(const char* fn) noexcept;
void clear_last_error() noexcept;

template <class F>
lowbit_status guarded(const char* fn, F&& body) noexcept {
  try {
    body();
    clear_last_error();
    return LOWBIT_OK;
  } catch (...) {
    return status_of_current_exception(fn);
  }
}

}  // namespace lowbit::capi
