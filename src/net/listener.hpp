// A listening socket registered with one loop. Every loop has its own listener on the same
// address (SO_REUSEPORT), so the kernel spreads connections over loops with no shared accept
// queue and no lock.
#pragma once

#include <sys/socket.h>

#include <functional>
#include <string>

#include "net/event_loop.hpp"
#include "net/socket_address.hpp"

namespace capstan::net {

// True when something already listens on `address` (checked before the first loop binds).
bool address_in_use(const ListenAddress& address);

class Listener final : public Pollable {
 public:
  // Called with each accepted, non-blocking socket; the callee owns the descriptor.
  using AcceptFn = std::function<void(int fd, const sockaddr* peer)>;

  Listener(EventLoop& loop, AcceptFn on_accept) : loop_(loop), on_accept_(std::move(on_accept)) {}
  ~Listener() { close(); }

  // Binds and listens; false with the reason in `error`.
  Status open(const ListenAddress& address);
  void close() noexcept;
  // The bound port (useful when asked for port 0).
  uint16_t port() const noexcept;

  void on_event(uint32_t events) override;

 private:
  void pause_accepting();

  EventLoop& loop_;
  AcceptFn on_accept_;
  int fd_ = -1;
  bool paused_ = false;
  TimerId resume_timer_ = 0;
};

}  // namespace capstan::net
