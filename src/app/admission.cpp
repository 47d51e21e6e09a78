#include "app/admission.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "http/response.hpp"
#include "net/syscalls.hpp"

namespace capstan::app {

void Admission::refuse(int fd, int status, const char* reason, bool answer) noexcept {
  if (!answer) {
    ::close(fd);
    return;
  }
  try {
    std::string response;
    http::append_error(response, status, reason);
    [[maybe_unused]] ssize_t n = net::syscalls.send(fd, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  } catch (...) {  // no memory for the answer: the close says enough
  }
  ::close(fd);
}

bool Admission::admit(int fd, const net::CompactAddress& address, uint32_t max_connections, uint64_t now_ms, bool answer) {
  if (connections_.fetch_add(1, std::memory_order_relaxed) >= max_connections) {
    connections_.fetch_sub(1, std::memory_order_relaxed);
    metrics_.limit_hit(metrics::LimitKind::max_connections);
    refuse(fd, 503, "too many connections", answer);
    return false;
  }
  const IpLimiter::Verdict verdict = per_address_.admit(address, now_ms);
  if (verdict == IpLimiter::Verdict::admitted) return true;
  connections_.fetch_sub(1, std::memory_order_relaxed);
  const bool too_many = verdict == IpLimiter::Verdict::too_many;
  metrics_.limit_hit(too_many ? metrics::LimitKind::connections_per_ip : metrics::LimitKind::connection_rate);
  refuse(fd, 429, too_many ? "too many connections from this address" : "connection rate from this address exceeded", answer);
  return false;
}

}  // namespace capstan::app
