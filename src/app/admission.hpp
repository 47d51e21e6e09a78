// Whether a socket just accepted may become a connection: the server-wide connection count
// (limits.max_connections) and the per-address limiter (connections_per_ip,
// connection_rate_per_ip). A refusal is answered (503 or 429, best effort, never blocking)
// and the socket closed here, before any connection object exists; behind a trusted proxy the
// per-address part waits for the client's address (admit_address).
#pragma once

#include <atomic>
#include <cstdint>

#include "app/ip_limiter.hpp"
#include "app/metrics.hpp"
#include "net/socket_address.hpp"

namespace capstan::app {

class Admission {
 public:
  Admission(std::atomic<uint32_t>& connections, IpLimiter& per_address, metrics::LoopMetrics& metrics) noexcept
      : connections_(connections), per_address_(per_address), metrics_(metrics) {}

  // True: admitted and counted in (the reap counts it out, and releases its address if it was
  // counted). False: refused (with an HTTP answer when `answer`: not on a TLS port, whose
  // client expects a handshake), and `fd` is closed. `count_address` false: the peer is a
  // trusted proxy, whose connection is counted per address only once its client is known
  // (admit_address), so that clients behind one proxy do not share one address's limits.
  bool admit(int fd, const net::CompactAddress& address, uint32_t max_connections, uint64_t now_ms,
             bool count_address = true, bool answer = true);
  // The per-address limits for a client learnt after accept (PROXY header, X-Forwarded-For).
  // A refusal is counted here and answered by the caller, the connection existing by then.
  IpLimiter::Verdict admit_address(const net::CompactAddress& address, uint64_t now_ms);
  // The 429's text for a per-address refusal.
  static const char* refusal_reason(IpLimiter::Verdict verdict) noexcept;

 private:
  static void refuse(int fd, int status, const char* reason, bool answer) noexcept;

  std::atomic<uint32_t>& connections_;
  IpLimiter& per_address_;
  metrics::LoopMetrics& metrics_;
};

}  // namespace capstan::app
