// Socket addresses: "host:port" / "[v6]:port" parsing, formatting, and a compact form
// that connections keep (20 bytes instead of a 128-byte sockaddr_storage).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "capstan/error.hpp"

namespace capstan::net {

struct CompactAddress {
  uint8_t family = 0;  // AF_INET or AF_INET6
  uint16_t port = 0;   // host order
  uint8_t bytes[16] = {};

  static CompactAddress from(const sockaddr* sa) noexcept;
  std::string to_string() const;  // "127.0.0.1:8080" or "[::1]:8080"
  // The IPv4 address an IPv4-mapped IPv6 one (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) stands for,
  // else this address. A dual-stack listener reports IPv4 clients that way, so whatever counts
  // clients (the per-address limits) compares unmapped addresses: one client, one address.
  CompactAddress unmapped() const noexcept;
};

struct ListenAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string text;
};

// Parses "127.0.0.1:8080", "[::1]:8080", "localhost:8080" (numeric addresses and localhost
// only: a server binds what it is told, it does not resolve names).
// A malformed one is ConfigError::invalid, with what was expected.
Expected<ListenAddress> parse_listen_address(std::string_view text);

}  // namespace capstan::net
