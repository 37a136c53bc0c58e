// A JSON value as error messages quote it: scalars as written (cut at 40 characters), arrays and
// objects by their size only, so that a lying header cannot make an error message huge.
#pragma once
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace lowbit::io {

inline std::string json_excerpt(const nlohmann::json& v) {
  if (v.is_array()) return fmt::format("an array of {} elements", v.size());
  if (v.is_object()) return fmt::format("an object of {} members", v.size());
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

}  // namespace lowbit::io
