// capstan/form_urlencoded.hpp: '+' and %XX decoding, malformed escapes kept as they are, and
// the lookup's rules (first pair wins, bare names, empty pairs, encoded names).
#include "capstan/form_urlencoded.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace capstan::form {
namespace {

using namespace std::string_literals;

TEST(FormDecode, PlusIsSpaceAndEscapesAreBytes) {
  EXPECT_EQ(decode("bob+b"), "bob b");
  EXPECT_EQ(decode("bob%20b"), "bob b");
  EXPECT_EQ(decode("%2B%2b"), "++");  // an encoded '+' stays a plus; either case of hex
  EXPECT_EQ(decode("caf%C3%A9"), "caf\xC3\xA9");
  EXPECT_EQ(decode(""), "");
}

TEST(FormDecode, MalformedEscapesStandForThemselves) {
  EXPECT_EQ(decode("%"), "%");
  EXPECT_EQ(decode("%4"), "%4");
  EXPECT_EQ(decode("%zz"), "%zz");
  EXPECT_EQ(decode("%4g"), "%4g");
  EXPECT_EQ(decode("a%"), "a%");
  EXPECT_EQ(decode("%%41"), "%A");  // the first '%' is alone, the second starts an escape
  EXPECT_EQ(decode("100%+sure"), "100% sure");
}

TEST(FormDecode, NulAndHighBytesComeThrough) {
  EXPECT_EQ(decode("a%00b"), "a\0b"s);
  EXPECT_EQ(decode("%FF"), "\xFF");
}

TEST(FormFind, FirstOccurrenceWins) {
  EXPECT_EQ(find("nick=bob%20b&room=1", "nick"), "bob b");
  EXPECT_EQ(find("nick=bob%20b&room=1", "room"), "1");
  EXPECT_EQ(find("a=1&a=2", "a"), "1");
  EXPECT_EQ(find("b=0&a=&a=2", "a"), "");  // an empty first value still wins
}

TEST(FormFind, AbsentBareAndEmpty) {
  EXPECT_EQ(find("", "a"), std::nullopt);
  EXPECT_EQ(find("ab=1", "a"), std::nullopt);
  EXPECT_EQ(find("a=1", "ab"), std::nullopt);
  EXPECT_EQ(find("a=1", ""), std::nullopt);
  EXPECT_EQ(find("=1", ""), "1");  // an empty name is a name
  EXPECT_EQ(find("debug&x=1", "debug"), "");
  EXPECT_EQ(find("x=1&debug", "debug"), "");
  EXPECT_EQ(find("a=", "a"), "");
  EXPECT_EQ(find("&&a=1&", "a"), "1");
}

TEST(FormFind, ValueKeepsItsEqualsSigns) { EXPECT_EQ(find("t=a=b", "t"), "a=b"); }

TEST(FormFind, NamesAreComparedDecoded) {
  EXPECT_EQ(find("first+name=Ann", "first name"), "Ann");
  EXPECT_EQ(find("topic%5B%5D=a&topic[]=b", "topic[]"), "a");
  EXPECT_EQ(find("%=x", "%"), "x");
  EXPECT_EQ(find("%61=x", "a"), "x");
}

TEST(FormFind, MalformedValuesDoNotFail) {
  EXPECT_EQ(find("a=%&b=%4", "a"), "%");
  EXPECT_EQ(find("a=%&b=%4", "b"), "%4");
  EXPECT_EQ(find("a=%zz", "a"), "%zz");
  EXPECT_EQ(find("a=%00", "a"), "\0"s);
  EXPECT_EQ(find("a=x+y+", "a"), "x y ");
}

}  // namespace
}  // namespace capstan::form
