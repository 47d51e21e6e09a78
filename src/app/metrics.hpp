// The counters behind GET /metrics (Prometheus text format 0.0.4), and their exposition.
//
// Every counter belongs to one event loop and is written only by that loop's thread; the
// scrape (on whichever loop serves /metrics) sums the loops with relaxed loads. A write is a
// relaxed load plus a relaxed store of the loop's own value, which compiles to plain moves:
// no locked instruction and no allocation on the message path (docs/design.md). A scrape may
// see one loop a message ahead of another, which a scrape can afford.
//
// Per route (in Route, so the connection reaches them through the route pointer it holds
// anyway): connections opened, messages and payload bytes in and out. Per loop (in
// LoopContext): closes by code, refused handshakes, authentication failures, limit hits,
// send-buffer overflows and the handshake latency histogram.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace capstan::app::metrics {

// A counter with a single writer (the owning loop's thread) and any number of readers.
class Counter {
 public:
  Counter() = default;
  // Copies happen only while routes are moved into their loop, before any thread reads.
  Counter(const Counter& other) noexcept : value_(other.get()) {}
  Counter& operator=(const Counter& other) noexcept {
    value_.store(other.get(), std::memory_order_relaxed);
    return *this;
  }
  void add(uint64_t n = 1) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
    // One `add` to memory, no lock prefix: the load-add-store below compiles to three
    // instructions, this to one (callgrind: 14 -> 6 per echo for the four message counters).
    // The aligned 8-byte store is single-copy atomic on x86, so a relaxed reader sees the old
    // or the new value, exactly as with the portable form.
    asm volatile("addq %1, %0" : "+m"(value_) : "er"(n));
#else
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
#endif
  }
  uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// One loop's traffic on one route. Bytes are message payloads as the component sees them
// (before compression on the way out, after inflation on the way in).
struct RouteCounters {
  Counter opened;
  Counter messages_received;
  Counter bytes_received;
  Counter messages_sent;
  Counter bytes_sent;

  void received(size_t bytes) noexcept {
    messages_received.add();
    bytes_received.add(bytes);
  }
  void sent(size_t bytes) noexcept {
    messages_sent.add();
    bytes_sent.add(bytes);
  }
};

// The limiter's hits ([limits], SPEC section 6). The three connection kinds are refusals at
// accept (HTTP 429 / 503), so they also count as handshake failures with reason too_many.
enum class LimitKind : uint8_t { messages, connections_per_ip, connection_rate, max_connections };
inline constexpr size_t kLimitKinds = 4;

// Why a handshake got no 101: a malformed request (400, 405, 505), a request head too large
// (431), an unsupported WebSocket version (426), no route (404), an origin not allowed
// (403), refused at accept by a limit (429, 503), no complete handshake in time, or a
// malformed PROXY protocol header from a trusted proxy (closed without an answer).
enum class HandshakeFailure : uint8_t { bad_request, too_large, version, not_found, origin, too_many, timeout, proxy_header };
inline constexpr size_t kHandshakeFailures = 8;
HandshakeFailure handshake_failure_for_status(int http_status) noexcept;

// Why a token-bearing route refused a connection after its 101 (connection_auth.cpp).
enum class AuthFailure : uint8_t { no_token, invalid_token, unknown_user, database, proxy_refused, proxy_failed };
inline constexpr size_t kAuthFailures = 6;

// Closes by code. Any code may appear (components and clients pick 3000-4999), so codes get
// slots as they are first seen: open addressing, the count written before the code is
// published, so a reader that sees a code sees its count. A loop that saw more than kSlots
// distinct codes counts the rest as "other".
class CloseCodes {
 public:
  static constexpr size_t kSlots = 64;
  void count(uint16_t code) noexcept;
  template <class Fn>  // fn(uint16_t code, uint64_t count) for every code seen
  void for_each(Fn&& fn) const {
    for (size_t i = 0; i < kSlots; ++i)
      if (uint16_t code = codes_[i].load(std::memory_order_acquire)) fn(code, counts_[i].get());
  }
  uint64_t other() const noexcept { return other_.get(); }

 private:
  std::atomic<uint16_t> codes_[kSlots] = {};
  Counter counts_[kSlots];
  Counter other_;
};

// Handshake latency, accept to 101, in microseconds. Buckets are counted one by one and made
// cumulative in the exposition; the sum is kept in whole microseconds (exact, no floats).
inline constexpr size_t kHandshakeBuckets = 12;
inline constexpr uint32_t kHandshakeBoundsUs[kHandshakeBuckets] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000};

// Monotonic microseconds, truncated to 32 bits: differences (in unsigned arithmetic) stay
// exact for 71 minutes, far beyond any handshake timeout.
uint32_t now_us() noexcept;

// Everything one loop counts besides the per-route traffic.
class LoopMetrics {
 public:
  void limit_hit(LimitKind kind) noexcept;
  void handshake_failed(HandshakeFailure reason) noexcept { handshake_failures_[static_cast<size_t>(reason)].add(); }
  void handshake_refused(int http_status) noexcept { handshake_failed(handshake_failure_for_status(http_status)); }
  void auth_failed(AuthFailure reason) noexcept { auth_failures_[static_cast<size_t>(reason)].add(); }
  void closed(uint16_t code) noexcept { closes_.count(code); }
  void send_buffer_overflow() noexcept { send_buffer_overflows_.add(); }
  // The 101 went out `accepted_us` (now_us() at accept) ago.
  void handshake_completed(uint32_t accepted_us) noexcept;

  const Counter& limit_hits(LimitKind kind) const noexcept { return limit_hits_[static_cast<size_t>(kind)]; }
  const Counter& handshake_failures(HandshakeFailure r) const noexcept { return handshake_failures_[static_cast<size_t>(r)]; }
  const Counter& auth_failures(AuthFailure r) const noexcept { return auth_failures_[static_cast<size_t>(r)]; }
  const CloseCodes& closes() const noexcept { return closes_; }
  const Counter& send_buffer_overflows() const noexcept { return send_buffer_overflows_; }
  const Counter& handshake_bucket(size_t i) const noexcept { return handshake_buckets_[i]; }  // kHandshakeBuckets: +Inf
  const Counter& handshake_sum_us() const noexcept { return handshake_sum_us_; }

 private:
  Counter limit_hits_[kLimitKinds];
  Counter handshake_failures_[kHandshakeFailures];
  Counter auth_failures_[kAuthFailures];
  Counter send_buffer_overflows_;
  Counter handshake_buckets_[kHandshakeBuckets + 1];  // the last: above every bound
  Counter handshake_sum_us_;
  CloseCodes closes_;
};

// ---- Exposition ----------------------------------------------------------------------------

// All loops summed: plain numbers, so the text is a pure function of it (and unit-tested).
struct Snapshot {
  struct Route {
    std::string path;
    uint64_t open = 0;  // WebSocket connections open now
    uint64_t opened = 0, messages_received = 0, bytes_received = 0, messages_sent = 0, bytes_sent = 0;
  };
  std::vector<Route> routes;
  uint64_t sockets = 0;  // TCP connections held, plain HTTP and handshakes included
  std::map<uint16_t, uint64_t> closes;
  uint64_t closes_other = 0;
  uint64_t handshake_failures[kHandshakeFailures] = {};
  uint64_t auth_failures[kAuthFailures] = {};
  uint64_t limit_hits[kLimitKinds] = {};
  uint64_t send_buffer_overflows = 0;
  uint64_t handshake_buckets[kHandshakeBuckets + 1] = {};  // not cumulative
  uint64_t handshake_sum_us = 0;
  int64_t start_time_unix = 0;
  int64_t uptime_seconds = 0;

  void add(const LoopMetrics& loop);
};

std::string_view name_of(LimitKind kind) noexcept;
std::string_view name_of(HandshakeFailure reason) noexcept;
std::string_view name_of(AuthFailure reason) noexcept;

// Appends `value` as the inside of a label value: \ " and newline escaped (format 0.0.4).
void append_label_value(std::string& out, std::string_view value);
// 1234567 -> "1.234567", 500 -> "0.0005": microseconds as decimal seconds, exactly.
void append_seconds(std::string& out, uint64_t micros);
// The whole exposition, every family with HELP and TYPE.
void format(const Snapshot& snapshot, std::string& body);

}  // namespace capstan::app::metrics
