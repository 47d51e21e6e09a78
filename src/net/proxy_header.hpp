// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2): what a proxy
// writes before its client's bytes to name the client, nginx with `proxy_protocol on` (text,
// version 1), HAProxy with `send-proxy` (1) or `send-proxy-v2` (binary, 2). Pure: bytes in, a
// verdict out, no I/O and no state, so any split of the input gives the same answer; the
// caller keeps the bytes while the verdict is `incomplete` (version 1 is at most 107 bytes,
// version 2 at most `max_size`, which bounds what a proxy may make us hold).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/socket_address.hpp"

namespace capstan::net {

enum class ProxyHeaderError : uint8_t {
  none = 0,
  not_a_proxy_header,  // neither signature: the peer speaks something else (plain HTTP, TLS)
  v1_too_long,         // no CRLF within 107 bytes
  v1_malformed,        // not "PROXY TCP4|TCP6|UNKNOWN ..." with its five fields
  v1_bad_address,      // an address that is not of the named family, or a port over 65535
  v2_bad_version,      // the version nibble is not 2
  v2_bad_command,      // neither LOCAL nor PROXY
  v2_bad_family,       // an address family or transport this server cannot use
  v2_short_addresses,  // the length is smaller than the family's address block
  too_large,           // a version 2 header longer than max_size
};

struct ProxyHeader {
  enum class Status : uint8_t { incomplete, complete, error };
  Status status = Status::incomplete;
  ProxyHeaderError error = ProxyHeaderError::none;
  size_t size = 0;          // complete: the header's bytes, to skip before the client's own
  bool has_source = false;  // false: LOCAL, UNKNOWN or no address family; the socket's peer stands
  CompactAddress source;    // the client, unmapped (::ffff:a.b.c.d is a.b.c.d)
  CompactAddress destination;
};

// The header at the start of `bytes` (everything received so far).
ProxyHeader parse_proxy_header(std::string_view bytes, size_t max_size) noexcept;
std::string_view describe(ProxyHeaderError error) noexcept;

}  // namespace capstan::net
