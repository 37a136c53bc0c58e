// Vendor plugins (lowbit/vendor.h): load a shared library, check its ABI version, and present its
// functions as rows of lowbit's kernel tables, so that the conformance suites run on them unchanged
// (`lowbit conform --plugin`). Each group of checks runs in a child process, so that a crashing plugin
// is reported rather than fatal. Which groups a family runs is the family's business (the tool's
// registration); this is the mechanism they share.
#pragma once
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "lowbit/conformance/report.hpp"
#include "lowbit/formats/fp8.hpp"
#include "lowbit/formats/gse.hpp"
#include "lowbit/formats/mx.hpp"
#include "lowbit/formats/nf4.hpp"
#include "lowbit/formats/nvfp4.hpp"
#include "lowbit/formats/weak.hpp"
#include "lowbit/vendor.h"

namespace lowbit::conformance {

// Seconds a plugin call may run before its group is ended as "timed out" (conform --timeout).
inline constexpr double kCallTimeout = 60;

// A library that cannot be loaded, lacks the symbol, or has another ABI version.
class PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A loaded plugin; the library stays loaded for the object's lifetime.
class Plugin {
 public:
  explicit Plugin(const std::string& path);  // dlopen + dlsym (v3, else v2, else v1) + version check; throws PluginError
  Plugin(Plugin&& o) noexcept;
  Plugin& operator=(Plugin&&) = delete;
  Plugin(const Plugin&) = delete;
  ~Plugin();

  const lowbit_vendor_descriptor& descriptor() const { return *descriptor_; }  // version 1's fields
  // The fp8 formats its fp8_* functions may be called with: a version-2 descriptor's fp8_formats,
  // E4M3 and E5M2 for version 1.
  fp8::FormatSet fp8_formats() const { return fp8_formats_; }
  // A version-3 descriptor (the NVFP4 slots), or null for a version-1 or -2 plugin.
  const lowbit_vendor_descriptor3* descriptor3() const { return descriptor3_; }
  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_, name_;
  void* handle_ = nullptr;
  const lowbit_vendor_descriptor* descriptor_ = nullptr;
  const lowbit_vendor_descriptor3* descriptor3_ = nullptr;
  fp8::FormatSet fp8_formats_ = 0;
};

// One group of checks: its row in the report.
struct PluginGroup {
  std::string format, profile;
};

// How a group runs.
struct GroupRun {
  bool isolate = true;  // in a fork()ed child (conform's default), or in this process (--in-process)
  std::size_t max_errors = 8;
  double timeout = kCallTimeout;  // seconds a plugin call may run
};

// Loads the plugin. With `isolate`, first in a child process (dlopen, the library's constructors and
// the descriptor call), so that a plugin that crashes, exits or hangs there is a PluginError ("plugin
// crashed while loading (signal 11 ...)"), not the end of lowbit.
Plugin load_plugin(const std::string& path, bool isolate, double timeout_s);

// Runs suite() — checks of the rows below, made inside it — then appends the check "plugin status
// codes" (one case per call, one error per call that returned an error; the first errors name the call,
// its options and the status's meaning). A call that returns LOWBIT_E_UNSUPPORTED throws
// NotSupported from the row: the suite's check runner reports that check "not supported". Every
// output buffer a call gets lies between guard bytes: a call that writes outside one fails the check
// running ("fp8_encode_f32(...) wrote past the end of out (n=4096, 4 bytes)", listed first). With
// `isolate` the group runs in a fork()ed child in its own process group (killed when it ends, with any
// helper process the plugin started); a child that dies gives the failed check "plugin crashed (signal
// N)" (or "(exit status N)"), a call that runs longer than the timeout "plugin timed out". In this
// process, a call that runs longer ends lowbit (status 1, a line on stderr), and so does exit() in a
// plugin call. A suite that throws anything else gives the failed check "suite error".
std::vector<Check> run_plugin_group(const Plugin& plugin, const PluginGroup& group,
                                    const std::function<std::vector<Check>()>& suite, const GroupRun& run);

// The failed check of a group the plugin cannot run: "not implemented by the plugin", with `why`.
Check not_implemented(const Plugin& plugin, const PluginGroup& group, std::string why);

// The plugin's functions as kernel-table rows named after the plugin, null slots where it has none;
// valid inside run_plugin_group while the plugin is loaded. FP8 calls pass `profile`'s name.
fp8::Impl plugin_fp8(const Plugin& plugin, const fp8::Profile& profile);
gse::Impl plugin_gse(const Plugin& plugin);
gse::GemmImpl plugin_gse_gemm(const Plugin& plugin);
mx::Impl plugin_mx(const Plugin& plugin);
nf4::Impl plugin_nf4(const Plugin& plugin);
nvfp4::Impl plugin_nvfp4(const Plugin& plugin);  // null slots for a plugin before version 3
qeft::Impl plugin_qeft(const Plugin& plugin);

// A suite's checks that exercise a slot the row fills: a null FP8 or GSE slot falls back to lowbit's
// reference in the kernel table, so its checks would test lowbit, not the plugin.
std::vector<Check> exercised(const fp8::Impl& row, std::vector<Check> checks);
std::vector<Check> exercised(const gse::Impl& row, std::vector<Check> checks);

}  // namespace lowbit::conformance
