// The server side of one client connection, from accept to reap: its state, its life, and
// the parts that act on it (HttpPhase, WsSession, OutputPath).
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
#include <vector>

#include "capstan/connection.hpp"
#include "net/event_loop.hpp"
#include "net/socket_address.hpp"
#include "net/transport.hpp"
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
  std::vector<TimerId> timers;    // Connection::after / every, cancelled with the connection
  std::unique_ptr<net::Transport> transport;  // any stream but plain TCP (TLS)
};
struct Route;
struct TopicLink;
struct Handshake;
struct Outbox;
struct Compression;

class ConnectionImpl final : public capstan::Connection, public net::Pollable {
 public:
  enum class State : uint8_t { http, authenticating, open, closing, draining, closed };
  static constexpr uint8_t kNoSubprotocol = 0x7F;  // 7 bits: routes offer fewer protocols

  // `transport`: what carries the connection when it is not plain TCP (null: plain TCP).
  ConnectionImpl(LoopContext& ctx, int fd, const sockaddr* peer, uint64_t id, std::unique_ptr<net::Transport> transport = nullptr);
  ~ConnectionImpl();

  void on_event(uint32_t events) override;

  // What the public handle and the loop ask of a connection; its parts do the work (the
  // hot paths, send and the flushes, call OutputPath directly).
  void start_close(uint16_t code, std::string_view reason);
  void close_now() noexcept;  // drop the socket; the reap at the end of the turn follows

  // Periodic housekeeping from the loop's coarse tick: timeouts and pings.
  void sweep(uint64_t now_ms);
  void set_deferred(bool on) noexcept { deferred_ = on; }
  // Called by the reaper: tells the component, if it saw this connection open.
  void notify_closed();

  State state() const noexcept { return state_; }
  LoopContext& context() const noexcept { return ctx_; }
  const net::CompactAddress& peer() const noexcept { return peer_; }
  // Behind a trusted proxy the client's address comes later (a PROXY header first when
  // `proxy_header`, else X-Forwarded-For), and only then is it counted per address
  // (http_client_address.cpp); the reap releases only an address that was counted.
  void await_client_address(bool proxy_header) noexcept {
    address_pending_ = true;
    proxy_header_due_ = proxy_header;
  }
  bool address_counted() const noexcept { return !address_pending_; }

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

  // Blocking work for this connection in flight on the worker pool: LoopContext counts it.
  bool jobs_in_flight() const noexcept { return jobs_in_flight_; }
  void set_jobs_in_flight(bool on) noexcept { jobs_in_flight_ = on; }
  size_t pending_output() const noexcept;

  // The stream under the connection (net/transport.hpp): plain TCP called directly, any other
  // transport through its interface. Every read, write and half-close of a connection is one
  // of these.
  ssize_t stream_read(uint8_t* buf, size_t capacity) noexcept {
    if (!own_transport_) [[likely]] return net::TcpTransport::read_plain(fd_, buf, capacity);
    return transported_read(buf, capacity);
  }
  ssize_t stream_write(const iovec* iov, size_t count) noexcept {
    if (!own_transport_) [[likely]] return net::TcpTransport::write_plain(fd_, iov, count);
    return transported_write(iov, count);
  }
  ssize_t stream_send(const char* data, size_t size) noexcept {
    if (!own_transport_) [[likely]] return net::TcpTransport::send_plain(fd_, data, size);
    const iovec piece{const_cast<char*>(data), size};
    return transported_write(&piece, 1);
  }
  void stream_shutdown() noexcept;
  // The transport, when not plain TCP.
  net::Transport* own_transport() const noexcept { return own_transport_ ? extras_->transport.get() : nullptr; }
  // What the loop reports this connection's readiness to: itself, or a transport that turns
  // readiness into what the connection must do (net::Transport::watcher).
  net::Pollable* watcher() noexcept { return own_transport_ ? extras_->transport->watcher(this) : this; }

  // Connection::after / every / cancel_timer and ref() (connection_timers.cpp).
  TimerId add_timer(Duration delay, Duration interval, std::function<void(Connection&)> fn);
  void cancel_timer(TimerId id) noexcept;
  ConnectionRef make_ref();
  // The connection is being destroyed: its timers are cancelled, references find nothing.
  void release_handles() noexcept;

  // Intrusive list of the loop's connections, for the sweep and shutdown.
  ConnectionImpl* prev = nullptr;
  ConnectionImpl* next = nullptr;
  // One field, two lives: while the connection is owed deferred frames this turn, where the
  // deferred output keeps its chain (deferred_output.hpp); once closed, the next on the reap
  // list. A closed connection gets no frames, and its chain is skipped.
  union {
    ConnectionImpl* next_reaped = nullptr;
    size_t deferred_slot;
  };
  bool deferred() const noexcept { return deferred_; }
  // The topics it is subscribed to, a list its loop's LoopTopics keeps (topics/loop_topics.hpp):
  // a close leaves each of them without a lookup.
  TopicLink* topic_links = nullptr;

 private:
  // The connection's parts: each owns one phase or concern of the connection's life and works
  // on the state below, which stays here so an idle connection is one small object.
  friend class capstan::Connection;  // the public handle (connection_api.cpp)
  friend class HttpPhase;            // http_phase.cpp, http_auth.cpp, http_client_address.cpp
  friend class WsSession;            // ws_session.cpp
  friend class OutputPath;           // connection_output.cpp
  friend struct DecoderEvents;       // ws_session.cpp

  void on_readable();
  void on_input(uint8_t* data, size_t size);
  void read_buffered();  // what a transport holds that no readiness will report
  ssize_t transported_read(uint8_t* buf, size_t capacity) noexcept;
  ssize_t transported_write(const iovec* iov, size_t count) noexcept;
  void update_interest() noexcept;
  Extras& extras();
  void set_user(int64_t id, std::string identity, std::string claims, std::string data = {});
  void component_threw(const char* callback, const char* what) noexcept;
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
  uint8_t subprotocol_ : 7 = kNoSubprotocol;  // index into the route's protocols
  bool proxy_header_due_ : 1 = false;          // a trusted proxy's PROXY header comes before the request
  // Flags the send path reads per delivery are whole bytes; the rarer ones share one byte, which
  // leaves room for topic_links within 248 bytes (malloc's 256).
  bool deferred_ = false;  // owed frames in the loop's deferred output this turn
  bool write_shut_ = false;
  bool writable_armed_ = false;
  bool opened_ : 1 = false;  // on_open ran: on_close is owed
  bool close_sent_ : 1 = false;
  bool close_received_ : 1 = false;
  bool reading_paused_ : 1 = false;
  bool jobs_in_flight_ : 1 = false;
  bool listed_ : 1 = false;  // in the loop's ConnectionDirectory: a ConnectionRef was taken
  bool own_transport_ : 1 = false;  // carried by extras_->transport, not plain TCP
  bool address_pending_ : 1 = false;   // the client's address is not known (nor counted) yet
};

}  // namespace capstan::app
