// Reading side of a connection: the HTTP phase, the upgrade, frames to component callbacks,
// the close handshake, and the timeouts checked by the loop's coarse tick.
#include "app/connection_impl.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "app/auth_service.hpp"
#include "app/connection_parts.hpp"
#include "app/http_endpoints.hpp"
#include "app/loop_context.hpp"
#include "app/route.hpp"
#include "http/handshake.hpp"
#include "http/request_parser.hpp"
#include "http/response.hpp"
#include "http/static_files.hpp"
#include "net/syscalls.hpp"
#include "util/log.hpp"

namespace capstan::app {

// Idle memory per connection is mostly this object: 248 bytes is malloc's 256-byte chunk;
// one byte more costs every connection 16.
static_assert(sizeof(ConnectionImpl) <= 248, "ConnectionImpl outgrew its malloc size class");

ConnectionImpl::ConnectionImpl(LoopContext& ctx, int fd, const sockaddr* peer, uint64_t id)
    : ctx_(ctx), id_(id), peer_(net::CompactAddress::from(peer)), fd_(fd) {
  last_read_ms_ = phase_start_ms_ = now_ms();
  accepted_us_ = metrics::now_us();
  message_tat_us_ = static_cast<uint32_t>(ctx_.loop().now_ms() * 1000);
}

bool ConnectionImpl::admit_message() noexcept {
  // GCRA: the bucket is a theoretical arrival time that each message moves on by one
  // interval; a message is refused when that time runs more than `burst` intervals ahead of
  // now. One 32-bit field, integer arithmetic; the sweep keeps it from falling behind now by
  // more than a tick, so the 71-minute wrap of 32-bit microseconds never shows.
  const LoopContext::MessageLimit& limit = ctx_.message_limit();
  if (limit.interval_us == 0) return true;
  const uint32_t now = static_cast<uint32_t>(ctx_.loop().now_ms() * 1000);
  const uint32_t tat = static_cast<int32_t>(message_tat_us_ - now) > 0 ? message_tat_us_ : now;
  if (tat - now > limit.tolerance_us) return false;
  message_tat_us_ = tat + limit.interval_us;
  return true;
}

Extras& ConnectionImpl::extras() {
  if (!extras_) extras_ = std::make_unique<Extras>();
  return *extras_;
}

uint32_t ConnectionImpl::now_ms() const noexcept { return static_cast<uint32_t>(ctx_.loop().now_ms()); }

ConnectionImpl::~ConnectionImpl() { ctx_.forget_jobs_of(*this); }

void ConnectionImpl::on_event(uint32_t events) {
  if (state_ == State::closed) return;
  ctx_.set_current(this);  // what this event sends may use the cork
  if (events & EPOLLOUT) on_writable();
  if (state_ == State::closed) return;
  if (reading_paused_) {
    // Only hang-ups and errors are reported while paused; input stays in the kernel.
    if (events & (EPOLLHUP | EPOLLERR)) close_now();
    return;
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) on_readable();
}

void ConnectionImpl::on_readable() {
  uint8_t* buf = ctx_.read_buffer();
  // One read per readiness event: level-triggered epoll reports the socket again if more is
  // waiting, so there is no extra read that only returns EAGAIN.
  ssize_t n = net::syscalls.recv(fd_, buf, ctx_.read_buffer_size(), 0);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    close_now();  // EOF or reset: a clean close already happened, or it is 1006
    return;
  }
  last_read_ms_ = now_ms();
  switch (state_) {
    case State::http: handle_http(reinterpret_cast<const char*>(buf), static_cast<size_t>(n)); break;
    case State::open:
    case State::closing: feed_frames(buf, static_cast<size_t>(n)); break;
    case State::authenticating:  // not read while paused
    case State::draining:
    case State::closed: break;  // input after our last word is discarded
  }
}

// ---- HTTP phase ------------------------------------------------------------------------------

void ConnectionImpl::handle_http(const char* data, size_t size) {
  if (!handshake_) handshake_ = std::make_unique<Handshake>(ctx_.limits().max_header_size);
  Handshake& hs = *handshake_;
  // Usually the whole request arrives in one read: parse it where it lies.
  std::string_view input;
  if (hs.buffer.empty()) {
    input = std::string_view(data, size);
  } else {
    hs.buffer.append(data, size);
    input = hs.buffer;
  }
  http::ParseResult r = hs.parser.parse(input, hs.request);
  switch (r.status) {
    case http::ParseResult::Status::incomplete:
      if (hs.buffer.empty()) hs.buffer.assign(data, size);
      return;
    case http::ParseResult::Status::error:
      ctx_.metrics().handshake_refused(r.http_status);
      respond_and_drain(r.http_status, r.reason);
      return;
    case http::ParseResult::Status::complete:
      handle_request(hs.request, input.data() + r.head_size, input.size() - r.head_size);
      return;
  }
}

void ConnectionImpl::handle_request(const http::Request& req, const char* after_head, size_t after_size) {
  const http::UpgradeCheck upgrade = http::check_upgrade(req);
  const Route* route = ctx_.find_route(req.path);
  if (upgrade.kind == http::UpgradeCheck::Kind::invalid) {
    ctx_.metrics().handshake_refused(upgrade.http_status);
    respond_and_drain(upgrade.http_status, upgrade.reason);
    return;
  }
  if (upgrade.kind == http::UpgradeCheck::Kind::not_websocket) {
    const bool get = req.method == "GET" || req.method == "HEAD";
    std::string response;
    if (get && serve_endpoint(ctx_, req, response)) {
      // /healthz, /status, /metrics
    } else if (get && http::append_static_file(response, ctx_.static_root(), req.path, req.method == "HEAD")) {
      // the demo page, or any file of server.static_dir; also on a WebSocket route's path
    }
    if (!response.empty()) {
      queue_raw(response.data(), response.size());
      enter_draining();
    } else if (route) {
      respond_and_drain(426, "this path is a WebSocket endpoint");
    } else {
      respond_and_drain(404, "no route for this path");
    }
    return;
  }
  if (!route) {
    ctx_.metrics().handshake_refused(404);
    respond_and_drain(404, "no route for this path");
    return;
  }
  const auto& origins = ctx_.server_config().allowed_origins;
  if (!origins.empty()) {
    std::string_view origin = req.header("Origin");
    if (std::find(origins.begin(), origins.end(), origin) == origins.end()) {
      ctx_.metrics().handshake_refused(403);
      respond_and_drain(403, "origin not allowed");
      return;
    }
  }

  route_ = route;
  target_.assign(req.target);
  const AuthService* auth = route->auth ? ctx_.auth() : nullptr;
  auth::FoundToken token;
  const bool has_token = auth && auth::find_token(req, Connection::query(), auth->sources(), route->protocols, token);
  // A token offered as a subprotocol is answered with one of the offered protocols.
  const std::string_view protocol = has_token && token.from_protocol ? std::string_view(token.protocol_answer)
                                                                     : http::select_subprotocol(req, route->protocols);
  for (size_t i = 0; i < route->protocols.size() && i < kNoSubprotocol; ++i)
    if (!protocol.empty() && route->protocols[i] == protocol) subprotocol_ = static_cast<uint8_t>(i);
  const std::string extensions = negotiate_compression(req);
  std::string response;
  http::append_switching_protocols(response, http::accept_key(upgrade.key), protocol, extensions);
  if (auth) {
    start_authentication(has_token ? std::string_view(token.token) : std::string_view{}, std::move(response),
                         after_head, after_size);
    return;
  }
  queue_raw(response.data(), response.size());
  switching_protocols_sent();
  state_ = State::open;
  open_now(after_head, after_size);
}

void ConnectionImpl::switching_protocols_sent() noexcept {
  ctx_.metrics().handshake_completed(accepted_us_);
  last_ping_ms_ = now_ms();  // accepted_us_ is done with: the field is the ping clock from now on
}

void ConnectionImpl::open_now(const char* early, size_t early_size) {
  opened_ = true;
  ctx_.route_opened(route_);
  route_->counters.opened.add();
  run_guarded("on_open", [&] { route_->component->on_open(*this); });  // header() reads handshake_, alive until below

  // Frames a client sent right behind its request (it may not wait for the 101).
  if (early_size && (state_ == State::open || state_ == State::closing)) {
    std::string rest(early, early_size);  // the views above die with the handshake
    handshake_.reset();
    feed_frames(reinterpret_cast<uint8_t*>(rest.data()), rest.size());
  } else {
    handshake_.reset();
  }
}

void ConnectionImpl::respond_and_drain(int status, std::string_view reason) {
  std::string response;
  http::append_error(response, status, reason);
  queue_raw(response.data(), response.size());
  enter_draining();
}

// ---- WebSocket phase -------------------------------------------------------------------------

// Adapts the decoder's events to the connection: component callbacks and protocol replies.
struct DecoderEvents {
  ConnectionImpl& c;

  bool on_message(Opcode op, std::string_view payload, bool compressed) {
    if (c.state_ != ConnectionImpl::State::open) return true;  // closing: data is discarded
    if (compressed && !c.inflate_message(payload, op, payload)) return false;
    c.route_->counters.received(payload.size());
    if (!c.admit_message()) {
      c.ctx_.metrics().limit_hit(metrics::LimitKind::messages);
      if (c.ctx_.message_limit().closes) {
        c.fail(close_code::policy_violation, "message rate limit exceeded");
        return false;
      }
      c.run_guarded("on_rate_limited", [&] { c.route_->component->on_rate_limited(c, Message{payload, op == Opcode::binary}); });
    } else {
      c.run_guarded("on_message", [&] { c.route_->component->on_message(c, Message{payload, op == Opcode::binary}); });
    }
    return c.state_ == ConnectionImpl::State::open || c.state_ == ConnectionImpl::State::closing;
  }
  bool on_ping(std::string_view payload) {
    // Pongs count against the send buffer like any output: a client that pings without
    // reading would otherwise make us hold its pongs without limit.
    if (c.state_ == ConnectionImpl::State::open) c.queue_frame(Opcode::pong, payload.data(), payload.size(), false);
    return c.state_ == ConnectionImpl::State::open || c.state_ == ConnectionImpl::State::closing;
  }
  bool on_pong(std::string_view) { return true; }
  bool on_close(uint16_t code, std::string_view reason) {
    c.close_received_ = true;
    c.peer_close_code_ = code;
    if (!reason.empty()) c.extras().peer_close_reason = reason;
    if (!c.close_sent_) c.ctx_.metrics().closed(code);  // the peer closed first (1005: without a code)
    // Echo the peer's code (RFC 6455 §5.5.1); a close without a code is answered without one.
    if (!c.close_sent_) c.send_close_frame(code == close_code::no_status ? 0 : code, {});
    c.enter_draining();
    return false;
  }
};

void ConnectionImpl::feed_frames(uint8_t* data, size_t size) {
  ws::DecodeLimits limits{ctx_.limits().max_message_size, compression_ != nullptr};
  DecoderEvents events{*this};
  ws::DecodeResult r = decoder_.feed(data, size, limits, events);
  if (r.status == ws::DecodeResult::Status::error) fail(r.close_code, r.reason);
}

void ConnectionImpl::fail(uint16_t code, std::string_view reason) {
  if (opened_ && route_) run_guarded("on_error", [&] { route_->component->on_error(*this, Error{code, reason}); });
  if (state_ == State::closed || state_ == State::draining) return;
  if (!close_sent_) send_close_frame(code, reason);
  enter_draining();
}

void ConnectionImpl::start_close(uint16_t code, std::string_view reason) {
  if (state_ != State::open) return;
  send_close_frame(code, reason);
  state_ = State::closing;
  phase_start_ms_ = now_ms();
}

void ConnectionImpl::enter_draining() {
  if (state_ == State::closed || state_ == State::draining) return;
  state_ = State::draining;
  handshake_.reset();  // a refused request's bytes are not needed for the last word
  phase_start_ms_ = now_ms();
  if (ctx_.is_corked(this)) ctx_.uncork();
  finish_drain_if_flushed();
}

void ConnectionImpl::finish_drain_if_flushed() {
  if (state_ != State::draining || write_shut_ || outbox_ || deferred_ || ctx_.is_corked(this)) return;
  // Our last word is with the kernel: half-close and wait for the peer to hang up.
  ::shutdown(fd_, SHUT_WR);
  write_shut_ = true;
}

void ConnectionImpl::close_now() noexcept {
  if (state_ == State::closed) return;
  state_ = State::closed;
  ctx_.loop().remove(fd_);
  ::close(fd_);
  handshake_.reset();
  outbox_.reset();
  ctx_.schedule_reap(this);
}

void ConnectionImpl::notify_closed() {
  if (!opened_ || !route_) return;
  opened_ = false;
  if (!close_sent_ && !close_received_) ctx_.metrics().closed(close_code::abnormal);  // dropped, no close frame
  ctx_.route_closed(route_);
  CloseInfo info;
  info.clean = close_received_;
  info.code = close_received_ ? peer_close_code_ : close_code::abnormal;
  if (extras_) info.reason = extras_->peer_close_reason;
  run_guarded("on_close", [&] { route_->component->on_close(*this, info); });
}

void ConnectionImpl::component_threw(const char* callback, const char* what) noexcept {
  log::error("component threw", {{"callback", callback}, {"what", what}, {"path", route_ ? std::string_view(route_->path) : ""}});
  // Not through fail(): that would call the component (on_error) again.
  if (state_ == State::open || state_ == State::closing) {
    if (!close_sent_) send_close_frame(close_code::internal_error, "internal error");
    enter_draining();
  }
}

void ConnectionImpl::sweep(uint64_t now64) {
  const Limits& l = ctx_.limits();
  const uint32_t now = static_cast<uint32_t>(now64);
  auto passed = [now](uint32_t since, Duration timeout) { return now - since >= static_cast<uint64_t>(timeout.count()); };
  switch (state_) {
    case State::http:
    case State::authenticating:
      if (passed(phase_start_ms_, l.handshake_timeout)) {
        ctx_.metrics().handshake_failed(metrics::HandshakeFailure::timeout);
        close_now();
      }
      return;
    case State::closing:
    case State::draining:
      if (passed(phase_start_ms_, l.close_timeout)) close_now();
      return;
    case State::open:
      if (static_cast<int32_t>(message_tat_us_ - now * 1000) < 0) message_tat_us_ = now * 1000;  // see admit_message
      if (passed(last_read_ms_, l.idle_timeout)) {
        fail(close_code::going_away, "idle timeout");
      } else if (passed(last_read_ms_, l.ping_interval) && passed(last_ping_ms_, l.ping_interval)) {
        queue_frame(Opcode::ping, nullptr, 0, true);
        last_ping_ms_ = now;
      }
      return;
    case State::closed:
      return;
  }
}

}  // namespace capstan::app
