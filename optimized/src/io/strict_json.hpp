// JSON text as lowbit's container readers take it (a safetensors header, a checkpoint index): no NUL
// byte (nlohmann's lexer would stop there), nothing nested `max_depth` levels deep (json_depth.hpp),
// no key twice in one object (nlohmann would keep the last silently). `what` names the text in
// messages ("header"); fail(message) throws.
#pragma once
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lowbit/io/json_depth.hpp"

namespace lowbit::io {

template <class Fail> nlohmann::json parse_strict_json(std::string_view text, std::string_view what, int max_depth, Fail fail) {
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos)
    fail(fmt::format("{} is not valid JSON: NUL byte at {} offset {}", what, what, nul));
  std::vector<std::set<std::string>> open;  // the keys of each object being parsed
  std::string duplicate;
  const nlohmann::json::parser_callback_t on_event = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (json_too_deep<nlohmann::json>(depth, event, max_depth))
      fail(fmt::format("{} nests arrays or objects {} levels deep; it has {} at most", what, max_depth, max_depth - 1));
    if (event == E::object_start) {
      open.emplace_back();
    } else if (event == E::object_end) {
      if (!open.empty()) open.pop_back();
    } else if (event == E::key && !open.empty() && duplicate.empty() && parsed.is_string()) {
      if (!open.back().insert(parsed.get<std::string>()).second) duplicate = parsed.get<std::string>();
    }
    return true;
  };
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text.begin(), text.end(), on_event);
  } catch (const nlohmann::json::exception& e) {
    fail(fmt::format("{} is not valid JSON: {}", what, e.what()));
  }
  if (!duplicate.empty()) fail(fmt::format("{} repeats the key '{}'", what, duplicate));
  return value;
}

}  // namespace lowbit::io
