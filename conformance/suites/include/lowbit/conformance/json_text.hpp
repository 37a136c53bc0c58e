// The one way conformance/ writes JSON (reports, --json outputs, manifests): nlohmann's dump with
// invalid UTF-8 replaced by U+FFFD. A plugin's vendor name or any other string taken from outside
// holds whatever bytes it likes; plain dump() throws on them and the whole report is lost.
#pragma once
#include <string>

namespace lowbit::conformance {

// `indent` as dump()'s: -1 one line, n >= 0 pretty-printed.
template <class Json> std::string json_text(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace lowbit::conformance
