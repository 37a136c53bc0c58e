// The plugin calls of the group being run (plugin.cpp) as the adapters (plugin_adapters.cpp) see
// them: kernel-table slots are plain function pointers, so the adapters find the plugin here. A group
// runs alone: in its own child process, or in turn. Each call is watched: it is in flight for the
// watchdog (a call that never returns), and its output buffers lie between guard bytes (a call that
// writes outside them).
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "lowbit/vendor.h"

namespace lowbit::conformance::plugin_calls {

// A write outside an output buffer: when it was found (it fails the check then running) and what it
// was ("fp8_encode_f32(n=...) wrote past the end of out (n=4096, 4 bytes)"; empty past the first few).
struct MemoryError {
  std::chrono::steady_clock::time_point when;
  std::string what;
};

struct Active {
  const lowbit_vendor_descriptor* d = nullptr;
  const lowbit_vendor_descriptor3* d3 = nullptr;  // version 3 (NVFP4), or null
  std::string fp8_profile;  // the profile name FP8 calls pass
  std::size_t max_errors = 8;
  std::atomic<std::uint64_t> calls{0}, failures{0};
  std::mutex m;
  std::vector<std::string> first;
  std::vector<MemoryError> memory;  // under m
};
extern Active active;

// The plugin calls in flight, in memory shared with the child processes, so that the parent watches a
// child's calls too: a group has stalled when calls are running and none has started or returned for
// the timeout.
struct Progress {
  std::atomic<int> in_flight{0};
  std::atomic<std::int64_t> last_ns{0};    // steady clock of the last start or return
  std::atomic<const char*> call{nullptr};  // the C function started last: a literal, at the same address in a child

  void reset();
  void begin(const char* name);
  void end();
  bool stalled(double timeout_s) const;
};
Progress& progress();  // created at the first use, before any child is forked

// An output buffer handed to the plugin: a copy of it between guard bytes (nullptr stays nullptr).
class GuardedBytes {
 public:
  GuardedBytes(const char* name, void* out, std::size_t count, std::size_t size);
  void* data() { return buf_.empty() ? nullptr : buf_.data() + kGuard; }
  // Copies the plugin's output back to the caller's buffer: "wrote past the end of NAME (n=COUNT, K
  // bytes)" and/or "wrote before the start of NAME (...)", or "" when the guards are intact.
  std::string finish();

 private:
  static constexpr std::size_t kGuard = 256;
  const char* name_;
  void* out_;
  std::size_t count_, bytes_;
  std::vector<unsigned char> buf_;
};
template <class T> struct Guarded : GuardedBytes {
  Guarded(const char* name, T* out, std::size_t count) : GuardedBytes(name, out, count, sizeof(T)) {}
  T* get() { return static_cast<T*>(data()); }
};

// One call's status. `call` describes the call and its options (formatted only when needed):
// "fp8_encode_f32(n=4096, e4m3, rounding rna, profile ml_dtypes)". An error is counted and its first
// ones kept, naming the status's meaning; LOWBIT_E_UNSUPPORTED throws NotSupported.
void record(int status, const std::function<std::string()>& call);
// A call's buffer written outside (finish() not empty).
void record_memory(const std::function<std::string()>& call, const std::string& what);

// The call of C function `name`: fn() calls it on the guarded buffers `outs` and returns its status.
template <class Fn, class... Outs>
void call(const char* name, const std::function<std::string()>& describe, Fn fn, Outs&... outs) {
  progress().begin(name);
  const int status = fn();
  progress().end();
  for (GuardedBytes* g : {static_cast<GuardedBytes*>(&outs)...})
    if (const std::string what = g->finish(); !what.empty()) record_memory(describe, what);
  record(status, describe);
}

// While a guard lives, exit() in this process — a plugin's — ends lowbit with status 1 and a line on
// stderr naming the call in flight and `what` lowbit was doing, not with the plugin's status and no report.
class ExitGuard {
 public:
  explicit ExitGuard(const std::string& what);
  ~ExitGuard();
  ExitGuard(const ExitGuard&) = delete;
  ExitGuard& operator=(const ExitGuard&) = delete;
};

}  // namespace lowbit::conformance::plugin_calls
