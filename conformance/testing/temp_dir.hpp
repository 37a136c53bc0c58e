// A fresh (removed if present) path under gtest's temporary folder, for tests that write files. The
// process id keeps concurrent test processes (other build trees on the same machine) apart; within a
// process a name always gives the same path.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

inline std::string fresh_temp_path(const std::string& name) {
  const std::filesystem::path n(name);  // the pid goes before the extension: x.npy -> x.<pid>.npy
  const std::filesystem::path p =
      std::filesystem::path(::testing::TempDir()) / (n.stem().string() + "." + std::to_string(::getpid()) + n.extension().string());
  std::filesystem::remove_all(p);
  return p.string();
}
