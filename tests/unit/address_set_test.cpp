// AddressSet (server.trusted_proxies): single addresses and CIDR blocks of both families,
// IPv4-mapped IPv6 peers matching IPv4 blocks, and the texts refused.
#include "net/address_set.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace capstan::net {
namespace {

CompactAddress ip(const char* text) {
  CompactAddress a;
  EXPECT_TRUE(parse_ip(text, a)) << text;
  return a;
}

TEST(AddressSet, EmptyContainsNothing) {
  AddressSet set;
  EXPECT_TRUE(set.empty());
  EXPECT_FALSE(set.contains(ip("127.0.0.1")));
}

TEST(AddressSet, SingleAddressesOfBothFamilies) {
  AddressSet set;
  ASSERT_TRUE(set.add("127.0.0.1"));
  ASSERT_TRUE(set.add("::1"));
  EXPECT_TRUE(set.contains(ip("127.0.0.1")));
  EXPECT_FALSE(set.contains(ip("127.0.0.2")));
  EXPECT_TRUE(set.contains(ip("::1")));
  EXPECT_FALSE(set.contains(ip("::2")));
}

TEST(AddressSet, CidrBlocksMatchTheirPrefixOnly) {
  AddressSet set;
  ASSERT_TRUE(set.add("10.0.0.0/8"));
  ASSERT_TRUE(set.add("192.168.4.0/22"));
  ASSERT_TRUE(set.add("fd00::/8"));
  EXPECT_TRUE(set.contains(ip("10.255.1.2")));
  EXPECT_FALSE(set.contains(ip("11.0.0.1")));
  EXPECT_TRUE(set.contains(ip("192.168.7.255")));  // 4.0 - 7.255
  EXPECT_FALSE(set.contains(ip("192.168.8.0")));
  EXPECT_FALSE(set.contains(ip("192.168.3.255")));
  EXPECT_TRUE(set.contains(ip("fdab::1")));
  EXPECT_FALSE(set.contains(ip("fe80::1")));
}

TEST(AddressSet, HostBitsUnderTheMaskAreIgnoredAndZeroBitsMatchAll) {
  AddressSet set;
  ASSERT_TRUE(set.add("10.1.2.3/8"));
  EXPECT_TRUE(set.contains(ip("10.200.0.1")));
  AddressSet all;
  ASSERT_TRUE(all.add("0.0.0.0/0"));
  EXPECT_TRUE(all.contains(ip("203.0.113.9")));
  EXPECT_FALSE(all.contains(ip("2001:db8::1")));  // an IPv4 block never holds IPv6
}

TEST(AddressSet, MappedIpv6PeerIsItsIpv4Address) {
  AddressSet set;
  ASSERT_TRUE(set.add("10.0.0.0/8"));
  CompactAddress mapped;
  mapped.family = AF_INET6;
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:10.1.2.3", mapped.bytes), 1);
  EXPECT_TRUE(set.contains(mapped));
  EXPECT_EQ(unmapped(mapped).family, AF_INET);
  // And a block written in the mapped form is the IPv4 block.
  AddressSet written;
  ASSERT_TRUE(written.add("::ffff:10.0.0.0/104"));
  EXPECT_TRUE(written.contains(ip("10.9.9.9")));
  EXPECT_FALSE(written.contains(ip("11.0.0.0")));
}

TEST(AddressSet, MalformedTextsAreRefusedAndAddNothing) {
  AddressSet set;
  for (const char* bad : {"", "localhost", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x",
                          "10.0.0", "1.2.3.4:80", "[::1]", "::ffff:10.0.0.0/64", " 10.0.0.1"})
    EXPECT_FALSE(set.add(bad)) << bad;
  EXPECT_TRUE(set.empty());
}

TEST(ParseIp, AddressesOnlyAndMappedOnesUnmapped) {
  CompactAddress a;
  ASSERT_TRUE(parse_ip("::ffff:192.0.2.1", a));
  EXPECT_EQ(a.family, AF_INET);
  EXPECT_EQ(a.to_string(), "192.0.2.1:0");
  EXPECT_FALSE(parse_ip("192.0.2.1:80", a));
  EXPECT_FALSE(parse_ip("example.org", a));
  EXPECT_FALSE(parse_ip(std::string(100, '1'), a));
}

}  // namespace
}  // namespace capstan::net
