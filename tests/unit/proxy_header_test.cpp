// parse_proxy_header: versions 1 and 2 as nginx and HAProxy send them, the header split at
// every byte (always `incomplete` until whole, never a different answer), the client's bytes
// behind it left alone, and each malformed form refused with its reason.
#include "net/proxy_header.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>

namespace capstan::net {
namespace {

using Status = ProxyHeader::Status;
constexpr size_t kMax = 16 * 1024;

const std::string kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

// A version 2 header: version/command byte, family byte, then `body` (addresses and TLVs).
std::string v2(uint8_t version_command, uint8_t family, const std::string& body) {
  std::string h = kV2Signature;
  h += static_cast<char>(version_command);
  h += static_cast<char>(family);
  h += static_cast<char>(body.size() >> 8);
  h += static_cast<char>(body.size() & 0xFF);
  return h + body;
}

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

// Every proper prefix of `header` is incomplete; the whole is the same verdict however it came.
void expect_incomplete_until_whole(const std::string& header) {
  for (size_t n = 0; n < header.size(); ++n)
    EXPECT_EQ(parse_proxy_header(std::string_view(header).substr(0, n), kMax).status, Status::incomplete) << n;
}

TEST(ProxyHeader, V1Tcp4AsNginxSendsIt) {
  const std::string header = "PROXY TCP4 203.0.113.7 127.0.0.1 51234 8080\r\n";
  const std::string request = "GET / HTTP/1.1\r\n";
  const ProxyHeader h = parse_proxy_header(header + request, kMax);
  ASSERT_EQ(h.status, Status::complete);
  EXPECT_EQ(h.size, header.size());
  ASSERT_TRUE(h.has_source);
  EXPECT_EQ(h.source.to_string(), "203.0.113.7:51234");
  EXPECT_EQ(h.destination.to_string(), "127.0.0.1:8080");
  expect_incomplete_until_whole(header);
}

TEST(ProxyHeader, V1Tcp6AndItsLongestForm) {
  const ProxyHeader h = parse_proxy_header("PROXY TCP6 2001:db8::7 ::1 65535 443\r\n", kMax);
  ASSERT_EQ(h.status, Status::complete);
  EXPECT_EQ(h.source.to_string(), "[2001:db8::7]:65535");
  // 107 bytes, the spec's worst case, is still a header.
  const std::string full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const std::string longest = "PROXY TCP6 " + full + " " + full + " 65535 65535\r\n";
  ASSERT_EQ(longest.size(), 104u);
  EXPECT_EQ(parse_proxy_header(longest, kMax).status, Status::complete);
  // A mapped IPv4 client over TCP6 is the IPv4 client.
  EXPECT_EQ(parse_proxy_header("PROXY TCP6 ::ffff:192.0.2.1 ::1 1 2\r\n", kMax).source.to_string(), "192.0.2.1:1");
}

TEST(ProxyHeader, V1UnknownKeepsThePeer) {
  for (const char* line : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"}) {
    const ProxyHeader h = parse_proxy_header(line, kMax);
    ASSERT_EQ(h.status, Status::complete) << line;
    EXPECT_FALSE(h.has_source);
    EXPECT_EQ(h.size, std::string(line).size());
  }
}

TEST(ProxyHeader, V1MalformedLinesAreRefused) {
  const std::pair<const char*, ProxyHeaderError> cases[] = {
      {"PROXY TCP4 203.0.113.7 127.0.0.1 51234\r\n", ProxyHeaderError::v1_malformed},
      {"PROXY TCP4 203.0.113.7  127.0.0.1 1 2\r\n", ProxyHeaderError::v1_malformed},
      {"PROXY TCP4 203.0.113.7 127.0.0.1 1 2 3\r\n", ProxyHeaderError::v1_malformed},
      {"PROXY UDP4 203.0.113.7 127.0.0.1 1 2\r\n", ProxyHeaderError::v1_malformed},
      {"PROXY TCP4 203.0.113.7 127.0.0.1 1 2\n", ProxyHeaderError::v1_malformed},
      {"PROXY TCP4 2001:db8::1 127.0.0.1 1 2\r\n", ProxyHeaderError::v1_bad_address},
      {"PROXY TCP6 203.0.113.7 ::1 1 2\r\n", ProxyHeaderError::v1_bad_address},
      {"PROXY TCP4 203.0.113.700 127.0.0.1 1 2\r\n", ProxyHeaderError::v1_bad_address},
      {"PROXY TCP4 203.0.113.7 127.0.0.1 65536 2\r\n", ProxyHeaderError::v1_bad_address},
      {"PROXY TCP4 203.0.113.7 127.0.0.1 -1 2\r\n", ProxyHeaderError::v1_bad_address},
      {"PROXY TCP4 203.0.113.7 127.0.0.1 0x1 2\r\n", ProxyHeaderError::v1_bad_address},
  };
  for (const auto& [line, error] : cases) {
    const ProxyHeader h = parse_proxy_header(line, kMax);
    EXPECT_EQ(h.status, Status::error) << line;
    EXPECT_EQ(h.error, error) << line << ": " << describe(h.error);
  }
}

TEST(ProxyHeader, V1WithoutCrlfWithin107BytesIsTooLong) {
  const std::string endless = "PROXY TCP4 " + std::string(200, '1');
  EXPECT_EQ(parse_proxy_header(endless.substr(0, 106), kMax).status, Status::incomplete);
  EXPECT_EQ(parse_proxy_header(endless.substr(0, 107), kMax).error, ProxyHeaderError::v1_too_long);
}

TEST(ProxyHeader, OtherProtocolsAreToldAtTheFirstWrongByte) {
  EXPECT_EQ(parse_proxy_header("G", kMax).error, ProxyHeaderError::not_a_proxy_header);  // plain HTTP
  EXPECT_EQ(parse_proxy_header("\x16\x03\x01", kMax).error, ProxyHeaderError::not_a_proxy_header);  // TLS
  EXPECT_EQ(parse_proxy_header("PROXX", kMax).error, ProxyHeaderError::not_a_proxy_header);
  EXPECT_EQ(parse_proxy_header("\r\n\r\nX", kMax).error, ProxyHeaderError::not_a_proxy_header);
  EXPECT_EQ(parse_proxy_header("PROX", kMax).status, Status::incomplete);
}

TEST(ProxyHeader, V2Ipv4WithTlvsAsHaproxySendsIt) {
  const std::string addresses = bytes({203, 0, 113, 7, 127, 0, 0, 1, 0xC8, 0x22, 0x1F, 0x90});  // 51234, 8080
  const std::string tlvs = bytes({0x01, 0x00, 0x02, 'h', '2', 0x04, 0x00, 0x00});  // ALPN "h2", a NOOP
  const std::string header = v2(0x21, 0x11, addresses + tlvs);
  const ProxyHeader h = parse_proxy_header(header + "GET", kMax);
  ASSERT_EQ(h.status, Status::complete);
  EXPECT_EQ(h.size, header.size());
  ASSERT_TRUE(h.has_source);
  EXPECT_EQ(h.source.to_string(), "203.0.113.7:51234");
  EXPECT_EQ(h.destination.to_string(), "127.0.0.1:8080");
  expect_incomplete_until_whole(header);
}

TEST(ProxyHeader, V2Ipv6) {
  std::string addresses(36, '\0');
  addresses[0] = static_cast<char>(0x20);
  addresses[1] = static_cast<char>(0x01);
  addresses[2] = static_cast<char>(0x0d);
  addresses[3] = static_cast<char>(0xb8);
  addresses[15] = 7;   // 2001:db8::7
  addresses[31] = 1;   // ::1
  addresses[32] = 0x01;
  addresses[33] = 0x00;  // port 256
  const ProxyHeader h = parse_proxy_header(v2(0x21, 0x21, addresses), kMax);
  ASSERT_EQ(h.status, Status::complete);
  EXPECT_EQ(h.source.to_string(), "[2001:db8::7]:256");
  EXPECT_EQ(h.source.family, AF_INET6);
}

TEST(ProxyHeader, V2LocalAndUnspecKeepThePeer) {
  // LOCAL: HAProxy's own health check; its address block, if any, is ignored.
  const ProxyHeader local = parse_proxy_header(v2(0x20, 0x11, bytes({1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2})), kMax);
  ASSERT_EQ(local.status, Status::complete);
  EXPECT_FALSE(local.has_source);
  const ProxyHeader unspec = parse_proxy_header(v2(0x21, 0x00, ""), kMax);
  ASSERT_EQ(unspec.status, Status::complete);
  EXPECT_FALSE(unspec.has_source);
  EXPECT_EQ(unspec.size, 16u);
}

TEST(ProxyHeader, V2MalformedHeadersAreRefusedBeforeTheirBody) {
  const std::string addresses = bytes({203, 0, 113, 7, 127, 0, 0, 1, 0, 1, 0, 2});
  EXPECT_EQ(parse_proxy_header(v2(0x11, 0x11, addresses), kMax).error, ProxyHeaderError::v2_bad_version);
  EXPECT_EQ(parse_proxy_header(v2(0x22, 0x11, addresses), kMax).error, ProxyHeaderError::v2_bad_command);
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x12, addresses), kMax).error, ProxyHeaderError::v2_bad_family);  // UDP
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x41, addresses), kMax).error, ProxyHeaderError::v2_bad_family);
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x11, addresses.substr(0, 11)), kMax).error, ProxyHeaderError::v2_short_addresses);
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x21, addresses), kMax).error, ProxyHeaderError::v2_short_addresses);
  // Announcing 64 KiB is refused from the fixed part alone, before anything is held.
  const std::string huge = kV2Signature + bytes({0x21, 0x11, 0xFF, 0xFF});
  EXPECT_EQ(parse_proxy_header(huge, kMax).error, ProxyHeaderError::too_large);
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x11, addresses), 27).error, ProxyHeaderError::too_large);
  EXPECT_EQ(parse_proxy_header(v2(0x21, 0x11, addresses), 28).status, Status::complete);
}

TEST(ProxyHeader, EveryErrorHasItsOwnDescription) {
  for (int e = 1; e <= static_cast<int>(ProxyHeaderError::too_large); ++e)
    EXPECT_NE(describe(static_cast<ProxyHeaderError>(e)), "?") << e;
}

}  // namespace
}  // namespace capstan::net
