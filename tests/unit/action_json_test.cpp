// Reading {"action", "data"} as the tutorial's PHP does (json_decode + isset), and writing
// replies: escaping, compact re-serialization, data as a string holding JSON.
#include "app/notify/action_json.hpp"

#include <gtest/gtest.h>

namespace capstan::app {
namespace {

using Status = ActionMessage::Status;

Status status_of(std::string_view text) { return parse_action_message(text).status; }

std::string data_of(std::string_view text) {
  ActionMessage m = parse_action_message(text);
  EXPECT_EQ(m.status, Status::ok) << text;
  std::string out;
  if (m.status == Status::ok) append_json(out, m.data);
  return out;
}

TEST(ActionJson, ParsesActionAndData) {
  ActionMessage m = parse_action_message(R"({"action":"show","data":{"id":1}})");
  ASSERT_EQ(m.status, Status::ok);
  EXPECT_EQ(m.action, "show");
  EXPECT_EQ(data_of(R"(  {"data": [1, 2], "action": "x"} )"), "[1,2]");  // any order, whitespace
  EXPECT_EQ(data_of(R"({"action":"x","data":"text"})"), R"("text")");
  EXPECT_EQ(data_of(R"({"action":"x","data":0})"), "0");
  EXPECT_EQ(data_of(R"({"action":"x","data":false})"), "false");  // isset(false) is true
  EXPECT_EQ(data_of(R"({"action":"x","data":1,"data":2})"), "2");   // the last duplicate wins
}

TEST(ActionJson, TheTutorialsFatalCases) {
  EXPECT_EQ(status_of("test"), Status::not_json);
  EXPECT_EQ(status_of(""), Status::not_json);
  EXPECT_EQ(status_of(R"({"action":"x","data":1)"), Status::not_json);
  EXPECT_EQ(status_of(R"({"action":"x","data":tru})"), Status::not_json);
  EXPECT_EQ(status_of(R"([1,2])"), Status::not_object);
  EXPECT_EQ(status_of(R"("x")"), Status::not_object);
  EXPECT_EQ(status_of(R"({"data":"test"})"), Status::missing_action);
  EXPECT_EQ(status_of(R"({"action":null,"data":1})"), Status::missing_action);
  EXPECT_EQ(status_of(R"({"action":"test"})"), Status::missing_data);
  EXPECT_EQ(status_of(R"({"action":"test","data":null})"), Status::missing_data);  // isset(null) is false
}

TEST(ActionJson, AnActionThatIsSetButNoStringNamesNoAction) {
  // isset() holds for "", 0, false and arrays: the tutorial's switch then takes its default
  // (a non-fatal `error`), so these parse, with no action name.
  for (const char* text : {R"({"action":"","data":1})", R"({"action":5,"data":1})", R"({"action":false,"data":1})",
                           R"({"action":["x"],"data":1})", R"({"action":{},"data":0})"}) {
    ActionMessage m = parse_action_message(text);
    EXPECT_EQ(m.status, Status::ok) << text;
    EXPECT_TRUE(m.action.empty()) << text;
  }
  EXPECT_EQ(status_of(R"({"action":"x","data":""})"), Status::ok);
  EXPECT_EQ(status_of(R"({"action":"x","data":false})"), Status::ok);
}

TEST(ActionJson, ReserializesCompactlyAndExactly) {
  EXPECT_EQ(data_of(R"({"action":"x","data":{ "a" : [ 1 , -2 , 3.25 , 1e3 , true , null ] , "b" : {} }})"),
            R"({"a":[1,-2,3.25,1000,true,null],"b":{}})");  // 1e3 as JSON.stringify writes it
  EXPECT_EQ(data_of(R"({"action":"x","data":18446744073709551615})"), "18446744073709551615");
  EXPECT_EQ(data_of(R"({"action":"x","data":-9223372036854775808})"), "-9223372036854775808");
  EXPECT_EQ(data_of(R"({"action":"x","data":0.1})"), "0.1");  // shortest round trip
  EXPECT_EQ(data_of(R"({"action":"x","data":[-0.0,-0e300,-0]})"), "[0,0,0]");  // as JSON.stringify
  // Integers past 64 bits are refused by simdjson, so such doubles are written with an exponent.
  EXPECT_EQ(data_of(R"({"action":"x","data":[333333333333333185615.0,1e20,-2e19]})"),
            "[3.333333333333332e+20,1e+20,-2e+19]");
  EXPECT_EQ(data_of(R"({"action":"x","data":"\u00e9\n\"\\\/\u0001"})"), "\"\xc3\xa9\\n\\\"\\\\/\\u0001\"");
}

TEST(ActionJson, QuotesEverythingJsonNeeds) {
  std::string out;
  append_quoted(out, std::string_view("a\"b\\c\n\r\t\b\f\x1f\x7f\xc3\xa9", 14));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u001f\x7f\xc3\xa9\"");
}

TEST(ActionJson, RepliesHoldDataAsAStringOrAsIs) {
  std::string out;
  append_reply(out, "show", R"({"id":1,"name":"Capstan \"mug\""})", true);
  EXPECT_EQ(out, R"({"action":"show","data":"{\"id\":1,\"name\":\"Capstan \\\"mug\\\"\"}"})");
  out.clear();
  append_reply(out, "show", R"({"id":1})", false);
  EXPECT_EQ(out, R"({"action":"show","data":{"id":1}})");
}

}  // namespace
}  // namespace capstan::app
