// Plain HTTP responses: status line, the fixed headers, Content-Length, and the 426 extra.
#include "http/response.hpp"

#include <gtest/gtest.h>

#include <string>

namespace capstan::http {
namespace {

TEST(Response, StatusTexts) {
  EXPECT_EQ(status_text(101), "Switching Protocols");
  EXPECT_EQ(status_text(400), "Bad Request");
  EXPECT_EQ(status_text(405), "Method Not Allowed");
  EXPECT_EQ(status_text(426), "Upgrade Required");
  EXPECT_EQ(status_text(431), "Request Header Fields Too Large");
  EXPECT_EQ(status_text(505), "HTTP Version Not Supported");
  EXPECT_EQ(status_text(299), "Unknown");
}

TEST(Response, AppendResponse) {
  std::string out = "before|";
  append_response(out, 200, "text/plain; charset=utf-8", "ok\n", "X-A: 1\r\n");
  EXPECT_EQ(out,
            "before|HTTP/1.1 200 OK\r\nServer: capstan\r\nConnection: close\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\nX-A: 1\r\n\r\nok\n");
}

TEST(Response, EmptyBody) {
  std::string out;
  append_response(out, 204, "text/plain", "");
  EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\nServer: capstan\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n");
}

TEST(Response, ErrorBodyIsTheReason) {
  std::string out;
  append_error(out, 400, "malformed request line");
  const std::string body = "malformed request line\n";
  EXPECT_EQ(out.substr(0, 26), "HTTP/1.1 400 Bad Request\r\n");
  EXPECT_NE(out.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - body.size() - 4), "\r\n\r\n" + body);
  EXPECT_EQ(out.find("Sec-WebSocket-Version"), std::string::npos);
}

TEST(Response, UpgradeRequiredNamesTheVersion) {
  std::string out;
  append_error(out, 426, "unsupported Sec-WebSocket-Version");
  EXPECT_NE(out.find("\r\nSec-WebSocket-Version: 13\r\n"), std::string::npos) << "RFC 6455 §4.4";
  EXPECT_NE(out.find("HTTP/1.1 426 Upgrade Required\r\n"), std::string::npos);
}

}  // namespace
}  // namespace capstan::http
