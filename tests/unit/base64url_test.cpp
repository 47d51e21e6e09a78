// Base64url: the RFC 4648 test vectors in the url alphabet without padding, round trips of
// every length, and everything strict decoding refuses.
#include "auth/base64url.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace capstan::auth {
namespace {

TEST(Base64url, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},         {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64url_encode(plain), encoded);
    std::string decoded = "junk";
    ASSERT_TRUE(base64url_decode(encoded, decoded)) << encoded;
    EXPECT_EQ(decoded, plain);
    EXPECT_EQ(base64url_decoded_size(encoded.size()), plain.size());
  }
}

TEST(Base64url, UsesTheUrlAlphabet) {
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_encode(std::string("\x00\x10\x83\x10\x51\x87\x20\x92\x8b\x30\xd3\x8f\x41\x14\x93\x51\x55\x97"
                                         "\x61\x96\x9b\x71\xd7\x9f\x82\x18\xa3\x92\x59\xa7\xa2\x9a\xab\xb2\xdb\xaf"
                                         "\xc3\x1c\xb3\xd3\x5d\xb7\xe3\x9e\xbb\xf3\xdf\xbf",
                                         48)),
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
  std::string out;
  ASSERT_TRUE(base64url_decode("-_8", out));
  EXPECT_EQ(out, "\xfb\xff");
}

TEST(Base64url, RoundTripsEveryLengthAndByte) {
  std::mt19937 rng(7);
  for (size_t length = 0; length < 300; ++length) {
    std::string bytes(length, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    const std::string encoded = base64url_encode(bytes);
    EXPECT_EQ(encoded.size(), (length * 4 + 2) / 3);
    EXPECT_TRUE(is_base64url_text(encoded));
    std::string decoded;
    ASSERT_TRUE(base64url_decode(encoded, decoded)) << length;
    EXPECT_EQ(decoded, bytes);
  }
}

TEST(Base64url, RefusesWhatIsNotCanonicalBase64url) {
  std::string out;
  for (const char* bad : {"Zg==", "Zm8=", "Zg=", "=", "Zm9v+A", "Zm9v/A", "Zm 9v", "Zm9v\n", "Z", "Zm9vY",
                          "Zh", "Zm9", "Zm+v", "Zm\xc3\xa9v", "Zm9v.", "%4A"}) {
    EXPECT_FALSE(base64url_decode(bad, out)) << bad;
  }
  EXPECT_FALSE(base64url_decode(std::string_view("Zm\0v", 4), out));
  EXPECT_FALSE(is_base64url_text("a+b"));
  EXPECT_FALSE(is_base64url_text("ab="));
  EXPECT_TRUE(is_base64url_text(""));
}

TEST(Base64url, UnusedBitsMustBeZero) {
  // "Zg" and "Zh" would both decode to "f"; only the first is the encoding.
  std::string out;
  EXPECT_TRUE(base64url_decode("Zg", out));
  for (const char* alias : {"Zh", "Zi", "Zv"}) EXPECT_FALSE(base64url_decode(alias, out)) << alias;
  EXPECT_TRUE(base64url_decode("Zm8", out));
  EXPECT_FALSE(base64url_decode("Zm9", out));
}

}  // namespace
}  // namespace capstan::auth
