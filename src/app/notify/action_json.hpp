// JSON for the action protocol: reading a client's {"action", "data"} (simdjson, validating
// everything, since `data` may be relayed to other clients) and writing replies into a
// caller's buffer without intermediate strings.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include "capstan/notify.hpp"

namespace capstan::app {

struct ActionMessage {
  enum class Status : uint8_t { ok, not_json, not_object, missing_action, missing_data };
  Status status = Status::not_json;
  std::string_view action;        // valid until the next parse on this thread
  simdjson::dom::element data;
};

// Parses with this thread's parser: the result is valid until the next call on the thread.
// `data` missing or null is `missing_data`, as PHP's isset() in the tutorial sees it.
ActionMessage parse_action_message(std::string_view text);
std::string_view describe(ActionMessage::Status status) noexcept;

// Appends `value` as a JSON string literal (quotes included).
void append_quoted(std::string& out, std::string_view value);
// Appends `element` as compact JSON.
void append_json(std::string& out, const simdjson::dom::element& element);
// Appends {"action":ACTION,"data":DATA}; DATA is JSON text, written as a string holding it
// when `as_string` (the tutorial's format), else as it is.
void append_reply(std::string& out, std::string_view action, std::string_view data_json, bool as_string);

// The public Json view over a simdjson element.
struct JsonAccess {
  static Json wrap(const simdjson::dom::element& element) noexcept;
  static Json absent() noexcept { return Json(); }
  static const simdjson::dom::element& element(const Json& json) noexcept;
};

}  // namespace capstan::app
