// JSON for the action protocol: reading a client's {"action", "data"} (simdjson, validating
// everything, since `data` may be relayed to other clients) and writing replies into a
// caller's buffer without intermediate strings.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include "capstan/notify.hpp"
#include "util/byte_buffer.hpp"

namespace capstan::app {

struct ActionMessage {
  enum class Status : uint8_t { ok, not_json, not_object, missing_action, missing_data };
  Status status = Status::not_json;
  // Valid until the next parse on this thread. Empty when `action` is not a string (a number,
  // true, an object): such an action is set, but names no action, as `switch` in the tutorial.
  std::string_view action;
  simdjson::dom::element data;
};

// Parses with this thread's parser: the result is valid until the next call on the thread.
// `action` or `data` missing or null is `missing_action` / `missing_data`, as PHP's isset()
// in the tutorial sees them; any other value is set ("", 0 and false included).
ActionMessage parse_action_message(std::string_view text);
std::string_view describe(ActionMessage::Status status) noexcept;

// Writes JSON into a buffer (std::string, or util::ByteBuffer whose appends are inline). With
// `in_string` it writes the JSON as the content of a JSON string (the tutorial's `data`
// holding JSON), escaping as it goes, so relayed data is serialized once, into the reply.
template <class Out>
class BasicJsonWriter {
 public:
  BasicJsonWriter(Out& out, bool in_string) noexcept : out_(out), in_string_(in_string) {}
  void string(std::string_view value);                                  // quotes included
  void raw(std::string_view text) { out_.append(text.data(), text.size()); }  // numbers, punctuation
  void value(const simdjson::dom::element& element);                    // compact JSON
  void number(double value);  // shortest round trip, read back the same; NaN and infinity: null
  void integer(int64_t value);

 private:
  Out& out_;
  bool in_string_;
};
using JsonWriter = BasicJsonWriter<std::string>;

// Appends `value` as a JSON string literal (quotes included).
inline void append_quoted(std::string& out, std::string_view value) { JsonWriter(out, false).string(value); }
// Appends `element` as compact JSON.
inline void append_json(std::string& out, const simdjson::dom::element& element) { JsonWriter(out, false).value(element); }
// {"action":ACTION,"data": ... }: what goes between is written by a writer with `in_string`
// = `as_string`.
template <class Out>
void begin_reply(Out& out, std::string_view action, bool as_string) {
  out.append("{\"action\":", 10);
  BasicJsonWriter<Out>(out, false).string(action);
  if (as_string) out.append(",\"data\":\"", 9);
  else out.append(",\"data\":", 8);
}
template <class Out>
void end_reply(Out& out, bool as_string) {
  if (as_string) out.push_back('"');
  out.push_back('}');
}
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
