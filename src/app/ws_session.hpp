// The WebSocket session of a connection, from the 101 to the end: frames from the decoder to
// the component (with the message rate and permessage-deflate's inflation), pings, the close
// handshake with its codes, and the timeouts the loop's coarse tick checks. A part of
// ConnectionImpl: no state of its own: functions of the connection,
// which they take first (a wrapper object cost ~25 instructions per echo in callgrind).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "app/connection_impl.hpp"

namespace capstan::app {

class WsSession {
 public:
  WsSession() = delete;
  // Bytes read while open or closing.
  static void on_data(ConnectionImpl& c, uint8_t* data, size_t size);
  // A protocol fault or a limit: on_error, our close frame with `code`, then draining.
  static void fail(ConnectionImpl& c, WsError error);
  // The same found while the component is sending: on_error is told after its call returned
  // (late_errors.hpp), the close goes out now.
  static void fail_while_sending(ConnectionImpl& c, WsError error);
  // on_error, if the component saw the connection open.
  static void tell_component(ConnectionImpl& c, WsError error);
  // Connection::close: our close frame, then wait for the peer's.
  static void start_close(ConnectionImpl& c, uint16_t code, std::string_view reason);
  static void send_close_frame(ConnectionImpl& c, uint16_t code, std::string_view reason);
  // The loop's coarse tick: handshake, idle, ping and close timeouts.
  static void sweep(ConnectionImpl& c, uint64_t now_ms);
  // messages_per_second: true when this message fits the connection's bucket.
  static bool admit_message(ConnectionImpl& c) noexcept;
  // permessage-deflate (connection_compression.cpp): false when the connection failed.
  static bool inflate_message(ConnectionImpl& c, std::string_view compressed, Opcode opcode, std::string_view& out);

 private:
  // Our close frame for `error`'s code, then draining.
  static void close_for(ConnectionImpl& c, WsError error);

 };

}  // namespace capstan::app
