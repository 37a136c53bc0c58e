#include "lowbit/conformance/plugin.hpp"

#include <dlfcn.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <functional>
#include <mutex>
#include <string_view>
#include <type_traits>

#include "lowbit/conformance/block_suite.hpp"
#include "lowbit/conformance/nf4_suite.hpp"
#include "lowbit/conformance/weak_suite.hpp"
#include "lowbit/formats/fp8.hpp"
#include "lowbit/formats/nf4.hpp"

namespace lowbit::conformance {

static_assert(LOWBIT_FP8_E4M3 == static_cast<unsigned>(fp8::Format::e4m3) &&
              LOWBIT_FP8_E5M2 == static_cast<unsigned>(fp8::Format::e5m2));
static_assert(LOWBIT_ROUND_RNE == static_cast<unsigned>(Rounding::rne) &&
              LOWBIT_ROUND_RNA == static_cast<unsigned>(Rounding::rna) &&
              LOWBIT_ROUND_RTZ == static_cast<unsigned>(Rounding::rtz) &&
              LOWBIT_ROUND_SR == static_cast<unsigned>(Rounding::sr));
static_assert(LOWBIT_NF4_TABLE_NF4 == static_cast<unsigned>(nf4::Table::nf4) &&
              LOWBIT_NF4_TABLE_FP4 == static_cast<unsigned>(nf4::Table::fp4));
static_assert(LOWBIT_GSE_MANTISSA_SATURATE == static_cast<unsigned>(gse::MantissaOverflow::saturate) &&
              LOWBIT_GSE_MANTISSA_BUMP == static_cast<unsigned>(gse::MantissaOverflow::bump) &&
              LOWBIT_GSE_EXPONENT_SATURATE == static_cast<unsigned>(gse::ExponentOverflow::saturate) &&
              LOWBIT_GSE_EXPONENT_NAN == static_cast<unsigned>(gse::ExponentOverflow::nan));
static_assert(LOWBIT_MX_INT8 == static_cast<unsigned>(mx::Format::int8) &&
              LOWBIT_MX_FP8_E4M3 == static_cast<unsigned>(mx::Format::fp8_e4m3) &&
              LOWBIT_MX_FP8_E5M2 == static_cast<unsigned>(mx::Format::fp8_e5m2) &&
              LOWBIT_MX_FP6_E3M2 == static_cast<unsigned>(mx::Format::fp6_e3m2) &&
              LOWBIT_MX_FP6_E2M3 == static_cast<unsigned>(mx::Format::fp6_e2m3) &&
              LOWBIT_MX_FP4_E2M1 == static_cast<unsigned>(mx::Format::fp4_e2m1));
static_assert(LOWBIT_GSE_ACCUMULATE_EXACT == static_cast<unsigned>(gse::Accumulate::exact) &&
              LOWBIT_GSE_ACCUMULATE_FP32 == static_cast<unsigned>(gse::Accumulate::fp32));
static_assert(sizeof(f16) == 2 && sizeof(bf16) == 2);

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

namespace {

bool has_fp8(const lowbit_vendor_descriptor& d) {
  return d.fp8_encode_f32 || d.fp8_encode_f64 || d.fp8_encode_f16 || d.fp8_encode_bf16 || d.fp8_decode_f32 ||
         d.fp8_decode_f16 || d.fp8_decode_bf16;
}
bool has_nf4(const lowbit_vendor_descriptor& d) { return d.nf4_quantize_f32 || d.nf4_dequantize_f32; }
bool has_gse(const lowbit_vendor_descriptor& d) {
  return d.gse_encode_f32 || d.gse_encode_f16 || d.gse_encode_bf16 || d.gse_decode_f32 || d.gse_decode_f16 ||
         d.gse_decode_bf16;
}
bool has_mx(const lowbit_vendor_descriptor& d) { return d.mx_encode_f32 || d.mx_decode_f32; }

}  // namespace

std::vector<std::string> Plugin::formats() const {
  std::vector<std::string> out;
  if (has_fp8(*descriptor_)) out.insert(out.end(), {"e4m3", "e5m2"});
  if (has_gse(*descriptor_)) out.push_back("gse");
  if (descriptor_->gse_gemm_f32) out.push_back("gse-gemm");
  if (has_mx(*descriptor_)) out.push_back("mx");
  if (has_nf4(*descriptor_)) out.push_back("nf4");
  if (descriptor_->qeft_matvec_f32) out.push_back("qeft");
  return out;
}

namespace {

// The plugin a group runs on. Kernel-table slots are plain function pointers, so the adapters find
// it here; a group runs alone (in its own child process, or in turn).
struct Active {
  const lowbit_vendor_descriptor* d = nullptr;
  std::string profile;  // the FP8 profile of the group
  std::size_t max_errors = 8;
  std::atomic<std::uint64_t> calls{0}, failures{0};
  std::mutex m;
  std::vector<std::string> first;
} g_active;

// One plugin call's status; `call` names it (formatted only for a failure).
template <class Call> void record(int status, Call call) {
  g_active.calls.fetch_add(1, std::memory_order_relaxed);
  if (status == LOWBIT_VENDOR_OK) return;
  if (g_active.failures.fetch_add(1, std::memory_order_relaxed) < g_active.max_errors) {
    std::lock_guard lock(g_active.m);
    g_active.first.push_back(fmt::format("{} => plugin returned error {}", call(), status));
  }
}
void record(std::string_view fn, std::string_view type, std::size_t n, int status) {
  record(status, [&] { return fmt::format("{}{}(n={})", fn, type, n); });
}

lowbit_fp8_options fp8_options(fp8::Format f, Rounding r, std::uint64_t seed, std::uint64_t index0,
                               const std::uint32_t* random_bits) {
  return {static_cast<std::uint32_t>(f), static_cast<std::uint32_t>(r), g_active.profile.c_str(), seed, index0,
          random_bits};
}

template <class T> constexpr std::string_view type_name() {
  if constexpr (std::is_same_v<T, float>) return "f32";
  else if constexpr (std::is_same_v<T, double>) return "f64";
  else if constexpr (std::is_same_v<T, f16>) return "f16";
  else return "bf16";
}

template <class In, class Raw, auto Slot>
void encode(std::size_t n, const In* in, std::uint8_t* out, const fp8::EncodeParams* p) {
  const lowbit_fp8_options o = fp8_options(p->format, p->rounding, p->seed, p->index0, p->random_bits);
  record("fp8_encode_", type_name<In>(), n, (g_active.d->*Slot)(n, reinterpret_cast<const Raw*>(in), out, &o));
}
template <class Out, class Raw, auto Slot>
void decode(std::size_t n, const std::uint8_t* in, Out* out, const fp8::DecodeParams* p) {
  const lowbit_fp8_options o = fp8_options(p->format, Rounding::rne, 0, 0, nullptr);
  record("fp8_decode_", type_name<Out>(), n, (g_active.d->*Slot)(n, in, reinterpret_cast<Raw*>(out), &o));
}

void nf4_quantize(std::size_t n, const float* in, std::uint8_t* packed, float* absmax, const nf4::Params* p) {
  const std::string profile(p->profile.name);
  const lowbit_nf4_options o{static_cast<std::uint32_t>(p->table), p->block, profile.c_str()};
  record("nf4_quantize_f32", "", n, g_active.d->nf4_quantize_f32(n, in, packed, absmax, &o));
}
void nf4_dequantize(std::size_t n, const std::uint8_t* packed, const float* absmax, float* out, const nf4::Params* p) {
  const std::string profile(p->profile.name);
  const lowbit_nf4_options o{static_cast<std::uint32_t>(p->table), p->block, profile.c_str()};
  record("nf4_dequantize_f32", "", n, g_active.d->nf4_dequantize_f32(n, packed, absmax, out, &o));
}

lowbit_gse_format gse_format(const gse::Format& f) {
  return {f.bits, f.group, f.exp_bits, f.exp_bias, f.exp_offset, static_cast<std::uint32_t>(f.mantissa_overflow),
          static_cast<std::uint32_t>(f.exponent_overflow)};
}

template <class In, class Raw, auto Slot>
void gse_encode(std::size_t n, const In* in, std::int8_t* codes, std::uint8_t* exps, const gse::EncodeParams* p,
                BlockStats* stats) {
  const lowbit_gse_options o{gse_format(p->format), static_cast<std::uint32_t>(p->rounding), p->seed, p->index0,
                             p->random_bits};
  lowbit_gse_stats s{};
  record("gse_encode_", type_name<In>(), n, (g_active.d->*Slot)(n, reinterpret_cast<const Raw*>(in), codes, exps, &s, &o));
  if (stats) *stats += {s.groups, s.nan_groups, s.exp_underflow, s.exp_overflow, s.bumped, s.saturated};
}
template <class Out, class Raw, auto Slot>
void gse_decode(std::size_t n, const std::int8_t* codes, const std::uint8_t* exps, Out* out, const gse::Format* f) {
  const lowbit_gse_format c = gse_format(*f);
  record("gse_decode_", type_name<Out>(), n, (g_active.d->*Slot)(n, codes, exps, reinterpret_cast<Raw*>(out), &c));
}

void gse_gemm(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, const std::uint8_t* a_exps, const std::int8_t* b,
              const std::uint8_t* b_exps, float* c, const gse::GemmParams* p) {
  const lowbit_gse_format fa = gse_format(p->a), fb = gse_format(p->b);
  record(g_active.d->gse_gemm_f32(m, n, k, a, a_exps, b, b_exps, &fa, &fb, static_cast<std::uint32_t>(p->accumulate), c),
         [&] { return fmt::format("gse_gemm_f32(m={}, n={}, k={}, {})", m, n, k, p->accumulate == gse::Accumulate::exact ? "exact" : "fp32"); });
}

void mx_encode(std::size_t n, const float* in, std::uint8_t* codes, std::uint8_t* scales, const mx::EncodeParams* p,
               BlockStats*) {
  const lowbit_mx_options o{static_cast<std::uint32_t>(p->format), static_cast<std::uint32_t>(p->rounding), p->seed, p->index0};
  record("mx_encode_f32", "", n, g_active.d->mx_encode_f32(n, in, codes, scales, &o));
}
void mx_decode(std::size_t n, const std::uint8_t* codes, const std::uint8_t* scales, float* out, const mx::DecodeParams* p) {
  const lowbit_mx_options o{static_cast<std::uint32_t>(p->format), LOWBIT_ROUND_RNE, 0, 0};
  record("mx_decode_f32", "", n, g_active.d->mx_decode_f32(n, codes, scales, out, &o));
}

void qeft_matvec(const qeft::Matrix* w, const float* x, float* y) {
  const lowbit_qeft_matrix m{w->oc, w->ic, w->k, w->group, w->qweight, w->scales, w->scaled_zeros, w->oweight};
  record(g_active.d->qeft_matvec_f32(&m, x, y),
         [&] { return fmt::format("qeft_matvec_f32(oc={}, ic={}, k={}, group={})", w->oc, w->ic, w->k, w->group); });
}

template <class Fn, class D> Fn slot_if(bool present, D fn) { return present ? Fn(fn) : nullptr; }

fp8::Impl fp8_impl(const lowbit_vendor_descriptor& d, const char* name) {
  using D = lowbit_vendor_descriptor;
  return {name, 1, 0,
          slot_if<fp8::EncodeFn<float>>(d.fp8_encode_f32, encode<float, float, &D::fp8_encode_f32>),
          slot_if<fp8::EncodeFn<double>>(d.fp8_encode_f64, encode<double, double, &D::fp8_encode_f64>),
          slot_if<fp8::EncodeFn<f16>>(d.fp8_encode_f16, encode<f16, std::uint16_t, &D::fp8_encode_f16>),
          slot_if<fp8::EncodeFn<bf16>>(d.fp8_encode_bf16, encode<bf16, std::uint16_t, &D::fp8_encode_bf16>),
          slot_if<fp8::DecodeFn<float>>(d.fp8_decode_f32, decode<float, float, &D::fp8_decode_f32>),
          slot_if<fp8::DecodeFn<f16>>(d.fp8_decode_f16, decode<f16, std::uint16_t, &D::fp8_decode_f16>),
          slot_if<fp8::DecodeFn<bf16>>(d.fp8_decode_bf16, decode<bf16, std::uint16_t, &D::fp8_decode_bf16>)};
}

gse::Impl gse_impl(const lowbit_vendor_descriptor& d, const char* name) {
  using D = lowbit_vendor_descriptor;
  return {name, 1, 0,
          slot_if<gse::EncodeFn<float>>(d.gse_encode_f32, gse_encode<float, float, &D::gse_encode_f32>),
          slot_if<gse::EncodeFn<f16>>(d.gse_encode_f16, gse_encode<f16, std::uint16_t, &D::gse_encode_f16>),
          slot_if<gse::EncodeFn<bf16>>(d.gse_encode_bf16, gse_encode<bf16, std::uint16_t, &D::gse_encode_bf16>),
          slot_if<gse::DecodeFn<float>>(d.gse_decode_f32, gse_decode<float, float, &D::gse_decode_f32>),
          slot_if<gse::DecodeFn<f16>>(d.gse_decode_f16, gse_decode<f16, std::uint16_t, &D::gse_decode_f16>),
          slot_if<gse::DecodeFn<bf16>>(d.gse_decode_bf16, gse_decode<bf16, std::uint16_t, &D::gse_decode_bf16>)};
}

// Does a check of the GSE suite ("encode T groups ...", "decode T ...", "stream T encode+decode
// ...") exercise an operation the plugin implements? Null slots fall back to the reference, as FP8's.
bool gse_exercised(const Check& c, const gse::Impl& impl) {
  std::string_view n = c.name;
  const std::string_view kind = n.substr(0, n.find(' '));
  n.remove_prefix(std::min(n.size(), kind.size() + 1));
  const std::string_view type = n.substr(0, n.find(' '));
  const bool enc = type == "f32" ? impl.encode_f32 != nullptr : type == "f16" ? impl.encode_f16 != nullptr : impl.encode_bf16 != nullptr;
  const bool dec = type == "f32" ? impl.decode_f32 != nullptr : type == "f16" ? impl.decode_f16 != nullptr : impl.decode_bf16 != nullptr;
  if (kind == "encode") return enc;
  if (kind == "decode") return dec;
  return kind == "stream" ? enc || dec : true;
}

template <class Keep> std::vector<Check> kept(std::vector<Check> all, Keep keep) {
  std::vector<Check> out;
  for (Check& c : all)
    if (keep(c)) out.push_back(std::move(c));
  return out;
}

// Does a check of the FP8 suite exercise an operation the plugin implements? (Null slots fall back
// to the reference in the kernel table; their checks would test lowbit, not the plugin.)
bool exercised(const Check& c, const fp8::Impl& impl) {
  std::string_view n = c.name;
  const bool is_decode = n.starts_with("decode ");
  if (is_decode) n.remove_prefix(7);
  const std::string_view type = n.substr(0, n.find(' '));
  if (is_decode) {
    if (type == "f32") return impl.decode_f32 != nullptr;
    if (type == "f16") return impl.decode_f16 != nullptr;
    if (type == "bf16") return impl.decode_bf16 != nullptr;
    return true;
  }
  if (type == "f32") return impl.encode_f32 != nullptr;
  if (type == "f64") return impl.encode_f64 != nullptr;
  if (type == "f16") return impl.encode_f16 != nullptr;
  if (type == "bf16") return impl.encode_bf16 != nullptr;
  return true;
}

Check failed_check(const std::string& impl, const std::string& format, const std::string& profile, std::string name,
                   std::string detail = {}) {
  Check c(impl, format, profile, std::move(name));
  c.cases = c.errors = 1;
  if (!detail.empty()) c.first_errors.push_back(std::move(detail));
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
    for (const std::string* f : {&c.impl, &c.format, &c.profile, &c.name}) put_str(s, *f);
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
    for (std::string* f : {&c.impl, &c.format, &c.profile, &c.name}) *f = r.str();
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
std::vector<Check> run_direct(const std::function<std::vector<Check>()>& suite, const std::string& impl,
                              const std::string& format, const std::string& profile, std::size_t max_errors) {
  g_active.calls = 0;
  g_active.failures = 0;
  g_active.first.clear();
  g_active.max_errors = max_errors;
  std::vector<Check> out;
  try {
    out = suite();
  } catch (const std::exception& e) {
    out.push_back(failed_check(impl, format, profile, "suite error", e.what()));
  }
  time_checks(out, std::chrono::steady_clock::now());
  Check status(impl, format, profile, "plugin status codes");
  status.cases = g_active.calls.load();
  status.errors = g_active.failures.load();
  status.first_errors = g_active.first;
  out.push_back(std::move(status));
  return out;
}

std::vector<Check> run_group(const std::function<std::vector<Check>()>& suite, const std::string& impl,
                             const std::string& format, const std::string& profile, const PluginSuiteOptions& o) {
  if (!o.isolate) return run_direct(suite, impl, format, profile, o.max_errors);
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    ::close(fds[0]);
    const bool ok = write_all(fds[1], serialize(run_direct(suite, impl, format, profile, o.max_errors)));
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
    out.push_back(failed_check(impl, format, profile, fmt::format("plugin crashed (signal {})", sig),
                               fmt::format("the child process running this group died of signal {} ({}); "
                                           "its checks are lost",
                                           sig, what ? what : "?")));
  } else if (!complete || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    out.push_back(failed_check(impl, format, profile, fmt::format("plugin crashed (exit status {})", code),
                               "the child process running this group ended before it reported"));
  }
  return out;
}

}  // namespace

std::vector<Check> run_plugin_suites(const Plugin& plugin, const GoldenDir& golden, const PluginSuiteOptions& o) {
  const lowbit_vendor_descriptor& d = plugin.descriptor();
  const std::string& impl_name = plugin.name();
  const std::vector<std::string> formats = o.formats.empty() ? plugin.formats() : o.formats;
  std::vector<const fp8::Profile*> profiles;
  for (const std::string& s : o.profiles) {
    const fp8::Profile* p = fp8::find_profile(s);
    if (!p) throw std::invalid_argument(fmt::format("unknown FP8 profile '{}'", s));
    profiles.push_back(p);
  }
  if (profiles.empty()) profiles = Fp8SuiteOptions::all_profiles();
  for (const std::string& f : formats)
    if (f != "e4m3" && f != "e5m2" && f != "gse" && f != "gse-gemm" && f != "mx" && f != "nf4" && f != "qeft")
      throw std::invalid_argument(fmt::format("unknown plugin format '{}' (valid: e4m3, e5m2, gse, gse-gemm, mx, nf4, qeft)", f));

  g_active.d = &d;
  std::vector<Check> out;
  auto add = [&](std::vector<Check> c) { out.insert(out.end(), std::make_move_iterator(c.begin()), std::make_move_iterator(c.end())); };
  const fp8::Impl fp8 = fp8_impl(d, impl_name.c_str());
  const gse::Impl gse = gse_impl(d, impl_name.c_str());
  const nf4::Impl nf4{impl_name.c_str(), 1, 0, nf4_quantize, nf4_dequantize};
  const mx::Impl mx{impl_name.c_str(), 1, 0, mx_encode, mx_decode};
  const qeft::Impl qeft{impl_name.c_str(), 1, 0, qeft_matvec};
  const gse::GemmImpl gemm{impl_name.c_str(), 1, 0, gse_gemm};
  BlockSuiteOptions bo;
  bo.max_errors = o.max_errors;
  bo.seed = o.seed;
  bo.groups = o.groups;
  // A block format's suite in one group, or the failed check naming the functions it needs.
  const auto block_group = [&](const std::string& f, bool present, const char* needs, const std::function<std::vector<Check>()>& suite) {
    if (present) add(run_group(suite, impl_name, f, "all", o));
    else out.push_back(failed_check(impl_name, f, "all", "not implemented by the plugin", needs));
  };
  for (const std::string& f : formats) {
    if (f == "gse") {
      block_group(f, has_gse(d), "no gse_* function",
                  [&] { return kept(run_gse_suite(gse, bo), [&](const Check& c) { return gse_exercised(c, gse); }); });
      continue;
    }
    if (f == "gse-gemm") {
      block_group(f, d.gse_gemm_f32 != nullptr, "no gse_gemm_f32", [&] { return run_gse_gemm_suite(gemm, bo); });
      continue;
    }
    if (f == "mx") {
      block_group(f, d.mx_encode_f32 && d.mx_decode_f32, "the MX suite needs both mx_encode_f32 and mx_decode_f32",
                  [&] { return run_mx_suite(mx, golden, bo); });
      continue;
    }
    if (f == "nf4") {
      block_group(f, d.nf4_quantize_f32 && d.nf4_dequantize_f32,
                  "the NF4 suite needs both nf4_quantize_f32 and nf4_dequantize_f32",
                  [&] { return run_nf4_suite(nf4, golden, bo); });
      continue;
    }
    if (f == "qeft") {
      block_group(f, d.qeft_matvec_f32 != nullptr, "no qeft_matvec_f32", [&] { return run_weak_suite(qeft, golden, bo); });
      continue;
    }
    const fp8::Format format = f == "e4m3" ? fp8::Format::e4m3 : fp8::Format::e5m2;
    if (!has_fp8(d)) {
      out.push_back(failed_check(impl_name, f, "all", "not implemented by the plugin", "no fp8_* function"));
      continue;
    }
    for (const fp8::Profile* p : profiles) {
      Fp8SuiteOptions so;
      so.level = o.level;
      so.threads = std::max(1u, o.threads);
      so.max_errors = o.max_errors;
      so.seed = o.seed;
      so.random_cases = o.random_cases;
      so.formats = {format};
      so.profiles = {p};
      const std::string profile(p->name);
      add(run_group(
          [&] {
            g_active.profile = profile;
            return kept(run_fp8_suite(fp8, golden, so), [&](const Check& c) { return exercised(c, fp8); });
          },
          impl_name, f, profile, o));
    }
  }
  return out;
}

}  // namespace lowbit::conformance
