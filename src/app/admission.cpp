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

bool Admission::admit(int fd, const net::CompactAddress& address, uint32_t max_connections, uint64_t now_ms,
                      bool count_address, bool answer) {
  if (connections_.fetch_add(1, std::memory_order_relaxed) >= max_connections) {
    connections_.fetch_sub(1, std::memory_order_relaxed);
    metrics_.limit_hit(metrics::LimitKind::max_connections);
    refuse(fd, 503, "too many connections", answer);
    return false;
  }
  if (!count_address) return true;
  const IpLimiter::Verdict verdict = admit_address(address, now_ms);
  if (verdict == IpLimiter::Verdict::admitted) return true;
  connections_.fetch_sub(1, std::memory_order_relaxed);
  refuse(fd, 429, refusal_reason(verdict), answer);
  return false;
}

IpLimiter::Verdict Admission::admit_address(const net::CompactAddress& address, uint64_t now_ms) {
  const IpLimiter::Verdict verdict = per_address_.admit(address, now_ms);
  if (verdict != IpLimiter::Verdict::admitted)
    metrics_.limit_hit(verdict == IpLimiter::Verdict::too_many ? metrics::LimitKind::connections_per_ip
                                                               : metrics::LimitKind::connection_rate);
  return verdict;
}

const char* Admission::refusal_reason(IpLimiter::Verdict verdict) noexcept {
  return verdict == IpLimiter::Verdict::too_many ? "too many connections from this address"
                                                 : "connection rate from this address exceeded";
}

}  // namespace capstan::app
