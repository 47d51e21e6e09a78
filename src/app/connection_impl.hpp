// The server side of one client connection, from accept to reap.
//
// Life of a connection (docs/design.md has the picture):
//   http ──101──> open ──close()──> closing ──peer's close──> draining ──EOF/timeout──> closed
//     │  │              └──peer's close / protocol fault / send-buffer overflow──┘
//     │  └──token valid, user lookup on a worker──> authenticating ──101, found──> open
//     └──plain response or refusal──> draining
// `draining` flushes what is queued, half-closes the socket and discards input until the peer
// hangs up, so a final close frame or HTTP error is not lost to a TCP reset. `closed`
// connections are reaped at the end of the loop turn, never inside their own callbacks.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "capstan/connection.hpp"
#include "net/event_loop.hpp"
#include "net/socket_address.hpp"
#include "ws/frame_decoder.hpp"

namespace capstan::http {
struct Request;
}

namespace capstan::app {

class LoopContext;
class AuthService;

// What only some connections have, in one allocation: one pointer in every connection.
struct Extras {
  std::optional<User> user;       // authenticated connections
  std::string peer_close_reason;  // kept for on_close
};
struct Route;
struct Handshake;
struct Outbox;
struct Compression;

class ConnectionImpl final : public capstan::Connection, public net::Pollable {
 public:
  enum class State : uint8_t { http, authenticating, open, closing, draining, closed };
  static constexpr uint8_t kNoSubprotocol = 0xFF;

  ConnectionImpl(LoopContext& ctx, int fd, const sockaddr* peer, uint64_t id);
  ~ConnectionImpl();

  void on_event(uint32_t events) override;

  // Connection API, implemented in connection_api.cpp and connection_output.cpp.
  SendStatus send_message(std::string_view data, Opcode opcode);
  void start_close(uint16_t code, std::string_view reason);
  void close_now() noexcept;  // drop the socket; the reap at the end of the turn follows

  // Periodic housekeeping from the loop's coarse tick: timeouts and pings.
  void sweep(uint64_t now_ms);
  // Writes `size` bytes (corked data of this connection); queues what the kernel refuses.
  void write_out(const char* data, size_t size);
  // Writes this connection's deferred frames of the turn (deferred_output.hpp) in one
  // sendmsg; queues what the kernel refuses, within limits.send_buffer.
  void write_frames(const iovec* iov, size_t count);
  void set_deferred(bool on) noexcept { deferred_ = on; }
  // Called by the reaper: tells the component, if it saw this connection open.
  void notify_closed();

  State state() const noexcept { return state_; }
  LoopContext& context() const noexcept { return ctx_; }
  const net::CompactAddress& peer() const noexcept { return peer_; }

  // While paused, nothing is read: input waits in the kernel (and TCP pushes back on the
  // client). Used while the user is looked up, before the connection's messages may run.
  void pause_reading() noexcept;
  void resume_reading() noexcept;
  bool reading_paused() const noexcept { return reading_paused_; }

  // The component boundary (component.hpp): `call` runs a callback of the route's component
  // for this connection; if it throws, the exception is logged and this connection ends with
  // 1011. Nothing propagates into the loop, and no other connection notices.
  template <class Call>
  void run_guarded(const char* callback, Call&& call) noexcept {
    try {
      call();
    } catch (const std::exception& e) {
      component_threw(callback, e.what());
    } catch (...) {
      component_threw(callback, "an exception not derived from std::exception");
    }
  }

  // Blocking work for this connection in flight on the worker pool (loop_context.hpp).
  uint8_t& jobs_in_flight() noexcept { return jobs_in_flight_; }
  size_t pending_output() const noexcept;

  // Intrusive list of the loop's connections, for the sweep and shutdown.
  ConnectionImpl* prev = nullptr;
  ConnectionImpl* next = nullptr;
  ConnectionImpl* next_reaped = nullptr;

 private:
  friend class capstan::Connection;
  friend struct DecoderEvents;

  void on_readable();
  void on_writable();
  void handle_http(const char* data, size_t size);
  void handle_request(const http::Request& request, const char* after_head, size_t after_size);
  void respond_and_drain(int status, std::string_view reason);
  // connection_auth.cpp: the token, its verification and the user lookup, then open_now.
  // `switching` is the 101 response: sent at once, or once the user was looked up, so a
  // client that sees the connection open is already reachable by user.
  void start_authentication(std::string_view token, std::string switching, const char* after_head, size_t after_size);
  // `refuse_code` 0: the user was found.
  void finish_lookup(uint16_t refuse_code, int64_t user_id, std::string identity, std::string claims,
                     std::string_view error);
  void refuse(uint16_t code, std::string_view reason);
  // The connection is the component's: on_open, then the frames that came behind the request.
  void open_now(const char* early, size_t early_size);
  // The 101 is queued: records the handshake's duration, then starts the ping clock.
  void switching_protocols_sent() noexcept;
  void update_interest() noexcept;
  Extras& extras();
  void set_user(int64_t id, std::string identity, std::string claims);
  // messages_per_second: true when this message fits the connection's bucket.
  bool admit_message() noexcept;
  void feed_frames(uint8_t* data, size_t size);
  void fail(uint16_t code, std::string_view reason);
  void component_threw(const char* callback, const char* what) noexcept;
  // Memory ran out while queueing output (compression, the outbox): this connection is dropped.
  void output_failed() noexcept;
  Outbox& make_outbox();  // throws std::bad_alloc (also when failure injection says so)
  void enter_draining();
  void finish_drain_if_flushed();
  SendStatus queue_frame(Opcode opcode, const char* data, size_t size, bool exempt_from_cap, bool rsv1 = false);
  // connection_compression.cpp
  std::string negotiate_compression(const http::Request& request);
  std::string_view compress_message(std::string_view message);
  bool inflate_message(std::string_view compressed, Opcode opcode, std::string_view& out);
  void queue_raw(const char* data, size_t size);
  // A frame too big for the cap: straight to the kernel, and the rest (if it fits) queued.
  size_t write_through(const uint8_t* header, size_t header_size, const char* data, size_t size);
  void queue_unsent(const uint8_t* header, size_t header_size, const char* data, size_t size, size_t written);
  void send_close_frame(uint16_t code, std::string_view reason);
  void arm_writable(bool on) noexcept;
  uint32_t now_ms() const noexcept;

  LoopContext& ctx_;
  const Route* route_ = nullptr;
  std::unique_ptr<Handshake> handshake_;  // only during the HTTP phase
  std::unique_ptr<Outbox> outbox_;        // only while the kernel refuses output
  std::unique_ptr<Compression> compression_;  // only when permessage-deflate was negotiated
  std::unique_ptr<DataBase> data_;
  std::unique_ptr<Extras> extras_;             // the user, the peer's close reason: when there are some
  std::string target_;                         // path?query of the upgrade request
  ws::FrameDecoder decoder_;
  uint64_t id_;
  // Loop milliseconds, 32-bit: only differences are compared (now - since, in unsigned
  // arithmetic), which stay exact across the 49-day wrap because every timeout is at most a day.
  uint32_t last_read_ms_ = 0;
  // One field, two lives: until the 101 goes out, when the connection was accepted (for the
  // handshake histogram, metrics::now_us()); from then on, when the last ping went out.
  union {
    uint32_t accepted_us_ = 0;
    uint32_t last_ping_ms_;
  };
  uint32_t phase_start_ms_ = 0;  // when the http, closing or draining phase began
  uint32_t message_tat_us_ = 0;  // messages_per_second: the bucket's GCRA arrival time, in µs (mod 2^32)
  net::CompactAddress peer_;
  int fd_;
  uint16_t peer_close_code_ = close_code::abnormal;
  State state_ = State::http;
  uint8_t subprotocol_ = kNoSubprotocol;  // index into the route's protocols
  bool opened_ = false;          // on_open ran: on_close is owed
  bool close_sent_ = false;
  bool close_received_ = false;
  bool writable_armed_ = false;
  bool write_shut_ = false;
  bool reading_paused_ = false;
  bool deferred_ = false;       // owed frames in the loop's deferred output this turn
  uint8_t jobs_in_flight_ = 0;  // with the flags above: the object stays 248 bytes (malloc's 256)
};

}  // namespace capstan::app
