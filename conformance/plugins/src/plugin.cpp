#include "lowbit/conformance/plugin.hpp"

#include <dlfcn.h>
#include <fmt/format.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string_view>

#include "plugin_calls.hpp"

namespace lowbit::conformance {

Plugin::Plugin(const std::string& path) : path_(path) {
  handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle_) {
    const char* e = dlerror();
    throw PluginError(fmt::format("cannot load plugin {}: {}", path, e ? e : "dlopen failed"));
  }
  dlerror();
  void* sym = dlsym(handle_, LOWBIT_VENDOR_DESCRIPTOR_SYMBOL);
  if (!sym) {
    dlclose(handle_);
    throw PluginError(fmt::format("{} is not a lowbit vendor plugin: it does not export {}", path,
                                  LOWBIT_VENDOR_DESCRIPTOR_SYMBOL));
  }
  lowbit_vendor_descriptor_v1_fn get;
  static_assert(sizeof get == sizeof sym);
  std::memcpy(&get, &sym, sizeof get);
  descriptor_ = get();
  if (!descriptor_) {
    dlclose(handle_);
    throw PluginError(fmt::format("{}: {} returned NULL", path, LOWBIT_VENDOR_DESCRIPTOR_SYMBOL));
  }
  if (descriptor_->abi_version != LOWBIT_VENDOR_ABI_VERSION) {
    const unsigned v = descriptor_->abi_version;
    dlclose(handle_);
    throw PluginError(fmt::format("{}: vendor ABI version {}, this lowbit supports version {} only", path, v,
                                  LOWBIT_VENDOR_ABI_VERSION));
  }
  name_ = descriptor_->vendor_name && *descriptor_->vendor_name ? descriptor_->vendor_name : path;
}

Plugin::Plugin(Plugin&& o) noexcept
    : path_(std::move(o.path_)), name_(std::move(o.name_)), handle_(o.handle_), descriptor_(o.descriptor_) {
  o.handle_ = nullptr;
  o.descriptor_ = nullptr;
}

Plugin::~Plugin() {
  if (handle_) dlclose(handle_);
}

namespace plugin_calls {

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

}  // namespace plugin_calls

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

bool write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t w = ::write(fd, s.data(), s.size());
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    s.remove_prefix(static_cast<std::size_t>(w));
  }
  return true;
}

// One group of checks: the suite's, then "plugin status codes".
std::vector<Check> run_direct(const Plugin& plugin, const PluginGroup& g, const std::function<std::vector<Check>()>& suite,
                              std::size_t max_errors) {
  active.d = &plugin.descriptor();
  active.calls = 0;
  active.failures = 0;
  active.first.clear();
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
  return out;
}

}  // namespace

std::vector<Check> run_plugin_group(const Plugin& plugin, const PluginGroup& g, const std::function<std::vector<Check>()>& suite,
                                    bool isolate, std::size_t max_errors) {
  if (!isolate) return run_direct(plugin, g, suite, max_errors);
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a lowbit that is killed leaves no child running its sweeps
    if (::getppid() != parent) ::_exit(3);
    ::close(fds[0]);
    const bool ok = write_all(fds[1], serialize(run_direct(plugin, g, suite, max_errors)));
    ::close(fds[1]);
    ::_exit(ok ? 0 : 3);  // no atexit handlers, no destructors of the parent's objects
  }
  ::close(fds[1]);
  std::string data;
  char buf[65536];
  for (;;) {
    const ssize_t r = ::read(fds[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    data.append(buf, static_cast<std::size_t>(r));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::vector<Check> out;
  const bool complete = deserialize(data, out);
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* what = ::strsignal(sig);
    out.push_back(failed_check(plugin.name(), g, fmt::format("plugin crashed (signal {})", sig),
                               fmt::format("the child process running this group died of signal {} ({}); "
                                           "its checks are lost",
                                           sig, what ? what : "?")));
  } else if (!complete || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    out.push_back(failed_check(plugin.name(), g, fmt::format("plugin crashed (exit status {})", code),
                               "the child process running this group ended before it reported"));
  }
  return out;
}

Check not_implemented(const Plugin& plugin, const PluginGroup& group, std::string why) {
  return failed_check(plugin.name(), group, "not implemented by the plugin", std::move(why));
}

}  // namespace lowbit::conformance
