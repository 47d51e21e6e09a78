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

// Writes JSON into a buffer. With `in_string` it writes the JSON as the content of a JSON
// string (the tutorial's `data` holding JSON), escaping as it goes, so relayed data is
// serialized once, straight into the reply.
class JsonWriter {
 public:
  JsonWriter(std::string& out, bool in_string) noexcept : out_(out), in_string_(in_string) {}
  void string(std::string_view value);               // a string value, quotes included
  void raw(std::string_view text) { out_ += text; }  // numbers and punctuation only
  void value(const simdjson::dom::element& element);  // compact JSON

 private:
  void quote() {  // push_back is inlined where append is a call: this runs twice per string
    if (in_string_) out_.push_back('\\');
    out_.push_back('"');
  }
  std::string& out_;
  bool in_string_;
};

// Appends `value` as a JSON string literal (quotes included).
inline void append_quoted(std::string& out, std::string_view value) { JsonWriter(out, false).string(value); }
// Appends `element` as compact JSON.
inline void append_json(std::string& out, const simdjson::dom::element& element) { JsonWriter(out, false).value(element); }
// {"action":ACTION,"data": ... }: what goes between is written by a JsonWriter with
// `in_string` = `as_string`.
void begin_reply(std::string& out, std::string_view action, bool as_string);
inline void end_reply(std::string& out, bool as_string) { out += as_string ? "\"}" : "}"; }
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
