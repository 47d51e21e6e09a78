#include "net/signals.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

namespace capstan::net {

void block_signals(std::initializer_list<int> signals) noexcept {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

SignalWatcher::SignalWatcher(EventLoop& loop, std::initializer_list<int> signals, Handler handler)
    : loop_(loop), handler_(std::move(handler)) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd_ >= 0) loop_.add(fd_, this, EPOLLIN);
}

SignalWatcher::~SignalWatcher() {
  if (fd_ < 0) return;
  loop_.remove(fd_);
  ::close(fd_);
}

void SignalWatcher::on_event(uint32_t) {
  signalfd_siginfo info;
  while (::read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info))
    handler_(static_cast<int>(info.ssi_signo));
}

}  // namespace capstan::net
