// The public Watch over the loop's Pollable. The state epoll points at lives apart from the
// Watch, so the Watch can be destroyed inside its own callback or while the turn still holds
// an event naming it: the state is removed from epoll at once, marked closed, and freed by
// the loop at the end of the turn (EventLoop::release).
#include "capstan/watch.hpp"

#include <sys/epoll.h>

#include <cerrno>
#include <memory>
#include <utility>

#include "net/event_loop.hpp"
#include "net/guarded.hpp"

namespace capstan {

class Watch::State final : public net::ReleasedPollable {
 public:
  State(net::EventLoop& loop, int fd, Callback on_readable, Callback on_writable)
      : loop_(loop), fd_(fd), on_readable_(std::move(on_readable)), on_writable_(std::move(on_writable)) {}

  void on_event(uint32_t events) override {
    // Hang-up and error are news for whichever side is wanted (see watch.hpp).
    if (events & (EPOLLHUP | EPOLLERR)) events |= EPOLLIN | EPOLLOUT;
    // Read first, as Redis' ae.c does: a reply to what was just read can leave at once. Each
    // side is checked as it is now, since the other side's callback may have changed it.
    if ((events & EPOLLIN) && read_ && !closed_) net::run_guarded(on_readable_, "watch readable");
    if ((events & EPOLLOUT) && write_ && !closed_) net::run_guarded(on_writable_, "watch writable");
  }

  bool want(bool& side, const Callback& callback, bool on) {
    if (on && !callback) {
      errno = EINVAL;
      return false;
    }
    const bool before = side;
    side = on;
    if (apply()) return true;
    side = before;
    return false;
  }

  // Out of epoll for good, before the descriptor closes.
  void close() noexcept {
    if (registered_) loop_.remove(fd_);
    registered_ = 0;
    closed_ = true;
  }

  net::EventLoop& loop_;
  const int fd_;
  const Callback on_readable_;
  const Callback on_writable_;
  bool read_ = false;
  bool write_ = false;
  bool closed_ = false;
  uint32_t registered_ = 0;  // the events epoll has for fd_; 0 when it does not have fd_

 private:
  // Brings epoll in line with the wish: no call when it already is, and out of epoll while
  // nothing is wanted (epoll would still report a hang-up every turn).
  bool apply() noexcept {
    const uint32_t wanted = (read_ ? uint32_t(EPOLLIN) : 0u) | (write_ ? uint32_t(EPOLLOUT) : 0u);
    if (wanted == registered_) return true;
    if (wanted == 0) {
      loop_.remove(fd_);
    } else if (!(registered_ ? loop_.modify(fd_, this, wanted) : loop_.add(fd_, this, wanted))) {
      return false;
    }
    registered_ = wanted;
    return true;
  }
};

Watch::Watch(Loop& loop, int fd, Callback on_readable, Callback on_writable)
    : state_(new State(static_cast<net::EventLoop&>(loop), fd, std::move(on_readable), std::move(on_writable))) {}

Watch::Watch(Watch&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}

Watch& Watch::operator=(Watch&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

Watch::~Watch() { close(); }

bool Watch::want_read(bool on) {
  if (!state_) {
    errno = EBADF;
    return false;
  }
  return state_->want(state_->read_, state_->on_readable_, on);
}

bool Watch::want_write(bool on) {
  if (!state_) {
    errno = EBADF;
    return false;
  }
  return state_->want(state_->write_, state_->on_writable_, on);
}

bool Watch::wants_read() const noexcept { return state_ && state_->read_; }
bool Watch::wants_write() const noexcept { return state_ && state_->write_; }
int Watch::fd() const noexcept { return state_ ? state_->fd_ : -1; }

void Watch::close() noexcept {
  if (!state_) return;
  State* state = std::exchange(state_, nullptr);
  state->close();
  state->loop_.release(std::unique_ptr<net::ReleasedPollable>(state));
}

}  // namespace capstan
