// Finds the JWT in an upgrade request, from the sources [auth].sources lists, in order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "capstan/error.hpp"

namespace capstan::http {
struct Request;
}

namespace capstan::auth {

struct TokenSource {
  enum class Kind : uint8_t { query, header, protocol, cookie };
  Kind kind;
  std::string name;  // query parameter, header or cookie name; empty for protocol
};

// Parses "query:token", "header:Authorization", "protocol", "cookie:BEARER". Anything else is
// ConfigError::invalid, as the config check reports it.
Expected<std::vector<TokenSource>> parse_token_sources(const std::vector<std::string>& specs);

struct FoundToken {
  std::string token;  // percent-decoded when it came from the query string
  // When the token came as a subprotocol: the protocol to answer with. A browser fails the
  // handshake unless the server selects one of the protocols it offered, so this is another
  // offered protocol when there is one, else the token itself.
  std::string protocol_answer;
  bool from_protocol = false;
};

// The first token found. `route_protocols` are the subprotocols the route accepts: one of
// them, when offered beside a token, is the preferred answer. An offered subprotocol is taken
// for a token when it has the compact JWS shape: three non-empty base64url parts, the first
// starting with "ey" (an encoded '{'), so names like "wamp.2.json" are not mistaken for one.
// Every header line of a repeated header (Sec-WebSocket-Protocol, Cookie) is searched.
bool find_token(const http::Request& request, std::string_view query, const std::vector<TokenSource>& sources,
                const std::vector<std::string>& route_protocols, FoundToken& out);

}  // namespace capstan::auth
