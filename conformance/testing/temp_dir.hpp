// A fresh (removed if present) path under gtest's temporary folder, for tests that write files.
#pragma once
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

inline std::string fresh_temp_path(const std::string& name) {
  const std::filesystem::path p = std::filesystem::path(::testing::TempDir()) / name;
  std::filesystem::remove_all(p);
  return p.string();
}
