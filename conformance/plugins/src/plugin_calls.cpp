#include "plugin_calls.hpp"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "lowbit/conformance/report.hpp"

namespace lowbit::conformance::plugin_calls {

Active active;

namespace {

std::string meaning(int status) {
  switch (status) {
    case LOWBIT_E_UNSUPPORTED: return "LOWBIT_E_UNSUPPORTED: this option combination is not implemented";
    case LOWBIT_E_INVALID: return "LOWBIT_E_INVALID: bad arguments";
    case LOWBIT_E_NULL: return "LOWBIT_E_NULL: a NULL pointer where a buffer is needed";
    case LOWBIT_E_NOMEM: return "LOWBIT_E_NOMEM: out of memory";
    case LOWBIT_E_INTERNAL: return "LOWBIT_E_INTERNAL: an internal error";
    case LOWBIT_E_DATA: return "LOWBIT_E_DATA: malformed input data";
    case LOWBIT_E_IO: return "LOWBIT_E_IO: an I/O error";
    default: return "not a lowbit status: the vendor's own error code";
  }
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The guard bytes: not one repeated value, so that a plugin filling memory with a constant changes them.
unsigned char guard_byte(std::size_t i) { return static_cast<unsigned char>(0xA5 ^ (i * 0x3B)); }

std::string extent(const char* where, const char* name, std::size_t count, std::size_t k, std::size_t guard) {
  return fmt::format("wrote {} {} (n={}, {} byte{}{})", where, name, count, k, k == 1 ? "" : "s", k == guard ? " or more" : "");
}

}  // namespace

void record(int status, const std::function<std::string()>& call) {
  active.calls.fetch_add(1, std::memory_order_relaxed);
  if (status == LOWBIT_OK) return;
  if (status == LOWBIT_E_UNSUPPORTED) throw NotSupported(fmt::format("{} => {}", call(), meaning(status)));
  if (active.failures.fetch_add(1, std::memory_order_relaxed) < active.max_errors) {
    std::lock_guard lock(active.m);
    active.first.push_back(fmt::format("{} => plugin returned error {} ({})", call(), status, meaning(status)));
  }
}

void record_memory(const std::function<std::string()>& call, const std::string& what) {
  constexpr std::size_t kKept = 1 << 16;  // described (a check lists its first ones); the rest are counted
  std::lock_guard lock(active.m);
  active.memory.push_back({std::chrono::steady_clock::now(), active.memory.size() < kKept ? call() + " " + what : ""});
}

void Progress::reset() {
  in_flight = 0;
  last_ns = now_ns();
  call = nullptr;
}
void Progress::begin(const char* name) {
  call.store(name);
  last_ns.store(now_ns());
  in_flight.fetch_add(1);
}
void Progress::end() {
  last_ns.store(now_ns());
  in_flight.fetch_sub(1);
}
bool Progress::stalled(double timeout_s) const {
  return in_flight.load() > 0 && static_cast<double>(now_ns() - last_ns.load()) > timeout_s * 1e9;
}

Progress& progress() {
  static Progress* const p = [] {
    void* m = ::mmap(nullptr, sizeof(Progress), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::runtime_error(fmt::format("mmap: {}", std::strerror(errno)));
    return new (m) Progress;
  }();
  return *p;
}

GuardedBytes::GuardedBytes(const char* name, void* out, std::size_t count, std::size_t size)
    : name_(name), out_(out), count_(count), bytes_(count * size) {
  if (!out) return;
  buf_.resize(bytes_ + 2 * kGuard);
  for (std::size_t i = 0; i < kGuard; ++i) buf_[i] = buf_[kGuard + bytes_ + i] = guard_byte(i);
  if (bytes_) std::memcpy(buf_.data() + kGuard, out, bytes_);  // what the caller's buffer held: as unchanged as it
}

std::string GuardedBytes::finish() {
  if (buf_.empty()) return "";
  if (bytes_) std::memcpy(out_, buf_.data() + kGuard, bytes_);
  std::size_t before = 0, after = 0;
  for (std::size_t i = 0; i < kGuard && !before; ++i)
    if (buf_[i] != guard_byte(i)) before = kGuard - i;
  for (std::size_t i = kGuard; i > 0 && !after; --i)
    if (buf_[kGuard + bytes_ + i - 1] != guard_byte(i - 1)) after = i;
  std::string what;
  if (after) what = extent("past the end of", name_, count_, after, kGuard);
  if (before) what += (what.empty() ? "" : " and ") + extent("before the start of", name_, count_, before, kGuard);
  return what;
}

namespace {

// What the process was doing when an ExitGuard was made, for the exit handler (a fixed buffer: it is
// read while the process exits, when a std::string may be gone).
char exit_what[256];
std::atomic<pid_t> exit_armed{0};  // the process that armed the guard (a forked child inherits it unarmed)

void on_exit() {
  if (exit_armed.load() != ::getpid()) return;
  const Progress& p = progress();
  const char* call = p.in_flight.load() > 0 ? p.call.load() : nullptr;
  std::fflush(stdout);
  std::fprintf(stderr, "lowbit: the plugin ended the process (exit) %s%s %s: the run failed\n", call ? "during " : "",
               call ? call : "", exit_what);
  std::fflush(stderr);
  std::_Exit(1);
}

}  // namespace

ExitGuard::ExitGuard(const std::string& what) {
  [[maybe_unused]] static const bool registered = std::atexit(on_exit) == 0;
  progress();  // created now, not while exiting
  std::snprintf(exit_what, sizeof exit_what, "%s", what.c_str());
  exit_armed = ::getpid();
}
ExitGuard::~ExitGuard() { exit_armed = 0; }

}  // namespace lowbit::conformance::plugin_calls
