// Token sources: parsing the [auth].sources list, and finding the token in the query string,
// a header, an offered subprotocol or a cookie, in the configured order.
#include "auth/token_source.hpp"

#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "http/request_parser.hpp"

namespace capstan::auth {
namespace {

using testing::HasSubstr;

constexpr char kJwt[] = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VybmFtZSI6ImEifQ.c2lnbmF0dXJlLWJ5dGVz";

// A parsed upgrade request that owns its text; `headers` are "Name: value" lines.
struct Upgrade {
  std::string text;
  http::Request request;
  explicit Upgrade(const std::vector<std::string>& headers, const std::string& target = "/chat") {
    text = "GET " + target + " HTTP/1.1\r\nHost: x\r\n";
    for (const std::string& h : headers) text += h + "\r\n";
    text += "\r\n";
    http::RequestParser parser;
    EXPECT_EQ(parser.parse(text, request).status, http::ParseResult::Status::complete) << text;
  }
};

std::vector<TokenSource> sources(const std::vector<std::string>& specs) {
  Expected<std::vector<TokenSource>> parsed = parse_token_sources(specs);
  if (!parsed) {
    ADD_FAILURE() << parsed.error().message();
    return {};
  }
  return std::move(*parsed);
}

// The token found with `specs`, or "<none>".
std::string find(const Upgrade& u, const std::vector<std::string>& specs, std::string_view query = {},
                 const std::vector<std::string>& protocols = {}, FoundToken* found = nullptr) {
  FoundToken out;
  if (!find_token(u.request, query, sources(specs), protocols, out)) return "<none>";
  if (found) *found = out;
  return out.token;
}

TEST(TokenSource, ParsesTheConfiguredList) {
  const auto s = sources({"query:token", "header:Authorization", "protocol", "cookie:BEARER", "header:X-Token"});
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0].kind, TokenSource::Kind::query);
  EXPECT_EQ(s[0].name, "token");
  EXPECT_EQ(s[1].kind, TokenSource::Kind::header);
  EXPECT_EQ(s[1].name, "Authorization");
  EXPECT_EQ(s[2].kind, TokenSource::Kind::protocol);
  EXPECT_EQ(s[2].name, "");
  EXPECT_EQ(s[3].kind, TokenSource::Kind::cookie);
  EXPECT_EQ(s[3].name, "BEARER");
  EXPECT_EQ(s[4].name, "X-Token");
}

TEST(TokenSource, RefusesUnknownSpecs) {
  for (const char* bad : {"query", "query:", "header", "cookie:", "protocol:x", "body:token", "Query:token", "",
                          "query: token", "header:X-Token "}) {
    const Expected<std::vector<TokenSource>> parsed = parse_token_sources({bad});
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error(), ConfigError::invalid) << bad;
    EXPECT_THAT(parsed.error().message(), HasSubstr(std::string("\"") + bad + "\"")) << bad;
  }
}

TEST(TokenSource, QueryParameter) {
  const Upgrade u({});
  EXPECT_EQ(find(u, {"query:token"}, std::string("token=") + kJwt), kJwt);
  EXPECT_EQ(find(u, {"query:token"}, std::string("a=1&token=") + kJwt + "&b=2"), kJwt);
  EXPECT_EQ(find(u, {"query:token"}, "token=abc%2Edef%2eghi"), "abc.def.ghi");
  EXPECT_EQ(find(u, {"query:token"}, "token=a+b%zz%4"), "a+b%zz%4");  // '+' and a stray '%' stay
  EXPECT_EQ(find(u, {"query:token"}, "tok%65n=x"), "x");
  EXPECT_EQ(find(u, {"query:token"}, "token=first&token=second"), "first");
  EXPECT_EQ(find(u, {"query:token"}, "token=&token=second"), "second");
  EXPECT_EQ(find(u, {"query:token"}, "xtoken=a&tokens=b&token"), "<none>");
  EXPECT_EQ(find(u, {"query:token"}, ""), "<none>");
  EXPECT_EQ(find(u, {"query:jwt"}, "token=a&jwt=b"), "b");
}

TEST(TokenSource, AuthorizationBearer) {
  EXPECT_EQ(find(Upgrade({std::string("Authorization: Bearer ") + kJwt}), {"header:Authorization"}), kJwt);
  EXPECT_EQ(find(Upgrade({"authorization: bearer abc"}), {"header:Authorization"}), "abc");
  EXPECT_EQ(find(Upgrade({"Authorization: BEARER   abc  "}), {"header:authorization"}), "abc");
  EXPECT_EQ(find(Upgrade({"Authorization: Basic YTpi"}), {"header:Authorization"}), "<none>");
  EXPECT_EQ(find(Upgrade({"Authorization: Bearer"}), {"header:Authorization"}), "<none>");
  EXPECT_EQ(find(Upgrade({"Authorization: Bearer "}), {"header:Authorization"}), "<none>");
  EXPECT_EQ(find(Upgrade({"Authorization: abc"}), {"header:Authorization"}), "<none>");
  EXPECT_EQ(find(Upgrade({"Authorization: Basic YTpi", "Authorization: Bearer abc"}), {"header:Authorization"}),
            "abc");
}

TEST(TokenSource, OtherHeaders) {
  EXPECT_EQ(find(Upgrade({"X-Token: abc"}), {"header:X-Token"}), "abc");
  EXPECT_EQ(find(Upgrade({"x-token: Bearer abc"}), {"header:X-Token"}), "abc");
  EXPECT_EQ(find(Upgrade({"X-Token:"}), {"header:X-Token"}), "<none>");
  EXPECT_EQ(find(Upgrade({"X-Other: abc"}), {"header:X-Token"}), "<none>");
}

TEST(TokenSource, OfferedSubprotocol) {
  FoundToken found;
  const std::string offer = std::string("Sec-WebSocket-Protocol: chat, ") + kJwt + ", notify";
  // A protocol the route accepts is the answer, whatever its position.
  EXPECT_EQ(find(Upgrade({offer}), {"protocol"}, {}, {"notify"}, &found), kJwt);
  EXPECT_TRUE(found.from_protocol);
  EXPECT_EQ(found.protocol_answer, "notify");
  // Else the first other offered value.
  EXPECT_EQ(find(Upgrade({offer}), {"protocol"}, {}, {"mqtt"}, &found), kJwt);
  EXPECT_EQ(found.protocol_answer, "chat");
  // Else the token itself, so the browser sees one of its offers selected.
  EXPECT_EQ(find(Upgrade({std::string("Sec-WebSocket-Protocol: ") + kJwt}), {"protocol"}, {}, {}, &found), kJwt);
  EXPECT_EQ(found.protocol_answer, kJwt);
  // Offers spread over several header lines.
  EXPECT_EQ(find(Upgrade({"Sec-WebSocket-Protocol: chat", std::string("Sec-WebSocket-Protocol: ") + kJwt}),
                 {"protocol"}, {}, {"chat"}, &found),
            kJwt);
  EXPECT_EQ(found.protocol_answer, "chat");
  // Values that are not JWT-shaped are never taken for a token: "wamp.2.json" has three
  // base64url parts, but a JWT header is a JSON object, so its encoding starts with "ey".
  for (const char* offered : {"chat", "a.b", "eyJ.b.c.d", "eyJ..c", ".b.c", "eyJ.b.", "eyJ+b.c.d", "wamp.2.json"}) {
    EXPECT_EQ(find(Upgrade({std::string("Sec-WebSocket-Protocol: ") + offered}), {"protocol"}), "<none>") << offered;
  }
  EXPECT_EQ(find(Upgrade({"Sec-WebSocket-Protocol: wamp.2.json, eyJ.b.c"}), {"protocol"}, {}, {}, &found), "eyJ.b.c");
  EXPECT_EQ(found.protocol_answer, "wamp.2.json");
}

TEST(TokenSource, Cookie) {
  EXPECT_EQ(find(Upgrade({std::string("Cookie: BEARER=") + kJwt}), {"cookie:BEARER"}), kJwt);
  EXPECT_EQ(find(Upgrade({"Cookie: a=1; BEARER=abc; b=2"}), {"cookie:BEARER"}), "abc");
  EXPECT_EQ(find(Upgrade({"Cookie: a=1;BEARER=abc"}), {"cookie:BEARER"}), "abc");
  EXPECT_EQ(find(Upgrade({"Cookie: BEARER=\"abc\""}), {"cookie:BEARER"}), "abc");
  EXPECT_EQ(find(Upgrade({"Cookie: bearer=abc"}), {"cookie:BEARER"}), "<none>");  // names are case-sensitive
  EXPECT_EQ(find(Upgrade({"Cookie: XBEARER=abc; BEARER"}), {"cookie:BEARER"}), "<none>");
  EXPECT_EQ(find(Upgrade({"Cookie: BEARER=; a=b"}), {"cookie:BEARER"}), "<none>");
  EXPECT_EQ(find(Upgrade({"Cookie: a=1", "Cookie: BEARER=abc"}), {"cookie:BEARER"}), "abc");
  EXPECT_EQ(find(Upgrade({"Cookie: BEARER=a=b"}), {"cookie:BEARER"}), "a=b");
}

TEST(TokenSource, SourcesAreTriedInOrder) {
  const Upgrade u({"Authorization: Bearer from-header", "Cookie: BEARER=from-cookie",
                   std::string("Sec-WebSocket-Protocol: ") + kJwt});
  const std::string query = "token=from-query";
  EXPECT_EQ(find(u, {"query:token", "header:Authorization", "protocol", "cookie:BEARER"}, query), "from-query");
  EXPECT_EQ(find(u, {"header:Authorization", "query:token"}, query), "from-header");
  EXPECT_EQ(find(u, {"cookie:BEARER", "query:token"}, query), "from-cookie");
  FoundToken found;
  EXPECT_EQ(find(u, {"query:other", "protocol", "query:token"}, query, {}, &found), kJwt);
  EXPECT_TRUE(found.from_protocol);
  EXPECT_EQ(find(u, {"query:token"}, query, {}, &found), "from-query");
  EXPECT_FALSE(found.from_protocol);
  EXPECT_TRUE(found.protocol_answer.empty());
  EXPECT_EQ(find(Upgrade({}), {"query:token", "header:Authorization", "protocol", "cookie:BEARER"}, "a=b"), "<none>");
}

}  // namespace
}  // namespace capstan::auth
