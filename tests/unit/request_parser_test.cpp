// RequestParser: a valid upgrade request, every refusal (400 / 431 / 505), early refusal of
// garbage, and the same result whether the head arrives whole, byte by byte or in random splits.
#include "http/request_parser.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

namespace capstan::http {
namespace {

using Status = ParseResult::Status;

const char* status_name(Status s) {
  switch (s) {
    case Status::incomplete: return "incomplete";
    case Status::complete: return "complete";
    case Status::error: return "error";
  }
  return "?";
}

const std::string kUpgrade =
    "GET /chat?room=1&x=y HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

// What a parse came to, with the request copied out of the buffer's views.
struct Parsed {
  Status status = Status::incomplete;
  uint16_t http_status = 0;
  size_t head_size = 0;
  std::string method = {}, target = {}, path = {}, query = {};
  int version_minor = -1;
  std::vector<std::pair<std::string, std::string>> headers = {};

  bool operator==(const Parsed&) const = default;
};

void PrintTo(const Parsed& p, std::ostream* os) {
  *os << status_name(p.status) << " http_status=" << p.http_status << " head_size=" << p.head_size << " " << p.method
      << " " << p.target << " headers=" << p.headers.size();
}

Parsed capture(const ParseResult& r, const Request& req) {
  Parsed p{r.status, capstan::http_status_of(r.error), r.head_size};
  if (r.status != Status::complete) return p;
  p.method = req.method;
  p.target = req.target;
  p.path = req.path;
  p.query = req.query;
  p.version_minor = req.version_minor;
  for (size_t i = 0; i < req.header_count; ++i) p.headers.emplace_back(req.headers[i].name, req.headers[i].value);
  return p;
}

// Feeds `text` in pieces the way a connection does: the buffer grows and is parsed again after
// each read. Stops at the first result that is not `incomplete`. `fed` reports how many bytes
// had arrived by then.
Parsed parse_pieces(std::string_view text, const std::vector<size_t>& pieces, size_t max_head = 16 * 1024, size_t* fed = nullptr) {
  RequestParser parser(max_head);
  Request req;
  std::string buffer;
  ParseResult r;
  size_t offset = 0;
  for (size_t n : pieces) {
    buffer.append(text.substr(offset, n));
    offset += n;
    r = parser.parse(buffer, req);
    if (r.status != Status::incomplete) break;
  }
  if (fed) *fed = offset;
  return capture(r, req);
}

Parsed parse_whole(std::string_view text, size_t max_head = 16 * 1024) { return parse_pieces(text, {text.size()}, max_head); }

std::vector<size_t> bytes(size_t n) { return std::vector<size_t>(n, 1); }

std::vector<size_t> random_pieces(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<size_t> pieces;
  for (size_t left = n; left;) {
    size_t k = std::min<size_t>(left, std::uniform_int_distribution<size_t>(1, 40)(rng));
    pieces.push_back(k);
    left -= k;
  }
  return pieces;
}

// Parsed whole, byte by byte and in random splits, `text` gives the same result; returns it.
Parsed parse_every_way(std::string_view text, size_t max_head = 16 * 1024) {
  const Parsed whole = parse_whole(text, max_head);
  EXPECT_EQ(parse_pieces(text, bytes(text.size()), max_head), whole) << "byte by byte";
  for (uint32_t seed : {1u, 2u, 3u, 77u}) EXPECT_EQ(parse_pieces(text, random_pieces(text.size(), seed), max_head), whole) << "seed " << seed;
  return whole;
}

void expect_refused(std::string_view text, uint16_t http_status, size_t max_head = 16 * 1024) {
  Parsed p = parse_every_way(text, max_head);
  EXPECT_STREQ(status_name(p.status), "error") << testing::PrintToString(std::string(text));
  EXPECT_EQ(p.http_status, http_status) << testing::PrintToString(std::string(text));
}

std::string request_with(std::string_view request_line, std::string_view headers = "Host: h\r\n") {
  return std::string(request_line) + "\r\n" + std::string(headers) + "\r\n";
}

// ---- Valid requests ----------------------------------------------------------------------------

TEST(RequestParser, ValidUpgradeRequest) {
  Parsed p = parse_every_way(kUpgrade);
  ASSERT_STREQ(status_name(p.status), "complete");
  EXPECT_EQ(p.head_size, kUpgrade.size());
  EXPECT_EQ(p.method, "GET");
  EXPECT_EQ(p.target, "/chat?room=1&x=y");
  EXPECT_EQ(p.path, "/chat");
  EXPECT_EQ(p.query, "room=1&x=y");
  EXPECT_EQ(p.version_minor, 1);
  ASSERT_EQ(p.headers.size(), 7u);
  EXPECT_EQ(p.headers[0], (std::pair<std::string, std::string>{"Host", "server.example.com"}));
  EXPECT_EQ(p.headers[3], (std::pair<std::string, std::string>{"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}));
  EXPECT_EQ(p.headers[6], (std::pair<std::string, std::string>{"Sec-WebSocket-Version", "13"}));
}

TEST(RequestParser, BytesAfterTheHeadAreNotPartOfIt) {
  const std::string frame_bytes("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  Parsed p = parse_whole(kUpgrade + frame_bytes);
  ASSERT_STREQ(status_name(p.status), "complete");
  EXPECT_EQ(p.head_size, kUpgrade.size());
}

TEST(RequestParser, IncompleteUntilTheBlankLine) {
  for (size_t n = 0; n < kUpgrade.size(); ++n) {
    RequestParser parser;
    Request req;
    EXPECT_STREQ(status_name(parser.parse(std::string_view(kUpgrade).substr(0, n), req).status), "incomplete") << n;
  }
}

TEST(RequestParser, PathWithoutQueryAndOwsTrimmed) {
  Parsed p = parse_every_way(request_with("GET / HTTP/1.1", "X-A:   spaced value \t\r\nX-Empty:\r\nX-Tab:\tv\r\n"));
  ASSERT_STREQ(status_name(p.status), "complete");
  EXPECT_EQ(p.path, "/");
  EXPECT_EQ(p.query, "");
  ASSERT_EQ(p.headers.size(), 3u);
  EXPECT_EQ(p.headers[0].second, "spaced value");
  EXPECT_EQ(p.headers[1].second, "");
  EXPECT_EQ(p.headers[2].second, "v");
}

TEST(RequestParser, Http10IsAccepted) {
  Parsed p = parse_every_way(request_with("GET / HTTP/1.0"));
  ASSERT_STREQ(status_name(p.status), "complete");
  EXPECT_EQ(p.version_minor, 0);
}

TEST(RequestParser, SixtyFourHeadersAreAccepted) {
  std::string headers;
  for (int i = 0; i < 64; ++i) headers += "X-H" + std::to_string(i) + ": " + std::to_string(i) + "\r\n";
  Parsed p = parse_every_way(request_with("GET / HTTP/1.1", headers));
  ASSERT_STREQ(status_name(p.status), "complete");
  EXPECT_EQ(p.headers.size(), 64u);
  EXPECT_EQ(p.headers[63].second, "63");
}

TEST(RequestParser, HeadOfExactlyMaxSizeIsAccepted) {
  std::string text = request_with("GET / HTTP/1.1", "X-Pad: \r\n");
  const size_t max = 300;
  text.insert(text.find("X-Pad: ") + 7, std::string(max - text.size(), 'p'));
  ASSERT_EQ(text.size(), max);
  EXPECT_STREQ(status_name(parse_every_way(text, max).status), "complete");
  // One byte more is too large.
  text.insert(text.find("X-Pad: ") + 7, "p");
  expect_refused(text, 431, max);
}

// ---- Header lookup ---------------------------------------------------------------------------

Request parse_request(const std::string& text) {
  RequestParser parser;
  Request req;
  EXPECT_STREQ(status_name(parser.parse(text, req).status), "complete");
  return req;
}

TEST(RequestParser, HeaderLookupIsCaseInsensitive) {
  const Request req = parse_request(kUpgrade);
  EXPECT_EQ(req.header("host"), "server.example.com");
  EXPECT_EQ(req.header("HOST"), "server.example.com");
  EXPECT_EQ(req.header("sec-websocket-key"), "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(req.header("Missing"), "");
  EXPECT_EQ(req.header("Hos"), "");
}

TEST(RequestParser, HeaderLookupReturnsTheFirstOfSeveral) {
  const std::string text = request_with("GET / HTTP/1.1", "X-Dup: first\r\nx-dup: second\r\n");
  const Request req = parse_request(text);
  EXPECT_EQ(req.header("X-Dup"), "first");
}

TEST(RequestParser, HeaderHasTokenInLists) {
  const std::string text = request_with("GET / HTTP/1.1",
                                        "Connection: keep-alive, Upgrade\r\n"
                                        "Upgrade: WebSocket\r\n"
                                        "X-List: a,b ,\tc\t, ,d\r\n"
                                        "X-Other: one\r\nx-other: two, three\r\n");
  const Request req = parse_request(text);
  EXPECT_TRUE(req.header_has_token("Connection", "upgrade"));
  EXPECT_TRUE(req.header_has_token("connection", "Keep-Alive"));
  EXPECT_FALSE(req.header_has_token("Connection", "close"));
  EXPECT_FALSE(req.header_has_token("Connection", "keep"));
  EXPECT_FALSE(req.header_has_token("Connection", "keep-alive, Upgrade")) << "a token, not the whole value";
  EXPECT_TRUE(req.header_has_token("Upgrade", "websocket"));
  for (const char* t : {"a", "b", "c", "d"}) EXPECT_TRUE(req.header_has_token("X-List", t)) << t;
  EXPECT_FALSE(req.header_has_token("X-List", "e"));
  // Every header of the name counts, not only the first.
  EXPECT_TRUE(req.header_has_token("X-Other", "three"));
  EXPECT_FALSE(req.header_has_token("Missing", "x"));
}

TEST(RequestParser, Iequals) {
  EXPECT_TRUE(iequals("Upgrade", "uPGRADE"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Upgrade", "Upgrades"));
  EXPECT_FALSE(iequals("[", "{")) << "only letters fold";
  EXPECT_FALSE(iequals("@", "`"));
}

// ---- Refusals ----------------------------------------------------------------------------------

TEST(RequestParser, BadMethodCharacters) {
  expect_refused(request_with("G(T / HTTP/1.1"), 400);
  expect_refused(request_with("GE\"T / HTTP/1.1"), 400);
  expect_refused(request_with("GET: / HTTP/1.1"), 400);
  expect_refused(request_with("G\xC3\x89T / HTTP/1.1"), 400);
  expect_refused(request_with(" GET / HTTP/1.1"), 400);
  expect_refused(request_with("GET  / HTTP/1.1"), 400);  // empty target
}

TEST(RequestParser, MissingOrMalformedVersion) {
  expect_refused(request_with("GET /"), 400);
  expect_refused(request_with("GET / "), 400);
  expect_refused(request_with("GET / HTTP/1"), 400);
  expect_refused(request_with("GET / HTTP/1.1 "), 400);
  expect_refused(request_with("GET / HTTP/1.10"), 400);
  expect_refused(request_with("GET / http/1.1"), 400);
  expect_refused(request_with("GET / HTTP/x.1"), 400);
  expect_refused(request_with("GET / HTTP-1.1"), 400);
}

TEST(RequestParser, OtherMajorVersionIs505) {
  expect_refused(request_with("GET / HTTP/2.0"), 505);
  expect_refused(request_with("GET / HTTP/0.9"), 505);
  expect_refused(request_with("GET / HTTP/3.0"), 505);
}

TEST(RequestParser, TargetMustBeAnOriginFormPath) {
  expect_refused(request_with("GET chat HTTP/1.1"), 400);
  expect_refused(request_with("GET http://example.com/ HTTP/1.1"), 400);
  expect_refused(request_with("GET * HTTP/1.1"), 400);
  expect_refused(request_with("GET /a\tb HTTP/1.1"), 400);
  expect_refused(request_with("GET /a\x7F HTTP/1.1"), 400);
}

TEST(RequestParser, ObsoleteLineFoldingIs400) {
  expect_refused(request_with("GET / HTTP/1.1", "X-A: one\r\n two\r\n"), 400);
  expect_refused(request_with("GET / HTTP/1.1", "X-A: one\r\n\ttwo\r\n"), 400);
  expect_refused(request_with("GET / HTTP/1.1", " X-A: one\r\n"), 400);
}

TEST(RequestParser, MalformedHeaderLines) {
  expect_refused(request_with("GET / HTTP/1.1", "Host : h\r\n"), 400);   // space before colon
  expect_refused(request_with("GET / HTTP/1.1", "Host\t: h\r\n"), 400);
  expect_refused(request_with("GET / HTTP/1.1", ": no name\r\n"), 400);
  expect_refused(request_with("GET / HTTP/1.1", "NoColon\r\n"), 400);
  expect_refused(request_with("GET / HTTP/1.1", "Bad(Name): x\r\n"), 400);
  expect_refused(request_with("GET / HTTP/1.1", "X-A: bare\nLF\r\n"), 400);
  expect_refused(request_with("GET / HTTP/1.1", "X-A: bare\rCR\r\n"), 400);
  expect_refused(request_with("GET / HTTP/1.1", "X-A\n: v\r\n"), 400);
}

TEST(RequestParser, ControlCharactersAre400) {
  for (char c : {'\x00', '\x01', '\x08', '\x0B', '\x0C', '\x1B', '\x1F', '\x7F'}) {
    SCOPED_TRACE(int(c));
    expect_refused(request_with("GET / HTTP/1.1", std::string("X-A: a") + c + "b\r\n"), 400);
    expect_refused(request_with(std::string("GET /") + c + " HTTP/1.1"), 400);
  }
  // A tab in a value is fine.
  EXPECT_STREQ(status_name(parse_every_way(request_with("GET / HTTP/1.1", "X-A: a\tb\r\n")).status), "complete");
}

TEST(RequestParser, ControlCharacterRefusedBeforeTheBlankLine) {
  size_t fed = 0;
  const std::string text = "GET / HTTP/1.1\r\nX-A: \x01 and more to come\r\n\r\n";
  Parsed p = parse_pieces(text, bytes(text.size()), 16 * 1024, &fed);
  EXPECT_STREQ(status_name(p.status), "error");
  EXPECT_EQ(p.http_status, 400);
  EXPECT_EQ(fed, text.find('\x01') + 1);
}

TEST(RequestParser, MoreThan64HeadersIs431) {
  std::string headers;
  for (int i = 0; i < 65; ++i) headers += "X-H" + std::to_string(i) + ": v\r\n";
  expect_refused(request_with("GET / HTTP/1.1", headers), 431);
}

TEST(RequestParser, HeadOverMaxSizeIs431WithoutWaitingForTheEnd) {
  const size_t max = 1024;
  std::string text = "GET / HTTP/1.1\r\nX-Big: " + std::string(4000, 'b') + "\r\n\r\n";
  expect_refused(text, 431, max);
  // Refused once `max` bytes have arrived, with no blank line in sight.
  size_t fed = 0;
  Parsed p = parse_pieces(text, bytes(text.size()), max, &fed);
  EXPECT_EQ(p.http_status, 431);
  EXPECT_EQ(fed, max);
  // The default limit is 16 KiB.
  expect_refused("GET / HTTP/1.1\r\nX-Big: " + std::string(17000, 'b') + "\r\n\r\n", 431);
}

TEST(RequestParser, TlsClientHelloIsRefusedImmediately) {
  // A TLS handshake to the plain port: record type 0x16, version 3.1, ... No blank line ever.
  const std::string hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  for (size_t n = 1; n <= hello.size(); ++n) {
    RequestParser parser;
    Request req;
    ParseResult r = parser.parse(std::string_view(hello).substr(0, n), req);
    EXPECT_STREQ(status_name(r.status), "error") << "after " << n << " bytes";
    EXPECT_EQ(capstan::http_status_of(r.error), 400);
  }
}

TEST(RequestParser, NonTokenGarbageIsRefusedAtTheFirstBadByte) {
  // Where the method can no longer be a token: the parser must say 400 right there.
  const std::pair<std::string, size_t> cases[] = {
      {"\x80\x81\x82 junk", 0},
      {"GE{T / HTTP/1.1", 2},
      {"SSH-2.0-OpenSSH_9.2\r\n", 19},  // all token characters up to the CR
      {"\xEF\xBB\xBFGET / HTTP/1.1", 0},  // a byte order mark
  };
  for (const auto& [garbage, first_bad] : cases) {
    SCOPED_TRACE(testing::PrintToString(garbage));
    size_t fed = 0;
    Parsed p = parse_pieces(garbage, bytes(garbage.size()), 16 * 1024, &fed);
    EXPECT_STREQ(status_name(p.status), "error");
    EXPECT_EQ(p.http_status, 400);
    EXPECT_EQ(fed, first_bad + 1);
  }
}

TEST(RequestParser, LongMethodTokenWithoutSpaceWaitsForTheLimit) {
  // All token characters: could still be a (silly) method, so only the size limit ends it.
  const size_t max = 512;
  const std::string text(max + 10, 'A');
  size_t fed = 0;
  Parsed p = parse_pieces(text, bytes(text.size()), max, &fed);
  EXPECT_EQ(p.http_status, 431);
  EXPECT_EQ(fed, max);
}

// Seconds taken to feed `text` one byte more per call, as a connection reading a slow client
// does; gives up (returning what it took so far) once `give_up` seconds have passed.
double seconds_to_feed_bytewise(const std::string& text, size_t max_head, double give_up) {
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  RequestParser parser(max_head);
  Request req;
  for (size_t n = 1; n <= text.size(); ++n) {
    if (parser.parse(std::string_view(text).substr(0, n), req).status != Status::incomplete) break;
    if (n % 1024 == 0 && elapsed() > give_up) break;
  }
  return elapsed();
}

TEST(RequestParser, ByteByByteFeedingIsLinearEvenWhileTheMethodIsUnfinished) {
  // request_parser.hpp: "the parser remembers how far it has scanned, so input split at any
  // byte costs linear time". A 64 KiB head whose request line is done (a long header value)
  // is the linear baseline; a 64 KiB head still inside its first token (no space yet) must
  // not cost much more. Timing bound with a wide margin: quadratic rescanning is ~1000x.
  const size_t n = 64 * 1024;
  const std::string value_head = "GET / HTTP/1.1\r\nX-Long: " + std::string(n - 24, 'a');
  const std::string method_head(n, 'A');
  const double baseline = seconds_to_feed_bytewise(value_head, n + 1, 10.0);
  const double bound = 20 * baseline + 0.1;
  const double token = seconds_to_feed_bytewise(method_head, n + 1, bound);
  EXPECT_LT(token, bound) << "feeding an unfinished method byte by byte took over " << bound << " s (baseline "
                          << baseline << " s): the method check rescans the buffer from its start on every call";
}

TEST(RequestParser, ResetStartsAFreshScan) {
  RequestParser parser;
  Request req;
  EXPECT_STREQ(status_name(parser.parse("GET / HTTP/1.1\r\nHost: a\r\n", req).status), "incomplete");
  parser.reset();
  const std::string other = request_with("GET /other HTTP/1.1");
  ParseResult r = parser.parse(other, req);
  ASSERT_STREQ(status_name(r.status), "complete");
  EXPECT_EQ(req.path, "/other");
  EXPECT_EQ(r.head_size, other.size());
}

}  // namespace
}  // namespace capstan::http
