// User-named outputs (lowbit/conformance/output.hpp): a signal in the middle of writing leaves no
// temporary file or folder, and the process ends by that signal; a failed set leaves nothing.
// The end-to-end checks of each kind of -o path are in cli_test.sh.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <vector>

#include "lowbit/conformance/output.hpp"
#include "lowbit/error.hpp"
#include "testing/temp_dir.hpp"

namespace fs = std::filesystem;
using lowbit::conformance::OutputDir;
using lowbit::conformance::OutputFile;

namespace {

#ifdef LOWBIT_TESTS_EMULATED
constexpr bool kForkWorks = false;
#else
constexpr bool kForkWorks = true;
#endif

const std::vector<std::uint8_t> kBytes(1000, 7);

// Runs f in a child process, which then raises `sig`: the child must end by `sig` and leave `dir`
// (fresh) as empty as it found it.
template <class F> void expect_signal_leaves_nothing(int sig, const fs::path& dir, F f) {
  fs::create_directories(dir);
  const pid_t pid = ::fork();
  if (pid == 0) {
    f();
    ::raise(sig);
    ::_exit(0);  // not reached: the signal ends the child
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << sig;
  EXPECT_EQ(WTERMSIG(status), sig);
  EXPECT_TRUE(fs::is_empty(dir)) << fs::directory_iterator(dir)->path();
}

bool never(const fs::path&) { return false; }

}  // namespace

TEST(Output, ASignalRemovesTheTemporaryFileAndEndsTheProcessByIt) {
  if (!kForkWorks) GTEST_SKIP() << "fork() hangs under qemu-user; cli_test.sh signals the tool there";
  const fs::path dir = fresh_temp_path("lowbit_output_signal");
  for (const int sig : {SIGINT, SIGTERM, SIGHUP})
    expect_signal_leaves_nothing(sig, dir, [&] {
      static OutputFile out((dir / "out.bin").string());  // static: alive when the signal comes
      out.write(kBytes);
      std::fflush(out.get());
    });
  fs::remove_all(dir);
}

TEST(Output, ASignalRemovesTheTemporaryFolderOfASet) {
  if (!kForkWorks) GTEST_SKIP() << "fork() hangs under qemu-user";
  const fs::path dir = fresh_temp_path("lowbit_output_set_signal");
  expect_signal_leaves_nothing(SIGTERM, dir, [&] {
    static OutputDir out((dir / "set").string(), never);
    out.write("a.npy", kBytes);
    out.write("b.npy", kBytes);
  });
  fs::remove_all(dir);
}

TEST(Output, AChildProcessLeavesItsParentsTemporaryFileAlone) {
  if (!kForkWorks) GTEST_SKIP() << "fork() hangs under qemu-user";
  const fs::path dir = fresh_temp_path("lowbit_output_child");
  fs::create_directories(dir);
  OutputFile out((dir / "out.bin").string());
  out.write(kBytes);
  const pid_t pid = ::fork();  // a plugin's child, ended by a timeout
  if (pid == 0) {
    ::raise(SIGTERM);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status));
  out.commit();
  EXPECT_EQ(fs::file_size(dir / "out.bin"), kBytes.size());
  fs::remove_all(dir);
}

TEST(Output, AnUncommittedSetLeavesNothingAndACommittedOneAppearsWhole) {
  const fs::path dir = fresh_temp_path("lowbit_output_set");
  fs::create_directories(dir);
  {
    OutputDir out((dir / "set").string(), never);
    out.write("a.npy", kBytes);
    EXPECT_THROW(out.write("a.npy", kBytes), lowbit::Error);  // a name once only
  }
  EXPECT_TRUE(fs::is_empty(dir));
  {
    OutputDir out((dir / "set/").string(), never);
    out.write("a.npy", kBytes);
    out.commit();
  }
  EXPECT_EQ(fs::file_size(dir / "set" / "a.npy"), kBytes.size());
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  // A set the caller may replace is exchanged whole; one it may not is refused before anything is written.
  {
    OutputDir out((dir / "set").string(), [](const fs::path&) { return true; });
    out.write("b.npy", kBytes);
    out.commit();
  }
  EXPECT_FALSE(fs::exists(dir / "set" / "a.npy"));
  EXPECT_TRUE(fs::exists(dir / "set" / "b.npy"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  EXPECT_THROW(OutputDir((dir / "set").string(), never), lowbit::Error);
  fs::remove_all(dir);
}
