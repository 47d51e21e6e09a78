#include "net/event_loop.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include "net/guarded.hpp"
#include "net/syscalls.hpp"
#include "util/log.hpp"

namespace capstan::net {

namespace {
constexpr int kMaxEvents = 1024;
}

EventLoop::EventLoop(unsigned index) : index_(index) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wakeup_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wakeup_fd_ < 0) throw std::system_error(errno, std::generic_category(), "event loop");
  add(wakeup_fd_, &wakeup_, EPOLLIN);
  start_ = now_ = Clock::now();
}

EventLoop::~EventLoop() {
  free_released();
  if (wakeup_fd_ >= 0) ::close(wakeup_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

bool EventLoop::add(int fd, Pollable* p, uint32_t events) noexcept {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = p;
  return syscalls.epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool EventLoop::modify(int fd, Pollable* p, uint32_t events) noexcept {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = p;
  return syscalls.epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::remove(int fd) noexcept { syscalls.epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::release(std::unique_ptr<ReleasedPollable> p) noexcept {
  ReleasedPollable* r = p.release();
  r->next_released_ = released_;
  released_ = r;
}

void EventLoop::free_released() noexcept {
  // Taken off the loop first: a destructor (a callback's captures) may release another,
  // which then waits for the next turn.
  while (ReleasedPollable* r = std::exchange(released_, nullptr)) {
    while (r) delete std::exchange(r, r->next_released_);
  }
}

void EventLoop::update_clock() noexcept {
  now_ = Clock::now();
  now_ms_ = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now_ - start_).count());
}

void EventLoop::run() {
  while (!stopping_) turn(-1);
}

thread_local const EventLoop* EventLoop::current_ = nullptr;

void EventLoop::turn(int max_wait_ms) {
  current_ = this;
  epoll_event events[kMaxEvents];
  // From the clock of now, not the turn's: a timer added during the last turn (libcurl's
  // "act now") was stamped later than the turn's clock, and would wait a whole millisecond.
  int timeout = timers_.next_timeout_ms(Clock::now());
  if (max_wait_ms >= 0 && (timeout < 0 || timeout > max_wait_ms)) timeout = max_wait_ms;
  int n = syscalls.epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
  if (n < 0) {
    // EINTR, or a fault of the kernel's (ENOMEM): nothing was reported, so nothing is lost.
    // The loop goes on with its timers and posted work; the thread never ends on it.
    if (errno != EINTR) note_wait_failure(errno);
    n = 0;
  }
  update_clock();
  for (int i = 0; i < n; ++i) static_cast<Pollable*>(events[i].data.ptr)->on_event(events[i].events);
  timers_.run_due(now_);
  run_posted();
  // Guarded like timers and posted work: the hook is the application's, and a throw out of it
  // would end the loop thread with every connection on it.
  if (end_of_turn_) run_guarded(end_of_turn_, "end of turn");
  free_released();  // last: timers, posted work and the hook may release too
}

void EventLoop::note_wait_failure(int error) {
  // Said once a second at most; a short pause keeps a persistent fault from spinning a core.
  if (now_ms_ - last_wait_failure_ms_ >= 1000 || last_wait_failure_ms_ == 0) {
    log::error("epoll_wait failed", {{"loop", std::to_string(index_)}, {"error", std::strerror(error)}});
    last_wait_failure_ms_ = now_ms_ ? now_ms_ : 1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

TimerId EventLoop::add_timer(Duration delay, Duration interval, std::function<void()> fn) {
  return timers_.add(Clock::now() + delay, interval, std::move(fn));
}

void EventLoop::post_task(std::function<void()> fn) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(fn));
  }
  // One eventfd write wakes the loop for any number of posts until it drains them.
  if (!wakeup_pending_.exchange(true, std::memory_order_acq_rel)) {
    uint64_t one = 1;
    // A failed wakeup must not leave the flag set, or no later post would try again; the
    // loop still runs the work at its next turn (the sweep tick wakes it within a second).
    if (syscalls.write(wakeup_fd_, &one, sizeof one) != sizeof one) wakeup_pending_.store(false, std::memory_order_release);
  }
}

void EventLoop::Wakeup::on_event(uint32_t) {
  uint64_t count;
  [[maybe_unused]] ssize_t r = ::read(loop_.wakeup_fd_, &count, sizeof count);
}

void EventLoop::run_posted() {
  if (!wakeup_pending_.load(std::memory_order_acquire)) return;
  {
    std::lock_guard lock(posted_mutex_);
    running_.swap(posted_);
    wakeup_pending_.store(false, std::memory_order_release);
  }
  for (auto& fn : running_) run_guarded(fn, "posted work");
  running_.clear();
}

}  // namespace capstan::net

// The public Loop handle forwards to the loop it is.
namespace capstan {

namespace {
net::EventLoop& impl(Loop* l) { return *static_cast<net::EventLoop*>(l); }
const net::EventLoop& impl(const Loop* l) { return *static_cast<const net::EventLoop*>(l); }
}  // namespace

TimerId Loop::after(Duration delay, std::function<void()> fn) { return impl(this).add_timer(delay, Duration::zero(), std::move(fn)); }
TimerId Loop::every(Duration interval, std::function<void()> fn) {
  if (interval.count() <= 0) interval = Duration(1);
  return impl(this).add_timer(interval, interval, std::move(fn));
}
void Loop::cancel(TimerId id) { impl(this).cancel_timer(id); }
void Loop::post(std::function<void()> fn) { impl(this).post_task(std::move(fn)); }
std::chrono::steady_clock::time_point Loop::now() const noexcept { return impl(this).clock(); }
unsigned Loop::index() const noexcept { return impl(this).loop_index(); }

}  // namespace capstan
