// parse_listen_address ("host:port", "[v6]:port", localhost; nothing resolved) and
// CompactAddress (from a sockaddr and back to text, an IPv4-mapped address unmapped).
#include "net/socket_address.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

namespace capstan::net {
namespace {

std::optional<ListenAddress> parse(std::string_view text) {
  auto parsed = parse_listen_address(text);
  if (!parsed) return std::nullopt;
  return *std::move(parsed);
}

// The address as text, read back from the sockaddr the parser filled in.
std::string bound_text(const ListenAddress& a) {
  return CompactAddress::from(reinterpret_cast<const sockaddr*>(&a.storage)).to_string();
}

TEST(SocketAddress, Ipv4) {
  auto a = parse("127.0.0.1:8080");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->length, sizeof(sockaddr_in));
  const auto* in = reinterpret_cast<const sockaddr_in*>(&a->storage);
  EXPECT_EQ(in->sin_family, AF_INET);
  EXPECT_EQ(ntohs(in->sin_port), 8080);
  EXPECT_EQ(ntohl(in->sin_addr.s_addr), 0x7F000001u);
  EXPECT_EQ(a->text, "127.0.0.1:8080");
  EXPECT_EQ(bound_text(*a), "127.0.0.1:8080");
}

TEST(SocketAddress, AnyAddressAndPortBounds) {
  EXPECT_EQ(bound_text(*parse("0.0.0.0:80")), "0.0.0.0:80");
  EXPECT_EQ(bound_text(*parse("10.1.2.3:0")), "10.1.2.3:0");
  EXPECT_EQ(bound_text(*parse("10.1.2.3:65535")), "10.1.2.3:65535");
}

TEST(SocketAddress, Ipv6InBrackets) {
  auto a = parse("[::1]:9000");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->length, sizeof(sockaddr_in6));
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a->storage);
  EXPECT_EQ(in6->sin6_family, AF_INET6);
  EXPECT_EQ(ntohs(in6->sin6_port), 9000);
  EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));
  EXPECT_EQ(bound_text(*a), "[::1]:9000");
  EXPECT_EQ(bound_text(*parse("[::]:443")), "[::]:443");
  EXPECT_EQ(bound_text(*parse("[2001:db8::42]:1")), "[2001:db8::42]:1");
}

TEST(SocketAddress, LocalhostMeansIpv4Loopback) {
  auto a = parse("localhost:8080");
  ASSERT_TRUE(a);
  EXPECT_EQ(bound_text(*a), "127.0.0.1:8080");
  EXPECT_EQ(a->text, "localhost:8080");
}

TEST(SocketAddress, Refusals) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "HOST:PORT"},
      {"8080", "HOST:PORT"},
      {"127.0.0.1", "HOST:PORT"},
      {"127.0.0.1:", "invalid port"},
      {"127.0.0.1:http", "invalid port"},
      {"127.0.0.1:65536", "invalid port"},
      {"127.0.0.1:99999999999", "invalid port"},
      {"127.0.0.1:-1", "invalid port"},
      {"127.0.0.1:+80", "invalid port"},
      {"127.0.0.1: 80", "invalid port"},
      {"127.0.0.1:80 ", "invalid port"},
      {"127.0.0.1:80x", "invalid port"},
      {":8080", "invalid address"},
      {"example.com:80", "invalid address"},
      {"256.0.0.1:80", "invalid address"},
      {"127.0.0:80", "invalid address"},
      {"[::1]", "[IPv6]:PORT"},
      {"[::1]8080", "[IPv6]:PORT"},
      {"[::1:8080", "[IPv6]:PORT"},
      {"[::1]:", "invalid port"},
      {"[fe80::1%eth0]:80", "invalid address"},
      {"[not-an-address]:80", "invalid address"},
  };
  for (auto [text, words] : cases) {
    SCOPED_TRACE(text);
    auto parsed = parse_listen_address(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error(), ConfigError::invalid);
    const std::string error = parsed.error().message();
    EXPECT_NE(error.find(words), std::string::npos) << "error: " << error;
  }
}

TEST(CompactAddress, FromSockaddrIn) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(4242);
  inet_pton(AF_INET, "192.168.1.20", &in.sin_addr);
  CompactAddress a = CompactAddress::from(reinterpret_cast<const sockaddr*>(&in));
  EXPECT_EQ(a.family, AF_INET);
  EXPECT_EQ(a.port, 4242);
  EXPECT_EQ(a.to_string(), "192.168.1.20:4242");
}

TEST(CompactAddress, FromSockaddrIn6) {
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(65535);
  inet_pton(AF_INET6, "2001:db8:0:0:1:0:0:1", &in6.sin6_addr);
  CompactAddress a = CompactAddress::from(reinterpret_cast<const sockaddr*>(&in6));
  EXPECT_EQ(a.family, AF_INET6);
  EXPECT_EQ(a.port, 65535);
  EXPECT_EQ(a.to_string(), "[2001:db8::1:0:0:1]:65535");
}

TEST(CompactAddress, UnmappedTurnsAnIPv4MappedAddressIntoIPv4) {
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(4711);
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:127.0.0.1", &sa.sin6_addr), 1);
  const CompactAddress mapped = CompactAddress::from(reinterpret_cast<const sockaddr*>(&sa));
  const CompactAddress a = mapped.unmapped();
  EXPECT_EQ(a.family, AF_INET);
  EXPECT_EQ(a.port, 4711);
  EXPECT_EQ(a.to_string(), "127.0.0.1:4711");
  const uint8_t zeros[12] = {};
  EXPECT_EQ(std::memcmp(a.bytes + 4, zeros, sizeof zeros), 0) << "laid out as from() lays out IPv4";
  EXPECT_EQ(mapped.to_string(), "[::ffff:127.0.0.1]:4711") << "from() itself keeps what the kernel said";
  for (const char* other : {"::1", "::127.0.0.1", "64:ff9b::7f00:1", "::fffe:7f00:1", "ffff::7f00:1"}) {
    ASSERT_EQ(inet_pton(AF_INET6, other, &sa.sin6_addr), 1) << other;
    const CompactAddress v6 = CompactAddress::from(reinterpret_cast<const sockaddr*>(&sa));
    EXPECT_EQ(v6.unmapped().family, AF_INET6) << other;
    EXPECT_EQ(std::memcmp(v6.unmapped().bytes, v6.bytes, 16), 0) << other;
  }
}

TEST(CompactAddress, UnknownFamily) {
  sockaddr_storage unix_like{};
  unix_like.ss_family = AF_UNIX;
  CompactAddress a = CompactAddress::from(reinterpret_cast<const sockaddr*>(&unix_like));
  EXPECT_EQ(a.family, 0);
  EXPECT_EQ(a.to_string(), "unknown");
  EXPECT_EQ(CompactAddress{}.to_string(), "unknown");
}

}  // namespace
}  // namespace capstan::net
