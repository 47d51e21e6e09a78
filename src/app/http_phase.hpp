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
struct UpgradeCheck;
}

namespace capstan::backend {
struct ConnectAnswer;
}

namespace capstan::app {

class HttpPhase {
 public:
  HttpPhase() = delete;
  // Bytes read while the connection is in the http state.
  static void on_data(ConnectionImpl& c, const char* data, size_t size);
  // A plain request's answer (http_exchange.cpp), in order with the rest of the output.
  static void write_response(ConnectionImpl& c, std::string_view bytes);
  // The answer is complete: the next request is read, or the connection drains.
  static void response_complete(ConnectionImpl& c, bool keep_alive);
  // The worker's answer to the user lookup (http_auth.cpp); `refuse_code` 0: found.
  static void finish_lookup(ConnectionImpl& c, uint16_t refuse_code, int64_t user_id, std::string identity, std::string claims,
                     std::string_view error);

 private:
  // Every complete request in `input` (the buffer's bytes when `in_buffer`) in turn, until
  // one is answered later, upgrades, or needs more bytes.
  static void parse_requests(ConnectionImpl& c, std::string_view input, bool in_buffer);
  static void handle_upgrade(ConnectionImpl& c, const http::Request& request, const http::UpgradeCheck& upgrade,
                             const char* after_head, size_t after_size);
  // http_requests.cpp: plain requests. False when the request was refused (its method, its
  // body's size or framing); else `body_size` is what its Content-Length announces.
  static bool plain_request_fits(ConnectionImpl& c, const http::Request& request, size_t& body_size);
  // To the endpoint, the static file, or the route's component.
  static void serve_plain(ConnectionImpl& c, const http::Request& request, std::string_view body);
  // Answers the refusal with its status and text, then drains; refuse_upgrade also counts it
  // as a refused handshake (/metrics).
  static void respond_and_drain(ConnectionImpl& c, HttpError error);
  static void refuse_upgrade(ConnectionImpl& c, HttpError error);
  // The token, its verification and the user lookup, then open_now. `switching` is the 101:
  // sent at once, or once the user was looked up, so a client that sees the connection open
  // is already reachable by user.
  static void start_authentication(ConnectionImpl& c, std::string_view token, std::string switching, const char* after_head, size_t after_size);
  // The connect proxy's request for `c`, and what its answer makes of the connection.
  static void start_proxy(ConnectionImpl& c, std::string switching, const char* after_head, size_t after_size);
  static void finish_proxy(ConnectionImpl& c, const backend::ConnectAnswer& answer);
  // Holds the 101 and reading while someone is asked who the connection is; release_handshake
  // sends the 101 (false: the connection closed meanwhile), open_held opens it with what the
  // client sent early.
  static void hold_handshake(ConnectionImpl& c, std::string switching, const char* after_head, size_t after_size);
  static bool release_handshake(ConnectionImpl& c);
  static void open_held(ConnectionImpl& c);
  static void refuse(ConnectionImpl& c, uint16_t code, std::string_view reason);
  static std::string negotiate_compression(ConnectionImpl& c, const http::Request& request);  // connection_compression.cpp
  // http_client_address.cpp: the client behind a trusted proxy. Bytes while its PROXY header
  // is due (the header read, the rest handed to parse_requests; a malformed one closes).
  static void on_proxy_header_data(ConnectionImpl& c, const char* data, size_t size);
  // The first request of a trusted proxy's connection: X-Forwarded-For names the client, who
  // is counted per address then. False: refused (429) and draining.
  static bool settle_forwarded_client(ConnectionImpl& c, const http::Request& request);
  // Counts the connection's address in the per-address limits; false: refused and draining.
  static bool admit_client(ConnectionImpl& c);
  // The 101 is queued: records the handshake's duration, then starts the ping clock.
  static void switching_protocols_sent(ConnectionImpl& c) noexcept;
  // The connection is the component's: on_open, then the frames that came behind the request.
  static void open_now(ConnectionImpl& c, const char* early, size_t early_size);

};

}  // namespace capstan::app
