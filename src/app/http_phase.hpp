// The HTTP phase of a connection, from the first byte to the 101: the request (split across
// reads or not), the route decision, the plain endpoints and static files, the origin check,
// subprotocol and compression negotiation, authentication (http_auth.cpp), and the hand-over
// to the component. A part of ConnectionImpl: it holds no state of its own (the connection's
// Handshake does): functions of the connection, which they take first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "app/connection_impl.hpp"

namespace capstan::http {
struct Request;
}

namespace capstan::app {

class HttpPhase {
 public:
  HttpPhase() = delete;
  // Bytes read while the connection is in the http state.
  static void on_data(ConnectionImpl& c, const char* data, size_t size);
  // The worker's answer to the user lookup (http_auth.cpp); `refuse_code` 0: found.
  static void finish_lookup(ConnectionImpl& c, uint16_t refuse_code, int64_t user_id, std::string identity, std::string claims,
                     std::string_view error);

 private:
  static void handle_request(ConnectionImpl& c, const http::Request& request, const char* after_head, size_t after_size);
  // Answers the refusal with its status and text, then drains; refuse_upgrade also counts it
  // as a refused handshake (/metrics).
  static void respond_and_drain(ConnectionImpl& c, HttpError error);
  static void refuse_upgrade(ConnectionImpl& c, HttpError error);
  // The token, its verification and the user lookup, then open_now. `switching` is the 101:
  // sent at once, or once the user was looked up, so a client that sees the connection open
  // is already reachable by user.
  static void start_authentication(ConnectionImpl& c, std::string_view token, std::string switching, const char* after_head, size_t after_size);
  static void refuse(ConnectionImpl& c, uint16_t code, std::string_view reason);
  static std::string negotiate_compression(ConnectionImpl& c, const http::Request& request);  // connection_compression.cpp
  // The 101 is queued: records the handshake's duration, then starts the ping clock.
  static void switching_protocols_sent(ConnectionImpl& c) noexcept;
  // The connection is the component's: on_open, then the frames that came behind the request.
  static void open_now(ConnectionImpl& c, const char* early, size_t early_size);

};

}  // namespace capstan::app
