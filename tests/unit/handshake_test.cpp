// The opening handshake (RFC 6455 §4.2): the accept key, which requests are upgrades and why
// one is refused, subprotocol selection and the 101 response.
#include "http/handshake.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/request_parser.hpp"

namespace capstan::http {
namespace {

// A parsed request that owns its text (the Request holds views into it).
struct OwnedRequest {
  std::string text;
  Request request;

  explicit OwnedRequest(std::string t) : text(std::move(t)) {
    RequestParser parser;
    ParseResult r = parser.parse(text, request);
    EXPECT_EQ(r.status, ParseResult::Status::complete) << text;
  }
  OwnedRequest(const OwnedRequest&) = delete;
};

// The RFC 6455 §1.3 sample request; `replace` swaps header lines ("Name: value" or "Name:" to
// drop it), `request_line` the first line.
std::string upgrade_request(std::vector<std::pair<std::string, std::string>> replace = {},
                            std::string request_line = "GET /chat HTTP/1.1") {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Host", "server.example.com"},
      {"Upgrade", "websocket"},
      {"Connection", "Upgrade"},
      {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
      {"Origin", "http://example.com"},
      {"Sec-WebSocket-Version", "13"},
  };
  for (auto& [name, value] : replace) {
    bool found = false;
    for (auto& h : headers)
      if (h.first == name) h.second = value, found = true;
    if (!found) headers.emplace_back(name, value);
  }
  std::string text = request_line + "\r\n";
  for (auto& [name, value] : headers)
    if (value != "<drop>") text += name + ": " + value + "\r\n";
  return text + "\r\n";
}

const char* kind_name(UpgradeCheck::Kind k) {
  switch (k) {
    case UpgradeCheck::Kind::not_websocket: return "not_websocket";
    case UpgradeCheck::Kind::websocket: return "websocket";
    case UpgradeCheck::Kind::invalid: return "invalid";
  }
  return "?";
}

void expect_check(const std::string& text, UpgradeCheck::Kind kind, uint16_t http_status = 0) {
  OwnedRequest r(text);
  UpgradeCheck c = check_upgrade(r.request);
  EXPECT_STREQ(kind_name(c.kind), kind_name(kind)) << text;
  EXPECT_EQ(http_status_of(c.error), http_status) << text;
}

// ---- Accept key ------------------------------------------------------------------------------

TEST(Handshake, AcceptKeyOfTheRfcSample) {
  // RFC 6455 §1.3 (and §4.2.2): "the server would then ... return the value
  // s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Handshake, AcceptKeyOfOtherKeys) {
  // Computed independently: base64(sha1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
  EXPECT_EQ(accept_key("x3JJHMbDL1EzLkh9GBhXDw=="), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
  EXPECT_EQ(accept_key("AQIDBAUGBwgJCgsMDQ4PEA=="), "C/0nmHhBztSRGR1CwL6Tf4ZjwpY=");
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ==").size(), 28u);
}

// ---- check_upgrade -------------------------------------------------------------------------

TEST(Handshake, ValidUpgrade) {
  OwnedRequest r(upgrade_request());
  UpgradeCheck c = check_upgrade(r.request);
  EXPECT_STREQ(kind_name(c.kind), "websocket");
  EXPECT_EQ(c.key, "dGhlIHNhbXBsZSBub25jZQ==");
}

TEST(Handshake, HeaderValuesAreCaseInsensitiveTokens) {
  expect_check(upgrade_request({{"Upgrade", "WebSocket"}, {"Connection", "keep-alive, Upgrade"}}), UpgradeCheck::Kind::websocket);
  expect_check(upgrade_request({{"Upgrade", "h2c, websocket"}, {"Connection", "upgrade"}}), UpgradeCheck::Kind::websocket);
  expect_check(upgrade_request({{"Connection", "UPGRADE,keep-alive"}}), UpgradeCheck::Kind::websocket);
}

TEST(Handshake, PlainRequestIsNotWebSocket) {
  expect_check("GET / HTTP/1.1\r\nHost: a\r\n\r\n", UpgradeCheck::Kind::not_websocket);
  expect_check(upgrade_request({{"Upgrade", "<drop>"}}), UpgradeCheck::Kind::not_websocket);
  expect_check(upgrade_request({{"Upgrade", "h2c"}}), UpgradeCheck::Kind::not_websocket);
  expect_check(upgrade_request({{"Upgrade", "websockets"}}), UpgradeCheck::Kind::not_websocket);
}

TEST(Handshake, UpgradeWithOtherMethodIs405) {
  expect_check(upgrade_request({}, "POST /chat HTTP/1.1"), UpgradeCheck::Kind::invalid, 405);
  expect_check(upgrade_request({}, "HEAD /chat HTTP/1.1"), UpgradeCheck::Kind::invalid, 405);
  expect_check(upgrade_request({}, "get /chat HTTP/1.1"), UpgradeCheck::Kind::invalid, 405);  // methods are case-sensitive
}

TEST(Handshake, UpgradeOverHttp10Is400) {
  expect_check(upgrade_request({}, "GET /chat HTTP/1.0"), UpgradeCheck::Kind::invalid, 400);
}

TEST(Handshake, MissingConnectionUpgradeIs400) {
  expect_check(upgrade_request({{"Connection", "<drop>"}}), UpgradeCheck::Kind::invalid, 400);
  expect_check(upgrade_request({{"Connection", "keep-alive"}}), UpgradeCheck::Kind::invalid, 400);
  expect_check(upgrade_request({{"Connection", "upgraded"}}), UpgradeCheck::Kind::invalid, 400);
}

TEST(Handshake, UpgradeWithoutHostIs400) {
  // RFC 6455 §4.2.1 item 2: the handshake MUST have a Host header field, and a server that
  // finds a required field missing MUST answer with an error such as 400. RFC 9112 §3.2: a
  // server MUST answer 400 to any HTTP/1.1 request without a Host header field.
  expect_check(upgrade_request({{"Host", "<drop>"}}), UpgradeCheck::Kind::invalid, 400);
}

TEST(Handshake, OtherVersionIs426) {
  expect_check(upgrade_request({{"Sec-WebSocket-Version", "8"}}), UpgradeCheck::Kind::invalid, 426);
  expect_check(upgrade_request({{"Sec-WebSocket-Version", "12"}}), UpgradeCheck::Kind::invalid, 426);
  expect_check(upgrade_request({{"Sec-WebSocket-Version", "<drop>"}}), UpgradeCheck::Kind::invalid, 426);
  expect_check(upgrade_request({{"Sec-WebSocket-Version", "13, 8"}}), UpgradeCheck::Kind::invalid, 426);
}

TEST(Handshake, BadKeyIs400) {
  for (std::string key : {"<drop>", "", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ===", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25j*Q==",
                          "dGhlIHNhbXBsZSBub25jZ===", "dGhlIHNhbXBsZSBub25jZQ=A", "c2hvcnQ=", "dGhlIHNhbXBsZSBub25jZSE="}) {
    SCOPED_TRACE(key);
    expect_check(upgrade_request({{"Sec-WebSocket-Key", key}}), UpgradeCheck::Kind::invalid, 400);
  }
  // Any 16 bytes will do, '+' and '/' included.
  expect_check(upgrade_request({{"Sec-WebSocket-Key", "+/+/+/+/+/+/+/+/+/+/+A=="}}), UpgradeCheck::Kind::websocket);
}

// ---- Subprotocols --------------------------------------------------------------------------

std::string_view select(const OwnedRequest& r, std::vector<std::string> supported) {
  return select_subprotocol(r.request, supported);
}

TEST(Handshake, SubprotocolFollowsTheClientsOrder) {
  OwnedRequest r(upgrade_request({{"Sec-WebSocket-Protocol", "chat, superchat"}}));
  EXPECT_EQ(select(r, {"superchat", "chat"}), "chat");
  EXPECT_EQ(select(r, {"superchat"}), "superchat");
  EXPECT_EQ(select(r, {"other"}), "");
  EXPECT_EQ(select(r, {}), "");
}

TEST(Handshake, SubprotocolAcrossSeveralHeadersAndWhitespace) {
  OwnedRequest r(upgrade_request({{"Sec-WebSocket-Protocol", " v1.a ,\tv2.b\t"}}));
  EXPECT_EQ(select(r, {"v2.b"}), "v2.b");
  EXPECT_EQ(select(r, {"v2.b", "v1.a"}), "v1.a");
  OwnedRequest two("GET / HTTP/1.1\r\nSec-WebSocket-Protocol: a\r\nsec-websocket-protocol: b, c\r\n\r\n");
  EXPECT_EQ(select(two, {"c", "b"}), "b");
  EXPECT_EQ(select(two, {"c"}), "c");
}

TEST(Handshake, SubprotocolNamesAreCaseSensitive) {
  OwnedRequest r(upgrade_request({{"Sec-WebSocket-Protocol", "Chat"}}));
  EXPECT_EQ(select(r, {"chat"}), "");
  EXPECT_EQ(select(r, {"Chat"}), "Chat");
}

TEST(Handshake, NoSubprotocolOffered) {
  OwnedRequest r(upgrade_request());
  EXPECT_EQ(select(r, {"chat"}), "");
  OwnedRequest empty(upgrade_request({{"Sec-WebSocket-Protocol", ""}}));
  EXPECT_EQ(select(empty, {"", "chat"}), "") << "an empty offer selects nothing";
}

// ---- The 101 response ------------------------------------------------------------------------

TEST(Handshake, SwitchingProtocolsResponse) {
  std::string out = "prefix|";
  append_switching_protocols(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "");
  EXPECT_EQ(out,
            "prefix|HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
  std::string with_protocol;
  append_switching_protocols(with_protocol, "abc=", "chat");
  EXPECT_EQ(with_protocol,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: abc=\r\nSec-WebSocket-Protocol: chat\r\n\r\n");
}

}  // namespace
}  // namespace capstan::http
