#include "net/listener.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/syscalls.hpp"

namespace capstan::net {

bool address_in_use(const ListenAddress& address) {
  // SO_REUSEPORT would let a second server bind the same port and silently take half of its
  // connections. A probe bind without the option fails if anyone listens there already.
  const auto* sa = reinterpret_cast<const sockaddr*>(&address.storage);
  int probe = ::socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return false;
  int one = 1;
  setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (sa->sa_family == AF_INET6) setsockopt(probe, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  bool in_use = ::bind(probe, sa, address.length) != 0 && errno == EADDRINUSE;
  ::close(probe);
  return in_use;
}

Status Listener::open(const ListenAddress& address) {
  const auto* sa = reinterpret_cast<const sockaddr*>(&address.storage);
  fd_ = ::socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return Error::from_errno(errno, "socket");
  int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (sa->sa_family == AF_INET6) setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd_, sa, address.length) != 0 || ::listen(fd_, SOMAXCONN) != 0) {
    Error error = Error::from_errno(errno, "cannot listen on " + address.text);
    close();
    return error;
  }
  if (!loop_.add(fd_, this, EPOLLIN)) {
    Error error = Error::from_errno(errno, "epoll");
    close();
    return error;
  }
  return {};
}

void Listener::close() noexcept {
  if (resume_timer_) loop_.cancel_timer(resume_timer_);
  resume_timer_ = 0;
  if (fd_ < 0) return;
  loop_.remove(fd_);
  ::close(fd_);
  fd_ = -1;
}

uint16_t Listener::port() const noexcept {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  return CompactAddress::from(reinterpret_cast<sockaddr*>(&ss)).port;
}

void Listener::pause_accepting() {
  // Out of descriptors: level-triggered epoll would report the pending connection on every
  // turn and spin the loop. Stop listening for readiness and look again a little later; the
  // connection waits in the kernel's queue meanwhile.
  if (paused_) return;
  paused_ = true;
  loop_.modify(fd_, this, 0);
  resume_timer_ = loop_.add_timer(Duration(100), Duration::zero(), [this] {
    paused_ = false;
    resume_timer_ = 0;
    if (fd_ >= 0) loop_.modify(fd_, this, EPOLLIN);
  });
}

void Listener::on_event(uint32_t) {
  // Accept a bounded batch per turn so a connection storm cannot starve established clients.
  for (int i = 0; i < 128 && fd_ >= 0; ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = syscalls.accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) pause_accepting();
      return;  // EAGAIN: the queue is empty
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    on_accept_(fd, reinterpret_cast<sockaddr*>(&peer));
  }
}

}  // namespace capstan::net
