// The plugin calls of the group being run (plugin.cpp) as the adapters (plugin_adapters.cpp) see
// them: kernel-table slots are plain function pointers, so the adapters find the plugin here. A group
// runs alone: in its own child process, or in turn.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "lowbit/vendor.h"

namespace lowbit::conformance::plugin_calls {

struct Active {
  const lowbit_vendor_descriptor* d = nullptr;
  std::string fp8_profile;  // the profile name FP8 calls pass
  std::size_t max_errors = 8;
  std::atomic<std::uint64_t> calls{0}, failures{0};
  std::mutex m;
  std::vector<std::string> first;
};
extern Active active;

// One call's status. `call` describes the call and its options (formatted only when needed):
// "fp8_encode_f32(n=4096, e4m3, rounding rna, profile ml_dtypes)". An error is counted and its first
// ones kept, naming the status's meaning; LOWBIT_E_UNSUPPORTED throws NotSupported.
void record(int status, const std::function<std::string()>& call);

}  // namespace lowbit::conformance::plugin_calls
