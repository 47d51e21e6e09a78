// The WebSocket opening handshake (RFC 6455 §4.2): which requests are upgrades, what makes
// one invalid, the Sec-WebSocket-Accept key, and the 101 response.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "http/request_parser.hpp"

namespace capstan::http {

struct UpgradeCheck {
  enum class Kind : uint8_t { not_websocket, websocket, invalid };
  Kind kind = Kind::not_websocket;
  HttpError error{};         // for invalid; http_status_of(error) is 400, 405 or 426
  std::string_view key;      // Sec-WebSocket-Key, for websocket
};

// Classifies a parsed request. A request without `Upgrade: websocket` is plain HTTP.
UpgradeCheck check_upgrade(const Request& request) noexcept;

// base64(SHA-1(key + GUID)), RFC 6455 §4.2.2 step 5.4. 28 characters.
std::string accept_key(std::string_view key);

// The first of the client's offered subprotocols (in its order) that the route supports,
// or empty.
std::string_view select_subprotocol(const Request& request, std::span<const std::string> supported) noexcept;

// Appends the 101 Switching Protocols response.
void append_switching_protocols(std::string& out, std::string_view accept, std::string_view protocol,
                                std::string_view extensions = {});

}  // namespace capstan::http
