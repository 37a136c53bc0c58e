#include "lowbit/conformance/output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "lowbit/error.hpp"

namespace lowbit::conformance {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(std::string_view what, const std::string& name, int err) {
  throw Error(fmt::format("{} '{}': {}", what, name, std::strerror(err)), Errc::io);
}

// ---- The registry of live temporary paths, read by the signal handler: fixed slots, no allocation.
struct Slot {
  std::atomic<int> state{0};  // 0 free, 1 being filled, 2 live
  bool dir = false;           // a flat folder: its files, then itself
  pid_t owner = 0;            // a forked child (a plugin's) leaves its parent's paths alone
  char path[PATH_MAX] = {};
};
std::array<Slot, 16> slots;
constexpr int kSignals[] = {SIGHUP, SIGINT, SIGTERM};

// Async-signal-safe: raw getdents64, unlinkat, rmdir.
void remove_flat_dir(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    alignas(8) char buf[4096];
    long n;
    while ((n = ::syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
      for (long off = 0; off < n;) {
        const char* name = buf + off + 19;  // linux_dirent64: ino 8, off 8, reclen 2, type 1, name
        unsigned short reclen;
        std::memcpy(&reclen, buf + off + 16, sizeof reclen);
        if (std::strcmp(name, ".") != 0 && std::strcmp(name, "..") != 0) ::unlinkat(fd, name, 0);
        off += reclen;
      }
    }
    ::close(fd);
  }
  ::rmdir(path);
}

void on_signal(int sig) {
  const pid_t self = ::getpid();
  for (const bool dirs : {false, true})
    for (Slot& s : slots)
      if (s.state.load() == 2 && s.owner == self && s.dir == dirs) dirs ? remove_flat_dir(s.path) : void(::unlink(s.path));
  ::raise(sig);  // SA_RESETHAND restored the default action: the process ends by this signal
}

void install() {
  struct sigaction sa = {}, old = {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESETHAND;
  sigfillset(&sa.sa_mask);
  for (const int sig : kSignals)
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler != SIG_IGN) ::sigaction(sig, &sa, nullptr);
  std::signal(SIGXFSZ, SIG_IGN);
}

int register_temp(const fs::path& p, bool dir) {
  static std::once_flag once;
  std::call_once(once, install);
  if (p.native().size() >= PATH_MAX) fail("cannot create", p.string(), ENAMETOOLONG);
  for (std::size_t i = 0; i < slots.size(); ++i) {
    int free = 0;
    if (!slots[i].state.compare_exchange_strong(free, 1)) continue;
    std::memcpy(slots[i].path, p.c_str(), p.native().size() + 1);
    slots[i].dir = dir;
    slots[i].owner = ::getpid();
    slots[i].state.store(2);
    return static_cast<int>(i);
  }
  throw Error("more than 16 temporary outputs at once", Errc::internal);
}

void unregister_temp(int& slot) {
  if (slot >= 0) slots[slot].state.store(0);
  slot = -1;
}

// `base`.tmp.<pid>, or .tmp.<pid>.N if taken, created by make(path) -> 0 or an errno; registered
// before it exists, so that no signal can come between its creation and its registration. Errors name
// the output as the user gave it, `shown`.
fs::path create_temp(const fs::path& base, const std::string& shown, bool dir, int& slot,
                     const std::function<int(const fs::path&)>& make) {
  for (int n = 0;; ++n) {
    fs::path p = base;
    p += n ? fmt::format(".tmp.{}.{}", ::getpid(), n) : fmt::format(".tmp.{}", ::getpid());
    slot = register_temp(p, dir);
    const int err = make(p);
    if (err == 0) return p;
    unregister_temp(slot);
    if (err != EEXIST || n == 99) fail("cannot write", shown, err);
  }
}

// The path a chain of symlinks ends at (the path itself when it is no symlink).
fs::path follow_links(const std::string& name) {
  fs::path p = name;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    std::string target(PATH_MAX, '\0');
    const ssize_t n = ::readlink(p.c_str(), target.data(), target.size());
    if (n < 0) fail("cannot read the link", name, errno);
    target.resize(static_cast<std::size_t>(n));
    p = fs::path(target).is_absolute() ? fs::path(target) : p.parent_path() / target;
  }
  fail("cannot write", name, ELOOP);
}

// A name whose last component is not empty ("set/" -> "set").
fs::path without_trailing_slash(fs::path p) {
  while (p.has_parent_path() && p.filename().empty() && p != p.root_path()) p = p.parent_path();
  return p;
}

}  // namespace

OutputFile::OutputFile(const std::string& path) : name_(path), final_(follow_links(path)) {
  struct stat st;
  const bool exists = ::stat(final_.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) fail("cannot write", name_, errno);
  if (exists && S_ISDIR(st.st_mode)) throw Error(fmt::format("cannot write '{}': '{}' is a directory", name_, name_), Errc::io);
  if (exists && !S_ISREG(st.st_mode)) {  // a FIFO, a device: written in place, as it streams
    f_ = std::fopen(final_.c_str(), "wb");
    if (!f_) fail("cannot write", name_, errno);
    return;
  }
  int fd = -1;
  temp_ = create_temp(final_, name_, false, slot_, [&](const fs::path& p) {
    fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    return fd < 0 ? errno : 0;
  });
  // The umask applied to a new file; an existing one keeps its mode.
  if ((exists && ::fchmod(fd, st.st_mode & 07777) != 0) || !(f_ = ::fdopen(fd, "wb"))) {
    const int err = errno;
    ::close(fd);
    ::unlink(temp_.c_str());
    unregister_temp(slot_);
    fail("cannot write", name_, err);
  }
}

OutputFile::OutputFile() : name_("standard output"), f_(stdout) {}

OutputFile::~OutputFile() {
  if (f_ && f_ != stdout) std::fclose(f_);
  if (slot_ >= 0) ::unlink(temp_.c_str());
  unregister_temp(slot_);
}

void OutputFile::write(std::span<const std::uint8_t> bytes) {
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f_) != bytes.size()) fail("cannot write", name_, errno);
}

void OutputFile::commit() {
  if (std::fflush(f_) != 0) fail("cannot write", name_, errno);
  if (f_ == stdout) return;
  const int closed = std::fclose(f_);
  f_ = nullptr;
  if (closed != 0) fail("cannot write", name_, errno);
  if (temp_.empty()) return;
  if (::rename(temp_.c_str(), final_.c_str()) != 0) fail("cannot create", name_, errno);  // the destructor removes temp_
  unregister_temp(slot_);
}

OutputDir::OutputDir(const std::string& dir, std::function<bool(const fs::path&)> replaceable)
    : name_(dir), final_(without_trailing_slash(follow_links(without_trailing_slash(dir).string()))),
      replaceable_(std::move(replaceable)) {
  const Target target = check();
  std::error_code ec;
  if (target == Target::missing && final_.has_parent_path() && !fs::create_directories(final_.parent_path(), ec) && ec)
    fail("cannot create the folder of", name_, ec.value());
  struct stat st;
  const bool keep_mode = target != Target::missing && ::stat(final_.c_str(), &st) == 0;
  temp_ = create_temp(final_, name_, true, slot_, [&](const fs::path& p) {
    return ::mkdir(p.c_str(), keep_mode ? 0700 : 0777) == 0 && (!keep_mode || ::chmod(p.c_str(), st.st_mode & 07777) == 0) ? 0 : errno;
  });
}

OutputDir::~OutputDir() {
  if (slot_ < 0) return;
  std::error_code ec;
  fs::remove_all(temp_, ec);  // does not follow links
  unregister_temp(slot_);
}

OutputDir::Target OutputDir::check() const {
  struct stat st;
  if (::lstat(final_.c_str(), &st) != 0) {
    if (errno == ENOENT) return Target::missing;
    fail("cannot write", name_, errno);
  }
  if (!S_ISDIR(st.st_mode)) throw Error(fmt::format("cannot write '{}': it exists and is not a folder", name_), Errc::io);
  std::error_code ec;
  const bool empty = fs::is_empty(final_, ec);
  if (ec) fail("cannot read", name_, ec.value());
  if (empty) return Target::empty;
  if (replaceable_(final_)) return Target::replace;
  throw Error(fmt::format("cannot write '{}': '{}' is not empty and not a set this command may replace (give a new or "
                          "empty folder)", name_, name_), Errc::io);
}

void OutputDir::write(const std::string& name, std::span<const std::uint8_t> bytes) {
  const std::string shown = (fs::path(name_) / name).string();
  const int fd = ::open((temp_ / name).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) fail("cannot write", shown, errno);
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      fail("cannot write", shown, err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) fail("cannot write", shown, errno);
}

void OutputDir::commit() {
  const Target target = check();  // again: DIR may have changed while the set was generated
  if (target == Target::replace) {
    if (::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, final_.c_str(), RENAME_EXCHANGE) != 0)
      fail("cannot replace", name_, errno);
    // temp_ now names the older set, which the destructor removes.
    return;
  }
  if (::rename(temp_.c_str(), final_.c_str()) != 0) fail("cannot create", name_, errno);
  unregister_temp(slot_);
}

}  // namespace lowbit::conformance
