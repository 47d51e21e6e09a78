#include "app/loop_context.hpp"

#include "net/tls/tls_transport.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "app/auth_service.hpp"
#include "app/component_attach.hpp"
#include "app/connection_impl.hpp"
#include "app/connection_output.hpp"
#include "config/route_path.hpp"
#include "http/response.hpp"
#include "net/guarded.hpp"
#include "net/syscalls.hpp"
#include "util/check.hpp"

namespace capstan::app {

LoopContext::LoopContext(unsigned index, ServerShared& shared, const std::vector<RouteSpec>& routes)
    : shared_(shared), admission_(shared.connections, *shared.ip_limiter, metrics_), loop_(index), topics_(loop_, shared.topics), jobs_(loop_, shared.workers), read_buffer_(new uint8_t[kReadBufferSize]) {
  services_.context = this;
  services_.users = shared.users;
  services_.topics = &topics_;
  services_.cluster = shared.cluster;
  services_.backend = shared.backend.get();
  for (const RouteSpec& spec : routes) {
    Route r;
    r.path = spec.path;
    r.component = spec.factory();
    r.protocols = spec.protocols;
    r.auth = spec.auth;
    ComponentAttach::attach(*r.component, loop_, services_);
    routes_.push_back(std::move(r));
  }
  for (const Endpoint& e : shared.endpoints) endpoints_.add(e, loop_, services_);
  route_open_ = std::vector<std::atomic<uint64_t>>(routes_.size());
  loop_.set_end_of_turn([this] { end_of_turn(); });
  set_limits(shared.config->limits);
  start_sweep_timer();
  for (Route& r : routes_) r.component->on_start();
  endpoints_.start();
}

LoopContext::~LoopContext() {
  listeners_.clear();
  while (connections_) {
    ConnectionImpl* c = connections_;
    unlink(c);
    c->close_now();
    delete c;
  }
}

Status LoopContext::listen(const net::ListenAddress& address, bool tls) {
  auto l = std::make_unique<net::Listener>(loop_, [this, tls](int fd, const sockaddr* peer) { adopt(fd, peer, tls); });
  if (Status opened = l->open(address); !opened) return opened;
  listeners_.push_back(std::move(l));
  return {};
}

uint16_t LoopContext::first_port() const noexcept { return listeners_.empty() ? 0 : listeners_.front()->port(); }
uint16_t LoopContext::last_port() const noexcept { return listeners_.empty() ? 0 : listeners_.back()->port(); }

const Route* LoopContext::find_route(std::string_view path) const noexcept {
  const Route* best = nullptr;
  size_t best_rank = 0;
  for (const Route& r : routes_) {
    const size_t rank = config::route_match_rank(r.path, path);
    if (rank > best_rank) {
      best = &r;
      best_rank = rank;
    }
  }
  return best;
}

void LoopContext::adopt(int fd, const sockaddr* peer, bool tls) {
  if (shutting_down_) {
    ::close(fd);
    return;
  }
  std::unique_ptr<net::Transport> transport;
  if (tls) {
    transport = net::tls::TlsTransport::make(shared_.tls->current(), fd);
    if (!transport) {  // no memory for a TLS session: this client is turned away, nothing else changes
      ::close(fd);
      return;
    }
  }
  const net::CompactAddress address = net::CompactAddress::from(peer);
  // A trusted proxy's connections are counted per address once the client behind it is known.
  const bool via_proxy = shared_.trusted_proxies.contains(address);
  // A refusal is answered in plain HTTP only where the client speaks it.
  if (!admission_.admit(fd, address, limits().max_connections, loop_.now_ms(), !via_proxy, !tls)) return;
  uint64_t id = shared_.next_connection_id.fetch_add(1, std::memory_order_relaxed);
  // From here on a connection has one way to die: close_now(), then the reap at the end of
  // the turn, which unlinks it, releases its address and counts it out, once.
  auto* c = new ConnectionImpl(*this, fd, peer, id, std::move(transport));
  c->next = connections_;
  if (connections_) connections_->prev = c;
  connections_ = c;
  ++connection_count_;
  // A PROXY header precedes the TLS handshake, outside the stream TLS carries: it is read on
  // plain listeners; behind a proxy, TLS listeners learn the client from X-Forwarded-For.
  if (via_proxy) c->await_client_address(server_config().proxy_protocol && !tls);
  if (!loop_.add(fd, c->watcher(), net::Interest::read)) c->close_now();  // out of epoll watches or memory
}

void LoopContext::notify_reload() {
  for (Route& r : routes_) r.component->on_reload();
}

void LoopContext::set_limits(const Limits& l) {
  limits_ = l;
  message_limit_.interval_us = l.messages_per_second ? 1'000'000 / l.messages_per_second : 0;
  message_limit_.tolerance_us = message_limit_.interval_us * (l.message_burst - 1);  // bounded by the config check
  message_limit_.closes = l.on_limit == OnLimit::close;
}

void LoopContext::switch_cork(ConnectionImpl* c) {
  uncork();
  corked_ = c;
}

void LoopContext::defer(ConnectionImpl* c, const uint8_t* header, size_t header_size, const char* data, size_t size) {
  deferred_.add(c, header, header_size, data, size);
  constexpr size_t kFlushAt = 32 << 20;  // a turn that fans out this much sends it early
  if (deferred_.bytes() > kFlushAt) flush_deferred();
}

void LoopContext::flush_deferred() {
  if (deferred_.empty()) return;
  // No uncork needed first: the cork's owner is never owed deferred frames (cork_for).
  deferred_.drain([](ConnectionImpl* c, const iovec* iov, size_t count) { OutputPath::write_frames(*c, iov, count); });
}

void LoopContext::flush_deferred_of(ConnectionImpl& c) {
  deferred_.drain_one(&c, c.deferred_slot, [](ConnectionImpl* owed, const iovec* iov, size_t count) { OutputPath::write_frames(*owed, iov, count); });
}

void LoopContext::uncork() {
  if (!corked_) return;
  ConnectionImpl* c = corked_;
  CAPSTAN_CHECK(c->state() != ConnectionImpl::State::closed);  // schedule_reap takes the cork back
  corked_ = nullptr;
  if (!cork_.empty()) OutputPath::write_out(*c, cork_.data(), cork_.size());
  cork_.clear();
  // A message bigger than the cork grew it; give that memory back.
  if (cork_.capacity() > kCorkCapacity) cork_.reset_capacity(kCorkCapacity);
}

ws::Deflater& LoopContext::shared_deflater(uint8_t window_bits) {
  auto& d = shared_deflaters_[window_bits & 15];
  if (!d) d = std::make_unique<ws::Deflater>(compression().level, window_bits);
  return *d;
}

ws::Inflater& LoopContext::shared_inflater() {
  if (!shared_inflater_) shared_inflater_ = std::make_unique<ws::Inflater>(15);
  return *shared_inflater_;
}

void LoopContext::schedule_reap(ConnectionImpl* c) noexcept {
  CAPSTAN_CHECK(c->state() == ConnectionImpl::State::closed && reap_list_ != c);
  if (corked_ == c) {
    corked_ = nullptr;
    cork_.clear();
  }
  c->next_reaped = reap_list_;
  reap_list_ = c;
}

void LoopContext::unlink(ConnectionImpl* c) noexcept {
  CAPSTAN_CHECK(connection_count_ > 0 && (c->prev != nullptr || connections_ == c));
  if (c->prev) c->prev->next = c->next;
  else connections_ = c->next;
  if (c->next) c->next->prev = c->prev;
  c->prev = c->next = nullptr;
  --connection_count_;
}

void LoopContext::end_of_turn() {
  current_ = nullptr;
  late_errors_.deliver();  // before the reap: on_error comes before on_close
  uncork();
  flush_deferred();
  // Reaping may run on_close, which may send to other connections (corked again, maybe
  // failing them) or close them (reaped again): loop until nothing is left.
  while (reap_list_ || !late_errors_.empty()) {
    late_errors_.deliver();
    ConnectionImpl* list = reap_list_;
    reap_list_ = nullptr;
    while (list) {
      ConnectionImpl* c = list;
      list = c->next_reaped;
      unlink(c);
      c->notify_closed();
      topics_.forget(*c);  // after on_close, which may still look at its topics
      if (c->address_counted()) shared_.ip_limiter->release(c->peer(), loop_.now_ms());
      delete c;
      connection_closed();
    }
    uncork();
    flush_deferred();
  }
  // Scratch space a huge message grew is given back rather than kept for the loop's life.
  constexpr size_t kKeep = 1 << 20;
  if (deflate_buffer_.capacity() > kKeep) std::string().swap(deflate_buffer_);
  if (inflate_buffer_.capacity() > kKeep) std::string().swap(inflate_buffer_);
  if (shutting_down_ && may_stop()) loop_.stop();
}

HttpClient& LoopContext::http_client() {
  if (!http_client_) http_client_ = std::make_unique<HttpClient>(loop_);
  return *http_client_;
}

bool LoopContext::may_stop() const noexcept {
  return connection_count_ == 0 && (!http_client_ || http_client_->in_flight() == 0 || past_shutdown_deadline_);
}

void LoopContext::start_sweep_timer() {
  // One coarse tick per loop checks every timeout; nothing is armed per message. The tick is
  // a quarter of the shortest timeout, between 50 ms and 1 s.
  const Limits& l = limits();
  Duration shortest = std::min({l.handshake_timeout, l.idle_timeout, l.ping_interval, l.close_timeout});
  Duration tick = std::clamp(shortest / 4, Duration(50), Duration(1000));
  loop_.add_timer(tick, tick, [this] { sweep(); });
}

void LoopContext::sweep() {
  const uint64_t now = loop_.now_ms();
  for (ConnectionImpl* c = connections_; c; c = c->next) c->sweep(now);
}

void LoopContext::begin_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  listeners_.clear();
  // A component that throws here still gets its clients told to leave, and the deadline.
  for (Route& r : routes_) net::run_guarded([&] { r.component->on_shutdown(); }, "on_shutdown");
  for (ConnectionImpl* c = connections_; c; c = c->next) {
    if (c->state() == ConnectionImpl::State::open) c->start_close(close_code::going_away, "server shutting down");
    else if (c->state() == ConnectionImpl::State::http || c->state() == ConnectionImpl::State::authenticating) c->close_now();
  }
  loop_.add_timer(server_config().shutdown_timeout, Duration::zero(), [this] {
    past_shutdown_deadline_ = true;
    for (ConnectionImpl* c = connections_; c; c = c->next) c->close_now();
    if (http_client_) http_client_->shut_down();  // its dones run now, while the loop still does
  });
  if (may_stop()) loop_.stop();
}

}  // namespace capstan::app
