// A connection's own life: the socket's events dispatched to its parts (http_phase,
// ws_session, connection_output), the read into the loop's buffer, the one way to die
// (close_now, then the reap), the component boundary, and what the loop asks of it.
#include "app/connection_impl.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "app/connection_output.hpp"
#include "app/connection_parts.hpp"
#include "app/http_phase.hpp"
#include "app/loop_context.hpp"
#include "app/route.hpp"
#include "app/ws_session.hpp"
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
  if (events & EPOLLOUT) OutputPath::on_writable(*this);
  if (state_ == State::closed) return;
  if (reading_paused_) {
    // Only hang-ups and errors are reported while paused; input stays in the kernel.
    if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) close_now();
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
    case State::http: HttpPhase::on_data(*this, reinterpret_cast<const char*>(buf), static_cast<size_t>(n)); break;
    case State::open:
    case State::closing: WsSession::on_data(*this, buf, static_cast<size_t>(n)); break;
    case State::authenticating:  // not read while paused
    case State::draining:
    case State::closed: break;  // input after our last word is discarded
  }
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
  // authenticated is still noticed (EPOLLRDHUP), so nobody is asked about it for nothing.
  const uint32_t paused = state_ == State::authenticating ? uint32_t{EPOLLRDHUP} : 0u;
  const uint32_t read = reading_paused_ ? paused : uint32_t{EPOLLIN | EPOLLRDHUP};
  // A socket the kernel will not watch as asked (ENOMEM) could wait forever for EPOLLOUT.
  if (!ctx_.loop().modify(fd_, this, read | (writable_armed_ ? uint32_t{EPOLLOUT} : 0u))) close_now();
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
