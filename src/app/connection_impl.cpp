// A connection's own life: the socket's events dispatched to its parts (http_phase,
// ws_session, connection_output), the read into the loop's buffer, the one way to die
// (close_now, then the reap), the component boundary, and what the loop asks of it.
#include "app/connection_impl.hpp"

#include <unistd.h>

#include <algorithm>

#include "app/connection_output.hpp"
#include "app/connection_parts.hpp"
#include "app/http_phase.hpp"
#include "app/loop_context.hpp"
#include "app/route.hpp"
#include "app/ws_session.hpp"
#include "util/log.hpp"

namespace capstan::app {

// Idle memory per connection is mostly this object: 248 bytes is malloc's 256-byte chunk;
// one byte more costs every connection 16.
static_assert(sizeof(ConnectionImpl) <= 248, "ConnectionImpl outgrew its malloc size class");

ConnectionImpl::ConnectionImpl(LoopContext& ctx, int fd, const sockaddr* peer, uint64_t id, std::unique_ptr<net::Transport> transport)
    : ctx_(ctx), id_(id), peer_(net::CompactAddress::from(peer)), fd_(fd) {
  if (transport) {
    extras().transport = std::move(transport);
    own_transport_ = true;
  }
  last_read_ms_ = phase_start_ms_ = now_ms();
  accepted_us_ = metrics::now_us();
  message_tat_us_ = static_cast<uint32_t>(ctx_.loop().now_ms() * 1000);
}

Extras& ConnectionImpl::extras() {
  if (!extras_) extras_ = std::make_unique<Extras>();
  return *extras_;
}

uint32_t ConnectionImpl::now_ms() const noexcept { return static_cast<uint32_t>(ctx_.loop().now_ms()); }

ConnectionImpl::~ConnectionImpl() {
  ctx_.jobs().forget(*this);
  release_handles();
}

void ConnectionImpl::on_event(uint32_t events) {
  if (state_ == State::closed) return;
  ctx_.set_current(this);  // what this event sends may use the cork
  if (events & net::Ready::writable) OutputPath::on_writable(*this);
  if (state_ == State::closed) return;
  if (reading_paused_) {
    // Only hang-ups and errors are reported while paused; input stays in the kernel.
    if (events & net::Ready::hangup) close_now();
    return;
  }
  if (events & (net::Ready::readable | net::Ready::hangup)) on_readable();
}

// Inlined: the echo path is a few hundred instructions, and a call here is a measurable share.
[[gnu::always_inline]] inline void ConnectionImpl::on_input(uint8_t* data, size_t size) {
  last_read_ms_ = now_ms();
  switch (state_) {
    case State::http: HttpPhase::on_data(*this, reinterpret_cast<const char*>(data), size); break;
    case State::open:
    case State::closing: WsSession::on_data(*this, data, size); break;
    case State::authenticating:  // not read while paused
    case State::draining:
    case State::closed: break;  // input after our last word is discarded
  }
}

void ConnectionImpl::on_readable() {
  uint8_t* buf = ctx_.read_buffer();
  const ssize_t n = stream_read(buf, ctx_.read_buffer_size());
  if (n <= 0) {
    if (n < 0) close_now();  // EOF or reset: a clean close already happened, or it is 1006
    return;
  }
  on_input(buf, static_cast<size_t>(n));
  if (own_transport_) [[unlikely]] read_buffered();
}

void ConnectionImpl::read_buffered() {
  // Decrypted TLS records the buffer had no room for: no readiness will report them.
  while (state_ != State::closed && !reading_paused_ && extras_->transport->has_buffered_input()) {
    uint8_t* buf = ctx_.read_buffer();
    const ssize_t n = stream_read(buf, ctx_.read_buffer_size());
    if (n <= 0) {
      if (n < 0) close_now();
      return;
    }
    on_input(buf, static_cast<size_t>(n));
  }
}

ssize_t ConnectionImpl::transported_read(uint8_t* buf, size_t capacity) noexcept {
  net::Transport& t = *extras_->transport;
  const ssize_t n = t.read(fd_, buf, capacity);
  if (t.take_interest_change() && state_ != State::closed) update_interest();
  return n;
}

ssize_t ConnectionImpl::transported_write(const iovec* iov, size_t count) noexcept {
  net::Transport& t = *extras_->transport;
  const ssize_t n = t.write(fd_, iov, count);
  if (t.take_interest_change() && state_ != State::closed) update_interest();
  return n;
}

void ConnectionImpl::stream_shutdown() noexcept {
  if (!own_transport_) return net::TcpTransport::shutdown_plain(fd_);
  net::Transport& t = *extras_->transport;
  t.shutdown_write(fd_);  // TLS: after its last records, which may wait for writability
  if (t.take_interest_change() && state_ != State::closed) update_interest();
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
  // The stream itself is sound: close as Connection::close does (1011), and wait for the
  // peer's answer, so on_close reports the code it echoes and a clean close.
  if (state_ == State::open) WsSession::start_close(*this, close_code::internal_error, describe(WsError::component_failed));
  // Tell the component its own exception closed the connection; not when the throw came from
  // on_error (no loop) or on_close (the connection is gone).
  const std::string_view from = callback;
  if (from != "on_error" && from != "on_close") WsSession::tell_component(*this, WsError::component_failed);
}

void ConnectionImpl::update_interest() noexcept {
  // While paused, input stays in the kernel; a client that hangs up while it is being
  // authenticated is still noticed (its hang-up is watched), so nobody is asked about it for nothing.
  const uint32_t paused = state_ == State::authenticating ? net::Interest::hangup : 0u;
  uint32_t interest = reading_paused_ ? paused : net::Interest::read;
  if (writable_armed_) interest |= net::Interest::write;
  if (own_transport_) interest |= extras_->transport->own_interest();
  // A socket the kernel will not watch as asked (ENOMEM) could wait forever for writability.
  if (!ctx_.loop().modify(fd_, watcher(), interest)) close_now();
}

void ConnectionImpl::pause_reading() noexcept {
  if (reading_paused_ || state_ == State::closed) return;
  reading_paused_ = true;
  update_interest();
}

void ConnectionImpl::resume_reading() noexcept {
  if (!reading_paused_ || state_ == State::closed) return;
  reading_paused_ = false;
  update_interest();
}

void ConnectionImpl::set_user(int64_t id, std::string identity, std::string claims, std::string data) {
  User& u = extras().user.emplace();
  u.id = id;
  u.identity = std::move(identity);
  u.claims = std::move(claims);
  u.data = std::move(data);
}

// What the loop and the public API ask of a connection, done by its parts.
void ConnectionImpl::start_close(uint16_t code, std::string_view reason) { WsSession::start_close(*this, code, reason); }
void ConnectionImpl::sweep(uint64_t now_ms) { WsSession::sweep(*this, now_ms); }
size_t ConnectionImpl::pending_output() const noexcept { return OutputPath::pending_output(*this); }

}  // namespace capstan::app
