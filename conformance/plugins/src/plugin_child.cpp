#include "plugin_child.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "plugin_calls.hpp"

namespace lowbit::conformance {
namespace {

bool write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t w = ::write(fd, s.data(), s.size());
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    s.remove_prefix(static_cast<std::size_t>(w));
  }
  return true;
}

// Appends what the non-blocking pipe holds now; false at its end.
bool drain(int fd, std::string& data) {
  char buf[65536];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r > 0) data.append(buf, static_cast<std::size_t>(r));
    else if (r < 0 && errno == EINTR) continue;
    else return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

bool child_exited(pid_t pid) {  // without reaping it: its pid, the group's id, stays taken
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

}  // namespace

ChildResult run_in_child(const std::function<std::string()>& body, double timeout_s) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
  plugin_calls::progress().reset();
  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a lowbit that is killed leaves no child running its sweeps
    if (::getppid() != parent) ::_exit(3);
    ::close(fds[0]);
    bool ok = false;
    try {
      ok = write_all(fds[1], body());
    } catch (...) {  // never back into the parent's code
    }
    ::close(fds[1]);
    ::_exit(ok ? 0 : 3);  // no atexit handlers, no destructors of the parent's objects
  }
  ::setpgid(pid, pid);  // here too: the group exists before the parent may kill it
  ::close(fds[1]);
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  ChildResult r;
  bool open = true;
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    ::poll(open ? &p : nullptr, open ? 1 : 0, 100);  // wakes to watch the calls
    if (open) open = drain(fds[0], r.data);
    if (child_exited(pid)) {
      if (open) drain(fds[0], r.data);  // all it wrote is in the pipe: it wrote before it exited
      break;
    }
    if (plugin_calls::progress().stalled(timeout_s)) {
      r.timed_out = true;
      break;
    }
  }
  ::kill(-pid, SIGKILL);  // the child if it still runs, and the helpers of its group
  while (::waitpid(pid, &r.status, 0) < 0 && errno == EINTR) {
  }
  ::close(fds[0]);
  return r;
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    const char* what = ::strsignal(WTERMSIG(status));
    return fmt::format("signal {} ({})", WTERMSIG(status), what ? what : "?");
  }
  return fmt::format("exit status {}", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

}  // namespace lowbit::conformance
