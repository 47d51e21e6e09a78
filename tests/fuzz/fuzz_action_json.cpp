// The notify component's JSON on arbitrary text: parsing never crashes, and what it relays is
// JSON that parses again to the same thing (re-serializing the re-serialized data is a fixed
// point), also once quoted into a reply as the tutorial's string-holding-JSON.
#include <string>
#include <string_view>

#include "app/notify/action_json.hpp"
#include "fuzz_common.hpp"

using namespace capstan::app;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ActionMessage m = parse_action_message(text);
  if (m.status != ActionMessage::Status::ok) return 0;
  if (m.action.empty()) return 0;  // set but not a name: answered `error`, nothing is relayed
  const std::string action(m.action);
  std::string first;
  append_json(first, m.data);

  std::string reply;
  append_reply(reply, action, first, true);
  ActionMessage again = parse_action_message(reply);  // {"action", "data": "<first>"}
  FUZZ_CHECK(again.status == ActionMessage::Status::ok);
  FUZZ_CHECK(again.action == action);
  std::string_view quoted;
  FUZZ_CHECK(again.data.get_string().get(quoted) == simdjson::SUCCESS);
  FUZZ_CHECK(quoted == first);

  reply.clear();
  append_reply(reply, action, first, false);
  ActionMessage plain = parse_action_message(reply);
  FUZZ_CHECK(plain.status == ActionMessage::Status::ok);
  std::string second;
  append_json(second, plain.data);
  FUZZ_CHECK(second == first);
  return 0;
}
