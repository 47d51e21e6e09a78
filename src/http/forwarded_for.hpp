// The client's address from X-Forwarded-For, read as nginx's realip module reads it with
// `real_ip_recursive on`: the listed addresses right to left (each proxy appends the peer it
// saw), skipping trusted proxies; the first address that is not a trusted proxy is the client.
// Whatever an untrusted client wrote further left is never believed. Asked only for a
// connection whose own peer is a trusted proxy.
#pragma once

#include <optional>

#include "http/request_parser.hpp"
#include "net/address_set.hpp"
#include "net/socket_address.hpp"

namespace capstan::http {

// nullopt: no X-Forwarded-For, or its right-most entry is not an address; the peer stands.
// The address has port 0: the header does not carry the client's port.
std::optional<net::CompactAddress> client_from_forwarded_for(const Request& request, const net::AddressSet& trusted);

}  // namespace capstan::http
