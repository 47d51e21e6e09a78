// permessage-deflate negotiation (RFC 7692 §5, §7.1): pick the first acceptable offer from a
// Sec-WebSocket-Extensions header and write the matching response. Pure, no zlib.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace capstan::ws {

// What both sides agreed on for one connection.
struct DeflateParams {
  bool server_no_context_takeover = false;  // we reset our compressor after each message
  bool client_no_context_takeover = false;  // the client resets its compressor: so can our inflater
  uint8_t server_max_window_bits = 15;      // our compressor's window
  bool server_bits_offered = false;         // accepting it means answering with it (§7.1.2.1)
};

struct DeflatePolicy {
  // Shared mode: one compressor and one inflater per loop, so both directions must drop
  // context between messages (we may demand that of the client, §7.1.1.2).
  bool force_no_context_takeover = true;
};

// The first offer of `extensions_header` (comma-separated offers, `;`-separated parameters)
// that is well-formed and that we can honour, or nothing. Offers with unknown or repeated
// parameters, or values out of 8..15, are declined (§7.1); so is server_max_window_bits=8,
// which zlib cannot produce (it silently widens 8 to 9).
std::optional<DeflateParams> negotiate_deflate(std::string_view extensions_header, const DeflatePolicy& policy);

// "permessage-deflate; server_no_context_takeover; ..." for the response header.
std::string deflate_response(const DeflateParams& params);

}  // namespace capstan::ws
