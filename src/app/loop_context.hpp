// Everything one event loop's thread owns above the socket layer: its listeners, its
// connections, its instances of the components, and the per-loop buffers that keep idle
// connections small (one receive buffer, one cork buffer, shared by all connections).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "app/admission.hpp"
#include "app/component_attach.hpp"
#include "app/deferred_output.hpp"
#include "app/endpoint_table.hpp"
#include "app/ip_limiter.hpp"
#include "app/connection_directory.hpp"
#include "app/job_dispatch.hpp"
#include "app/late_errors.hpp"
#include "app/metrics.hpp"
#include "app/route.hpp"
#include "app/topics/loop_topics.hpp"
#include "capstan/config.hpp"
#include "capstan/backend.hpp"
#include "capstan/http_client.hpp"
#include "db/database.hpp"
#include "db/worker_pool.hpp"
#include "net/event_loop.hpp"
#include "net/address_set.hpp"
#include "net/listener.hpp"
#include "net/tls/tls_context.hpp"
#include "util/byte_buffer.hpp"
#include "util/check.hpp"
#include "ws/deflate_codec.hpp"

namespace capstan::app {

class ConnectionImpl;
class AuthService;
class LoopContext;


// What /status and /metrics tell about the whole server, published once it listens; any
// loop's endpoint reads it (LoopContext::server_status), nothing else does.
struct ServerStatus {
  std::vector<LoopContext*> loops;                // every loop: the endpoints sum them
  std::vector<std::string> listening;             // real addresses
  std::vector<std::string> listening_tls;         // those of them served with TLS
  std::vector<std::string> route_components;      // by route index: config name, or "c++"
  int64_t started_unix = 0;
  std::chrono::steady_clock::time_point started;
  int64_t uptime_seconds() const noexcept {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count();
  }
};

// State shared by all loops: read-only after start, except the atomics. Only LoopContext
// holds it; what others need of it, it hands out piece by piece.
struct ServerShared {
  const Config* config = nullptr;
  const AuthService* auth = nullptr;  // when some route authenticates or users.provider is set
  const Users* users = nullptr;       // users.provider, for components (Component::users)
  db::WorkerPool* workers = nullptr;  // users.provider's queries and components' blocking work
  std::string static_root;            // server.static_dir, resolved; empty: no files
  std::unique_ptr<IpLimiter> ip_limiter;  // connections per client address, all loops
  net::AddressSet trusted_proxies;        // server.trusted_proxies: whose word on the client is believed
  TopicRing topics;                       // every loop's topics, filled as the loops are made
  std::vector<Endpoint> endpoints;        // plain HTTP endpoints: each loop makes its handlers
  Cluster* cluster = nullptr;             // the other nodes ([cluster] redis), for components
  std::unique_ptr<Backend> backend;       // [backend]: how components call the web application
  std::unique_ptr<net::tls::TlsStore> tls;  // [server.tls]: the certificates new handshakes use
  std::atomic<uint32_t> connections{0};
  std::atomic<uint64_t> next_connection_id{1};
  ServerStatus status;
};

class LoopContext {
 public:
  LoopContext(unsigned index, ServerShared& shared, const std::vector<RouteSpec>& routes);
  ~LoopContext();

  net::EventLoop& loop() noexcept { return loop_; }
  // This loop's copy: a reload (SIGHUP) replaces it on the loop's own thread, so readers
  // never race with the change.
  const Limits& limits() const noexcept { return limits_; }
  const ServerConfig& server_config() const noexcept { return shared_.config->server; }

  // `tls`: the listener's connections are carried by TLS (shared_.tls's certificates).
  Status listen(const net::ListenAddress& address, bool tls = false);
  // Takes a connected socket as a new connection: from a listener, or from a test that
  // holds the other end of a socketpair (the in-memory transport of the lifecycle tests).
  // Refused with 503 or 429 (and closed) over the connection limits (Admission).
  void adopt(int fd, const sockaddr* peer, bool tls = false);
  size_t connection_count() const noexcept { return connection_count_; }
  uint16_t first_port() const noexcept;
  uint16_t last_port() const noexcept;  // of the listener just opened
  // Loop thread: stop accepting, close every connection with 1001, stop the loop once all
  // are gone and the HTTP client's requests are told, or `server.shutdown_timeout` has passed
  // (the requests still in flight then fail with shutting_down).
  void begin_shutdown();

  const Route* find_route(std::string_view path) const noexcept;
  // The client behind a trusted proxy: who counts as one, and its per-address limits.
  const net::AddressSet& trusted_proxies() const noexcept { return shared_.trusted_proxies; }
  Admission& admission() noexcept { return admission_; }
  // This loop's plain HTTP endpoints (/status, /publish, a program's own).
  const EndpointTable& endpoints() const noexcept { return endpoints_; }
  bool shutting_down() const noexcept { return shutting_down_; }

  // The message bucket (limits.messages_per_second / message_burst) in the form the hot path
  // uses: µs between messages (0: no limit), how far ahead the bucket may run, and on_limit.
  struct MessageLimit {
    uint32_t interval_us = 0;
    uint32_t tolerance_us = 0;
    bool closes = false;
  };
  const MessageLimit& message_limit() const noexcept { return message_limit_; }
  void set_limits(const Limits& limits);  // loop thread: at start and on reload
  void notify_reload();                   // loop thread: every component's on_reload
  const AuthService* auth() const noexcept { return shared_.auth; }
  const std::string& static_root() const noexcept { return shared_.static_root; }

  // Blocking work on the worker pool for this loop's connections and components.
  JobDispatch& jobs() noexcept { return jobs_; }
  ConnectionDirectory& directory() noexcept { return directory_; }
  // This loop's HTTP client, made on first use: a loop that never calls out has no curl handle.
  HttpClient& http_client();

  // The receive buffer every connection of this loop reads into.
  uint8_t* read_buffer() noexcept { return read_buffer_.get(); }
  size_t read_buffer_size() const noexcept { return kReadBufferSize; }

  // Corked output: frames of the connection whose event is being handled collect in the cork
  // and leave in one write when the loop turns to another connection's event or the turn
  // ends. Frames for any other connection are deferred (deferred_output.hpp): gathered, and
  // sent once per connection at the end of the turn. A connection owed deferred frames keeps
  // deferring until they leave, so its bytes stay in order.
  //
  // Returns the cork when `c` may use it, else null: then the caller defers.
  util::ByteBuffer* cork_for(ConnectionImpl* c, bool has_deferred) {
    if (corked_ == c) return &cork_;
    if (c != current_ || has_deferred) return nullptr;
    switch_cork(c);
    return &cork_;
  }
  bool is_corked(const ConnectionImpl* c) const noexcept { return corked_ == c; }
  size_t corked_size() const noexcept { return cork_.size(); }
  void uncork();
  // The connection whose event the loop is dispatching: it may take the cork.
  void set_current(ConnectionImpl* c) noexcept { current_ = c; }
  void defer(ConnectionImpl* c, const uint8_t* header, size_t header_size, const char* data, size_t size);
  // The frame deferred last, for `c` too (OutputPath::send_to_many).
  bool defer_again(ConnectionImpl* c) { return deferred_.add_again(c); }
  // Sends every connection what it is owed; at the end of each turn, and early when needed.
  void flush_deferred();
  // Sends `c` alone what it is owed (its send buffer is near the cap); the others keep theirs.
  void flush_deferred_of(ConnectionImpl& c);
  // What the owed connection in `slot` (ConnectionImpl::deferred_slot) is owed this turn.
  size_t deferred_bytes_at(size_t slot) const noexcept { return deferred_.owed_bytes(slot); }
  // Faults found while sending, told to components at the end of the turn.
  LateErrors& late_errors() noexcept { return late_errors_; }

  // permessage-deflate in shared mode: one compressor per window size and one inflater per
  // loop, reset after every message; and the scratch buffers both modes work in.
  const CompressionConfig& compression() const noexcept { return shared_.config->compression; }
  ws::Deflater& shared_deflater(uint8_t window_bits);
  ws::Inflater& shared_inflater();
  std::string& deflate_buffer() noexcept { return deflate_buffer_; }
  std::string& inflate_buffer() noexcept { return inflate_buffer_; }

  void schedule_reap(ConnectionImpl* c) noexcept;
  void connection_closed() noexcept {
    [[maybe_unused]] const uint32_t before = shared_.connections.fetch_sub(1, std::memory_order_relaxed);
    CAPSTAN_CHECK(before > 0);  // counted out once per connection counted in
  }

  // Open WebSocket connections per route, in route order: written by this loop's thread only
  // (a plain load and store, no locked instruction on the hot path), read by /status on any.
  void route_opened(const Route* r) noexcept { bump_route(r, 1); }
  void route_closed(const Route* r) noexcept { bump_route(r, -1); }
  const std::vector<Route>& routes() const noexcept { return routes_; }
  uint64_t route_connections(size_t i) const noexcept { return route_open_[i].load(std::memory_order_relaxed); }
  const ServerStatus& server_status() const noexcept { return shared_.status; }
  uint32_t open_sockets() const noexcept { return shared_.connections.load(std::memory_order_relaxed); }

  // This loop's counters for /metrics (metrics.hpp): written by this loop's thread only,
  // read by whichever loop serves the scrape. The limiter reports its hits here.
  metrics::LoopMetrics& metrics() noexcept { return metrics_; }
  const metrics::LoopMetrics& metrics() const noexcept { return metrics_; }

 private:
  static constexpr size_t kReadBufferSize = 512 * 1024;
  static constexpr size_t kCorkCapacity = 64 * 1024;

  void switch_cork(ConnectionImpl* c);
  void bump_route(const Route* r, int delta) noexcept {
    auto& n = route_open_[static_cast<size_t>(r - routes_.data())];
    n.store(n.load(std::memory_order_relaxed) + static_cast<uint64_t>(delta), std::memory_order_relaxed);
  }
  void sweep();
  void end_of_turn();
  void unlink(ConnectionImpl* c) noexcept;
  void start_sweep_timer();
  // Shutting down, the loop stops once its connections are gone and its HTTP requests are
  // told (or the deadline passed, which fails them).
  bool may_stop() const noexcept;

  ServerShared& shared_;
  metrics::LoopMetrics metrics_;  // written per connection event, never per message
  Admission admission_;           // new sockets: the connection limits
  ComponentServices services_;  // what this loop's component instances reach (component_attach.hpp)
  net::EventLoop loop_;
  LoopTopics topics_;  // before the components: they may subscribe from on_start
  JobDispatch jobs_;
  ConnectionDirectory directory_;
  // After the loop (its Watches and timers), before the components: one may still cancel its
  // requests as it is destroyed.
  std::unique_ptr<HttpClient> http_client_;
  std::vector<std::unique_ptr<net::Listener>> listeners_;
  std::vector<Route> routes_;
  EndpointTable endpoints_;
  std::vector<std::atomic<uint64_t>> route_open_;  // by route index
  std::unique_ptr<uint8_t[]> read_buffer_;
  util::ByteBuffer cork_{kCorkCapacity};
  ConnectionImpl* corked_ = nullptr;
  ConnectionImpl* current_ = nullptr;  // compared, never dereferenced
  DeferredOutput deferred_;
  LateErrors late_errors_;
  ConnectionImpl* connections_ = nullptr;  // intrusive list head
  size_t connection_count_ = 0;
  ConnectionImpl* reap_list_ = nullptr;
  std::unique_ptr<ws::Deflater> shared_deflaters_[16];  // by window bits, made on first use
  std::unique_ptr<ws::Inflater> shared_inflater_;
  std::string deflate_buffer_;
  std::string inflate_buffer_;
  Limits limits_;
  MessageLimit message_limit_;
  bool shutting_down_ = false;
  bool past_shutdown_deadline_ = false;
};

}  // namespace capstan::app
