#include "lowbit/conformance/plugin.hpp"

#include <dlfcn.h>
#include <fmt/format.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "plugin_calls.hpp"
#include "plugin_child.hpp"

namespace lowbit::conformance {

namespace {

// The descriptor a plugin's symbol returns, of any version.
struct Opened {
  void* handle;
  const lowbit_vendor_descriptor* descriptor;
  fp8::FormatSet fp8_formats;
  const lowbit_vendor_descriptor3* descriptor3 = nullptr;  // version 3
};

// The descriptor that the function `symbol` of version `version` returns; null when the library lacks it.
template <class Descriptor>
const Descriptor* call_descriptor(void* handle, const std::string& path, const char* symbol, unsigned version) {
  void* sym = dlsym(handle, symbol);
  if (!sym) return nullptr;
  const Descriptor* (*get)() = nullptr;
  static_assert(sizeof get == sizeof sym);
  std::memcpy(&get, &sym, sizeof get);
  const Descriptor* d = get();
  if (!d) throw PluginError(fmt::format("{}: {} returned NULL", path, symbol));
  // Every version's descriptor begins with version 1's fields, abi_version first.
  const unsigned v = reinterpret_cast<const lowbit_vendor_descriptor*>(d)->abi_version;
  if (v != version)
    throw PluginError(fmt::format("{}: vendor ABI version {}, this lowbit supports version {} only in {}", path, v, version, symbol));
  return d;
}

// dlopen + dlsym (the newest version's symbol the library has) + the descriptor call + the version
// check; throws PluginError.
Opened open_plugin(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* e = dlerror();
    throw PluginError(fmt::format("cannot load plugin {}: {}", path, e ? e : "dlopen failed"));
  }
  dlerror();
  try {
    if (const auto* d = call_descriptor<lowbit_vendor_descriptor4>(
            handle, path, LOWBIT_VENDOR_DESCRIPTOR_SYMBOL_V4, LOWBIT_VENDOR_ABI_VERSION_4))
      return {handle, &d->v3.v2.v1, (d->v3.v2.fp8_formats | fp8::FormatSet{d->fp8_formats_high} << 32) & fp8::kAllFormats, &d->v3};
    if (const auto* d = call_descriptor<lowbit_vendor_descriptor3>(
            handle, path, LOWBIT_VENDOR_DESCRIPTOR_SYMBOL_V3, LOWBIT_VENDOR_ABI_VERSION_3))
      return {handle, &d->v2.v1, d->v2.fp8_formats & fp8::kAllFormats, d};
    if (const auto* d = call_descriptor<lowbit_vendor_descriptor2>(
            handle, path, LOWBIT_VENDOR_DESCRIPTOR_SYMBOL_V2, LOWBIT_VENDOR_ABI_VERSION_2))
      return {handle, &d->v1, d->fp8_formats & fp8::kAllFormats};  // bits of formats this lowbit lacks: never called
    if (const auto* d = call_descriptor<lowbit_vendor_descriptor>(
            handle, path, LOWBIT_VENDOR_DESCRIPTOR_SYMBOL, LOWBIT_VENDOR_ABI_VERSION))
      return {handle, d, fp8::kOcpFp8};  // what version 1 knows
  } catch (...) {
    dlclose(handle);
    throw;
  }
  dlclose(handle);
  throw PluginError(fmt::format("{} is not a lowbit vendor plugin: it does not export {} (or {}, {}, {})", path,
                                LOWBIT_VENDOR_DESCRIPTOR_SYMBOL, LOWBIT_VENDOR_DESCRIPTOR_SYMBOL_V2,
                                LOWBIT_VENDOR_DESCRIPTOR_SYMBOL_V3, LOWBIT_VENDOR_DESCRIPTOR_SYMBOL_V4));
}

}  // namespace

Plugin::Plugin(const std::string& path) : path_(path) {
  const plugin_calls::ExitGuard guard("while loading the plugin");
  const Opened o = open_plugin(path);
  handle_ = o.handle;
  descriptor_ = o.descriptor;
  descriptor3_ = o.descriptor3;
  fp8_formats_ = o.fp8_formats;
  name_ = descriptor_->vendor_name && *descriptor_->vendor_name ? descriptor_->vendor_name : path;
}

Plugin::Plugin(Plugin&& o) noexcept
    : path_(std::move(o.path_)), name_(std::move(o.name_)), handle_(o.handle_), descriptor_(o.descriptor_),
      descriptor3_(o.descriptor3_), fp8_formats_(o.fp8_formats_) {
  o.handle_ = nullptr;
  o.descriptor_ = nullptr;
  o.descriptor3_ = nullptr;
}

Plugin::~Plugin() {
  if (handle_) dlclose(handle_);
}


namespace {

using plugin_calls::active;

Check failed_check(const std::string& impl, const PluginGroup& g, std::string name, std::string detail) {
  Check c(impl, g.format, g.profile, std::move(name));
  c.cases = c.errors = 1;
  c.first_errors.push_back(std::move(detail));
  return c;
}

// Serialized checks, child -> parent.
void put_u64(std::string& s, std::uint64_t v) { s.append(reinterpret_cast<const char*>(&v), 8); }
void put_str(std::string& s, const std::string& v) {
  put_u64(s, v.size());
  s += v;
}
std::string serialize(const std::vector<Check>& checks) {
  std::string s;
  put_u64(s, checks.size());
  for (const Check& c : checks) {
    for (const std::string* f : {&c.impl, &c.format, &c.profile, &c.name, &c.not_supported}) put_str(s, *f);
    put_u64(s, c.cases);
    put_u64(s, c.errors);
    put_u64(s, std::bit_cast<std::uint64_t>(c.seconds));
    put_u64(s, c.first_errors.size());
    for (const std::string& e : c.first_errors) put_str(s, e);
  }
  s += "END";
  return s;
}

struct Reader {
  std::string_view s;
  bool ok = true;
  std::uint64_t u64() {
    std::uint64_t v = 0;
    if (s.size() < 8) return ok = false, 0;
    std::memcpy(&v, s.data(), 8);
    s.remove_prefix(8);
    return v;
  }
  std::string str() {
    const std::uint64_t n = u64();
    if (!ok || s.size() < n) return ok = false, std::string();
    std::string v(s.substr(0, n));
    s.remove_prefix(n);
    return v;
  }
};

bool deserialize(std::string_view data, std::vector<Check>& out) {
  Reader r{data};
  const std::uint64_t n = r.u64();
  for (std::uint64_t i = 0; r.ok && i < n; ++i) {
    Check c;
    for (std::string* f : {&c.impl, &c.format, &c.profile, &c.name, &c.not_supported}) *f = r.str();
    c.cases = r.u64();
    c.errors = r.u64();
    c.seconds = std::bit_cast<double>(r.u64());
    const std::uint64_t e = r.u64();
    for (std::uint64_t j = 0; r.ok && j < e; ++j) c.first_errors.push_back(r.str());
    if (r.ok) out.push_back(std::move(c));
  }
  return r.ok && r.s == "END";
}

// Each write outside an output buffer fails the check that was running: the last one made before it
// (suites make each check just before running it), else the status check. It fails whether or not the
// check is supported.
void add_memory_errors(std::vector<Check>& out, std::size_t max_errors) {
  std::vector<std::vector<std::string>> lines(out.size());
  for (const plugin_calls::MemoryError& e : active.memory) {
    std::size_t i = out.size() - 1;  // the status check, last
    for (std::size_t j = out.size() - 1; j-- > 0;)
      if (out[j].created <= e.when) {
        i = j;
        break;
      }
    Check& c = out[i];
    c.not_supported.clear();
    ++c.errors;
    if (!e.what.empty()) lines[i].push_back(e.what);
  }
  for (std::size_t i = 0; i < out.size(); ++i) {  // listed first, before the check's mismatches
    std::vector<std::string>& first = out[i].first_errors;
    first.insert(first.begin(), lines[i].begin(), lines[i].end());
    if (first.size() > max_errors) first.resize(max_errors);
  }
}

// One group of checks: the suite's, then "plugin status codes".
std::vector<Check> run_direct(const Plugin& plugin, const PluginGroup& g, const std::function<std::vector<Check>()>& suite,
                              std::size_t max_errors) {
  active.d = &plugin.descriptor();
  active.d3 = plugin.descriptor3();
  active.calls = 0;
  active.failures = 0;
  active.first.clear();
  active.memory.clear();
  active.max_errors = max_errors;
  std::vector<Check> out;
  try {
    out = suite();
  } catch (const std::exception& e) {
    out.push_back(failed_check(plugin.name(), g, "suite error", e.what()));
  }
  time_checks(out, std::chrono::steady_clock::now());
  Check status(plugin.name(), g.format, g.profile, "plugin status codes");
  status.cases = active.calls.load();
  status.errors = active.failures.load();
  status.first_errors = active.first;
  out.push_back(std::move(status));
  add_memory_errors(out, max_errors);
  return out;
}

// In-process runs: an interval timer (SIGALRM every 100 ms) that ends lowbit (status 1, a line on
// stderr) when a plugin call stalls; nothing can stop the call itself. A timer, not a thread: the
// handler runs whatever the plugin does, and qemu-user cannot start a thread in a dynamically linked
// program (the arm64 tests run this mode).
class Watchdog {
 public:
  explicit Watchdog(double timeout_s) {
    timeout_s_ = timeout_s;
    std::snprintf(message_tail_, sizeof message_tail_,
                  " did not return within %g s (--timeout); an --in-process run cannot stop it: the run failed\n", timeout_s);
    struct sigaction sa {};
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGALRM, &sa, &old_);
    const itimerval every{{0, 100000}, {0, 100000}};
    ::setitimer(ITIMER_REAL, &every, nullptr);
  }
  ~Watchdog() {
    const itimerval off{};
    ::setitimer(ITIMER_REAL, &off, nullptr);
    ::sigaction(SIGALRM, &old_, nullptr);
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  // Async-signal-safe: atomics, clock_gettime, write and _exit only.
  static void on_alarm(int) {
    if (!plugin_calls::progress().stalled(timeout_s_)) return;
    const char* call = plugin_calls::progress().call.load();
    if (!call) call = "a plugin call";
    const auto put = [](const char* s) { [[maybe_unused]] const auto n = ::write(STDERR_FILENO, s, std::strlen(s)); };
    put("lowbit: ");
    put(call);
    put(message_tail_);
    ::_exit(1);
  }
  static inline double timeout_s_ = 0;
  static inline char message_tail_[160] = {};
  struct sigaction old_ {};
};

}  // namespace

Plugin load_plugin(const std::string& path, bool isolate, double timeout_s) {
  if (isolate) {
    const ChildResult r = run_in_child(
        [&]() -> std::string {
          plugin_calls::progress().begin("loading");  // the timeout covers the constructors and the descriptor call
          try {
            open_plugin(path);
            return "ok";
          } catch (const PluginError& e) {
            return std::string("error: ") + e.what();
          }
        },
        timeout_s);
    if (r.timed_out) throw PluginError(fmt::format("{}: plugin did not finish loading within {:g} s (--timeout)", path, timeout_s));
    if (r.data.starts_with("error: ")) throw PluginError(r.data.substr(7));
    if (WIFSIGNALED(r.status)) throw PluginError(fmt::format("{}: plugin crashed while loading ({})", path, describe_status(r.status)));
    if (r.data != "ok") throw PluginError(fmt::format("{}: plugin ended the process while loading ({})", path, describe_status(r.status)));
  }
  return Plugin(path);
}

std::vector<Check> run_plugin_group(const Plugin& plugin, const PluginGroup& g, const std::function<std::vector<Check>()>& suite,
                                    const GroupRun& run) {
  if (!run.isolate) {
    const plugin_calls::ExitGuard guard(fmt::format("while running the {} {} checks", g.format, g.profile));
    plugin_calls::progress().reset();
    const Watchdog watchdog(run.timeout);
    return run_direct(plugin, g, suite, run.max_errors);
  }
  const ChildResult r = run_in_child([&] { return serialize(run_direct(plugin, g, suite, run.max_errors)); }, run.timeout);
  std::vector<Check> out;
  const bool complete = deserialize(r.data, out);
  if (r.timed_out) {
    const char* call = plugin_calls::progress().call.load();
    out.push_back(failed_check(plugin.name(), g, "plugin timed out",
                               fmt::format("{} did not return within {:g} s (--timeout); the child process running this "
                                           "group was killed with its process group, and its checks are lost",
                                           call ? call : "a plugin call", run.timeout)));
  } else if (WIFSIGNALED(r.status)) {
    out.push_back(failed_check(plugin.name(), g, fmt::format("plugin crashed (signal {})", WTERMSIG(r.status)),
                               fmt::format("the child process running this group died of {}; its checks are lost",
                                           describe_status(r.status))));
  } else if (!complete || !WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) {
    const int code = WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
    out.push_back(failed_check(plugin.name(), g, fmt::format("plugin crashed (exit status {})", code),
                               "the child process running this group ended before it reported"));
  }
  return out;
}

Check not_implemented(const Plugin& plugin, const PluginGroup& group, std::string why) {
  return failed_check(plugin.name(), group, "not implemented by the plugin", std::move(why));
}

}  // namespace lowbit::conformance
