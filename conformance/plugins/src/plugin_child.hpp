// Plugin code in a child process: a crash, an exit() or a call that never returns ends the child, not
// lowbit. The child runs in its own process group, so that the helper processes a plugin starts end
// with it; the parent reads its result while it watches the child's plugin calls (plugin_calls::progress)
// and does not wait for the pipe's end alone (a helper may hold it open).
#pragma once
#include <functional>
#include <string>

namespace lowbit::conformance {

struct ChildResult {
  std::string data;        // what body returned, as far as it came
  int status = 0;          // the child's wait status
  bool timed_out = false;  // a plugin call ran longer than the timeout: the child was killed
};

// body() in a fork()ed child; its process group is killed when the child ends or times out.
ChildResult run_in_child(const std::function<std::string()>& body, double timeout_s);

// "signal 11 (Segmentation fault)" or "exit status N", of a wait status.
std::string describe_status(int status);

}  // namespace lowbit::conformance
