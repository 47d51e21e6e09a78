// Signals handled inside a loop through signalfd: the process blocks them in every thread,
// and one loop reads them as ordinary events, so handlers run with no async-signal limits.
#pragma once

#include <csignal>
#include <functional>
#include <initializer_list>

#include "net/event_loop.hpp"

namespace capstan::net {

// Blocks `signals` for the calling thread and the threads it creates later.
void block_signals(std::initializer_list<int> signals) noexcept;

class SignalWatcher final : public Pollable {
 public:
  using Handler = std::function<void(int signal)>;
  SignalWatcher(EventLoop& loop, std::initializer_list<int> signals, Handler handler);
  ~SignalWatcher();
  void on_event(uint32_t events) override;

 private:
  EventLoop& loop_;
  Handler handler_;
  int fd_ = -1;
};

}  // namespace capstan::net
