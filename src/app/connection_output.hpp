// The output of a connection: frames into the loop's cork (the connection being handled) or
// its deferred output (anyone else), what the kernel refuses into the connection's outbox with
// writability watched only meanwhile, the send-buffer cap for slow readers, and the half-close
// after our last word. A part of ConnectionImpl: no state of its
// own: functions of the connection, which they take first.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "app/connection_impl.hpp"

namespace capstan::app {

class OutputPath {
 public:
  OutputPath() = delete;
  static SendStatus send_message(ConnectionImpl& c, std::string_view data, Opcode opcode);
  // Connection::send_to_many: one frame, built and stored once, deferred to every connection
  // that can take it as it is; the others (compressing, the one corked, a backlog near the
  // cap) go through send_message.
  static size_t send_to_many(LoopContext& loop, std::span<Connection* const> to, std::string_view data, Opcode opcode);
  static SendStatus queue_frame(ConnectionImpl& c, Opcode opcode, const char* data, size_t size, bool exempt_from_cap, bool rsv1 = false);
  // Bytes that are no frame (an HTTP response), in order with the rest.
  static void queue_raw(ConnectionImpl& c, const char* data, size_t size);
  // The cork's bytes of this connection; what the kernel refuses is queued.
  static void write_out(ConnectionImpl& c, const char* data, size_t size);
  // This connection's deferred frames of the turn in one sendmsg; what the kernel refuses is
  // queued within limits.send_buffer, else the connection is dropped.
  static void write_frames(ConnectionImpl& c, const iovec* iov, size_t count);
  static void on_writable(ConnectionImpl& c);
  static void arm_writable(ConnectionImpl& c, bool on) noexcept;
  static size_t pending_output(const ConnectionImpl& c) noexcept;
  // Our last word is queued: flush it, half-close, and discard input until the peer hangs up.
  static void enter_draining(ConnectionImpl& c);
  static void finish_drain_if_flushed(ConnectionImpl& c);

 private:
  static std::string_view compress_message(ConnectionImpl& c, std::string_view message);  // connection_compression.cpp
  // A frame too big for the cap: straight to the kernel, and the rest (if it fits) queued.
  static size_t write_through(ConnectionImpl& c, const iovec (&frame)[2]);
  // What the kernel did not take of `iov` (its first `written` bytes left) goes to the
  // outbox, which then waits for writability. Throws std::bad_alloc.
  static void keep_unsent(ConnectionImpl& c, const iovec* iov, size_t count, size_t written);
  static Outbox& make_outbox(ConnectionImpl& c);  // throws std::bad_alloc (also when failure injection says so)
  // Memory ran out while queueing output (compression, the outbox): this connection is dropped.
  static void output_failed(ConnectionImpl& c) noexcept;

};

}  // namespace capstan::app
