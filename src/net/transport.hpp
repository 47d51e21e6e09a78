// The byte stream under a connection: what HTTP, WebSocket, components and the output path
// use to read, write and end a connection, without knowing what carries it. Two transports
// today: plain TCP (TcpTransport, stateless, the hot path) and TLS (tls/tls_transport.hpp,
// one per connection). The loop reports readiness to the transport's `watcher` (the
// connection itself for TCP), and the connection asks what to watch next (`own_interest`).
//
// The interface is pull-shaped (read into the caller's buffer, write a list of buffers and
// learn how much was taken) because a completion-based loop fits under it unchanged: an
// io_uring transport hands out the bytes of completed receives (provided buffers) from
// read() with no system call, copies what write() is given into its own registered send
// buffers and submits them batched at the end of the turn (reporting all of it taken while
// its buffers last), and turns completions into the same readiness the connection handles
// today (docs/design.md, "Transports").
#pragma once

#include <sys/epoll.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "net/event_loop.hpp"
#include "net/syscalls.hpp"

namespace capstan::net {

// Readiness, as the connection sees it. The epoll bits are the values of the epoll loop; the
// names are what the layers above use.
struct Ready {
  static constexpr uint32_t readable = EPOLLIN;
  static constexpr uint32_t writable = EPOLLOUT;
  static constexpr uint32_t hangup = EPOLLHUP | EPOLLERR | EPOLLRDHUP;
};
// What a connection asks to be told about.
struct Interest {
  static constexpr uint32_t read = EPOLLIN | EPOLLRDHUP;
  static constexpr uint32_t write = EPOLLOUT;
  static constexpr uint32_t hangup = EPOLLRDHUP;  // while reading is paused: only a peer leaving
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Reads what the stream has for the caller into `buf`: the byte count (> 0), 0 when there is
  // nothing now (the loop will report readiness), -1 when the stream ended: EOF, a reset, a
  // protocol failure.
  virtual ssize_t read(int fd, uint8_t* buf, size_t capacity) noexcept = 0;
  // Writes what the stream takes now of `iov`, in order: the bytes taken (the caller keeps
  // the rest and offers it again, the same bytes first), or -1 when the stream failed.
  virtual ssize_t write(int fd, const iovec* iov, size_t count) noexcept = 0;
  // Our last word was taken: end our direction (the peer sees EOF, after TLS's close_notify).
  virtual void shutdown_write(int fd) noexcept = 0;

  // Readiness the transport itself waits for, beyond the caller's (a handshake's write).
  virtual uint32_t own_interest() const noexcept { return 0; }
  // True once after own_interest() changed: the caller re-arms its watch.
  virtual bool take_interest_change() noexcept { return false; }
  // What the loop reports the socket's readiness to: the caller itself, or (TLS) the
  // transport, which passes on what the readiness means for the caller: a read that waits to
  // write is readable again when the socket is writable. Then the caller needs no check of
  // its own per event.
  virtual Pollable* watcher(Pollable* caller) noexcept { return caller; }
  // Input taken from the socket and not yet handed out (the caller's buffer was full).
  virtual bool has_buffered_input() const noexcept { return false; }
  // The stream carries the caller's bytes (TLS: the handshake is done).
  virtual bool established() const noexcept { return true; }
  // The caller gave up on this stream before it was established (a handshake timeout).
  virtual void abandoned() noexcept {}
};

// Plain TCP: a function of the descriptor, no state. The connection calls the static
// functions directly, inlined (an echo is a few hundred instructions: a call and a virtual
// dispatch per read and per write would be a measurable share of it).
class TcpTransport final : public Transport {
 public:
  static ssize_t read_plain(int fd, uint8_t* buf, size_t capacity) noexcept {
    // One read per readiness event: level-triggered epoll reports the socket again if more
    // is waiting, so there is no extra read that only returns EAGAIN.
    const ssize_t n = syscalls.recv(fd, buf, capacity, 0);
    if (n > 0) [[likely]] return n;
    return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;  // else EOF or a reset
  }
  // One piece (a broadcast's frame, gathered small frames): send(2), which skips sendmsg's
  // copy of the message header and iovec array.
  static ssize_t send_plain(int fd, const void* data, size_t size) noexcept {
    const ssize_t n = syscalls.send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) [[likely]] return n;
    return errno == EAGAIN || errno == EINTR ? 0 : -1;
  }
  static ssize_t write_plain(int fd, const iovec* iov, size_t count) noexcept;
  static void shutdown_plain(int fd) noexcept;

  ssize_t read(int fd, uint8_t* buf, size_t capacity) noexcept override { return read_plain(fd, buf, capacity); }
  ssize_t write(int fd, const iovec* iov, size_t count) noexcept override { return write_plain(fd, iov, count); }
  void shutdown_write(int fd) noexcept override { shutdown_plain(fd); }
};

}  // namespace capstan::net
