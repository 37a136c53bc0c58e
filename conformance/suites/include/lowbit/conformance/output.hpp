// User-named outputs, written so that neither a failure nor a signal leaves a partial or stray file.
//   OutputFile (-o PATH): a regular file, or a missing one, is written under a temporary name beside
//     it and renamed over it on commit, keeping an existing file's mode (other hard links to the old
//     file keep the old content); a symlink is followed and its target replaced the same way; a FIFO
//     or a device is written directly, streaming; a directory is refused.
//   OutputDir (gen -o DIR): the files go into a fresh temporary folder beside DIR, renamed into place
//     on commit. DIR may be missing, an empty folder, or a folder the caller may replace (an older
//     golden set); DIR itself may be a symlink (followed), and nothing is written through a link.
// Live temporary paths are registered: SIGHUP, SIGINT and SIGTERM remove them, then end the process by
// the same signal. SIGXFSZ is ignored, so that a file-size limit is a write error that names the file.
// Errors are lowbit::Error (Errc::io) with the errno of the call that failed.
#pragma once
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <span>
#include <string>

namespace lowbit::conformance {

class OutputFile {
 public:
  explicit OutputFile(const std::string& path);
  OutputFile();  // standard output
  ~OutputFile();  // an uncommitted temporary file is removed
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  std::FILE* get() const { return f_; }
  void write(std::span<const std::uint8_t> bytes);
  void commit();  // flushes, closes and renames the temporary file into place

 private:
  std::string name_;                    // as given, for messages
  std::filesystem::path final_, temp_;  // temp_ empty: written directly
  std::FILE* f_ = nullptr;
  int slot_ = -1;  // the temporary file's registration
};

class OutputDir {
 public:
  // replaceable(DIR): whether a DIR that is not empty may be replaced whole.
  OutputDir(const std::string& dir, std::function<bool(const std::filesystem::path&)> replaceable);
  ~OutputDir();  // an uncommitted temporary folder is removed
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;
  // The temporary folder, for writers that make their own files in it.
  const std::filesystem::path& folder() const { return temp_; }
  // A new file `name` (a plain name) of the set.
  void write(const std::string& name, std::span<const std::uint8_t> bytes);
  void commit();  // renames the folder into place (exchanged with a replaced one, then removed)

 private:
  enum class Target { missing, empty, replace };
  Target check() const;  // what DIR is now; throws when it may not be written

  std::string name_;
  std::filesystem::path final_, temp_;
  std::function<bool(const std::filesystem::path&)> replaceable_;
  int slot_ = -1;
};

}  // namespace lowbit::conformance
