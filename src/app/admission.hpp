// Whether a socket just accepted may become a connection: the server-wide connection count
// (limits.max_connections) and the per-address limiter (connections_per_ip,
// connection_rate_per_ip). A refusal is answered (503 or 429, best effort, never blocking)
// and the socket closed here, before any connection object exists.
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

  // True: admitted and counted in (the reap counts it out, and releases its address). False:
  // refused (with an HTTP answer when `answer`: not on a TLS port, whose client expects a
  // handshake), and `fd` is closed.
  bool admit(int fd, const net::CompactAddress& address, uint32_t max_connections, uint64_t now_ms, bool answer = true);

 private:
  static void refuse(int fd, int status, const char* reason, bool answer) noexcept;

  std::atomic<uint32_t>& connections_;
  IpLimiter& per_address_;
  metrics::LoopMetrics& metrics_;
};

}  // namespace capstan::app
