// Plain TCP under a connection: sendmsg and shutdown (recv and send are inline), through the failure-injection
// table (syscalls.hpp). EAGAIN is "nothing now", any other failure ends the stream.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "net/syscalls.hpp"
#include "net/transport.hpp"

namespace capstan::net {

ssize_t TcpTransport::write_plain(int fd, const iovec* iov, size_t count) noexcept {
  if (count == 1) return send_plain(fd, iov[0].iov_base, iov[0].iov_len);
  // sendmsg takes at most IOV_MAX iovecs: piece after piece while the kernel takes them whole.
  constexpr size_t kMaxIov = 1024;
  size_t written = 0;
  for (size_t at = 0; at < count;) {
    const size_t pieces = std::min(count - at, kMaxIov);
    size_t piece_bytes = 0;
    for (size_t i = at; i < at + pieces; ++i) piece_bytes += iov[i].iov_len;
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov + at);
    msg.msg_iovlen = pieces;
    const ssize_t n = syscalls.sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EINTR ? static_cast<ssize_t>(written) : -1;
    written += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < piece_bytes) break;
    at += pieces;
  }
  return static_cast<ssize_t>(written);
}

void TcpTransport::shutdown_plain(int fd) noexcept { ::shutdown(fd, SHUT_WR); }

}  // namespace capstan::net
