// A list of addresses and CIDR blocks ("127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"): the
// proxies whose word on a client's address is believed (server.trusted_proxies). An IPv4-mapped
// IPv6 address (::ffff:10.1.2.3, what a dual-stack socket reports for an IPv4 peer) is the
// IPv4 address it maps, for matching as for the per-address limits.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "net/socket_address.hpp"

namespace capstan::net {

// A numeric IPv4 or IPv6 address alone (no port, no brackets) into `out`, port 0, unmapped;
// false for anything else.
bool parse_ip(std::string_view text, CompactAddress& out) noexcept;
// ::ffff:a.b.c.d as the IPv4 address a.b.c.d (port kept); any other address unchanged.
CompactAddress unmapped(const CompactAddress& address) noexcept;

class AddressSet {
 public:
  // "ADDRESS" or "ADDRESS/BITS"; false, and nothing added, when malformed. Host bits under
  // the mask are ignored ("10.1.2.3/8" is 10.0.0.0/8), as nginx's set_real_ip_from does.
  bool add(std::string_view text);
  bool contains(const CompactAddress& address) const noexcept;
  bool empty() const noexcept { return blocks_.empty(); }

 private:
  struct Block {
    uint8_t family = 0;
    uint8_t bits = 0;
    uint8_t bytes[16] = {};
  };
  std::vector<Block> blocks_;
};

}  // namespace capstan::net
