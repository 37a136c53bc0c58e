// The nesting bound of every JSON reader of lowbit (safetensors headers, bitsandbytes quant_state,
// golden-set manifests). nlohmann::json parses iteratively, but copying, dump() (error messages) and
// walking a parsed tree recurse: text nested 10^5 levels deep overflows the stack, and deep trees of
// empty arrays cost ~20x their text. Each reader refuses, while parsing, the first array or object
// that opens `max` levels deep (the root value is level 0), `max` being what its schema needs.
// Header-only over the caller's nlohmann::json type: lowbit's interface does not depend on it.
#pragma once

namespace lowbit::io {

// True when parse event `event` at `depth` (nlohmann::json's parser callback arguments) opens an
// array or object `max` or more levels deep.
template <class Json> bool json_too_deep(int depth, typename Json::parse_event_t event, int max) {
  using E = typename Json::parse_event_t;
  return (event == E::object_start || event == E::array_start) && depth >= max;
}

// A parser callback for Json::parse that calls too_deep() (which throws) at json_too_deep and keeps
// every value.
template <class Json, class TooDeep> typename Json::parser_callback_t json_depth_limit(int max, TooDeep too_deep) {
  return [max, too_deep](int depth, typename Json::parse_event_t event, Json&) {
    if (json_too_deep<Json>(depth, event, max)) too_deep();
    return true;
  };
}

}  // namespace lowbit::io
