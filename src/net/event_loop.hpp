// One epoll event loop per thread: readiness dispatch, timers, and work posted from other
// threads. Everything above it (HTTP, WebSocket, components) runs inside its callbacks.
//
// A turn, top to bottom (see run()): wait for events or the next timer, read the clock once,
// dispatch each ready descriptor, run due timers, run posted work, then the end-of-turn hook
// (the application flushes corked output and reaps closed connections there, a fixed point
// where no callback of theirs is on the stack), and last it frees the pollables released
// during the turn (a component's Watch, closed inside a callback).
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "capstan/loop.hpp"
#include "net/timer_queue.hpp"

namespace capstan::net {

// Anything registered with the loop. epoll's data.ptr points at it, so dispatch needs no
// lookup; the owner must deregister before destroying it, and destroy it only at the end of
// a turn (events of the same turn may still name it).
class Pollable {
 public:
  virtual void on_event(uint32_t events) = 0;

 protected:
  ~Pollable() = default;
};

// A Pollable whose owner hands it to the loop to free (EventLoop::release) instead of
// destroying it: an owner that goes away inside a callback cannot wait for the end of the turn.
class ReleasedPollable : public Pollable {
 public:
  virtual ~ReleasedPollable() = default;

 private:
  friend class EventLoop;
  ReleasedPollable* next_released_ = nullptr;  // intrusive, so releasing never allocates
};

class EventLoop final : public capstan::Loop {
 public:
  using Clock = std::chrono::steady_clock;

  explicit EventLoop(unsigned index);
  ~EventLoop();

  // False (with errno set) when the kernel refused a descriptor.
  bool add(int fd, Pollable* p, uint32_t events) noexcept;
  bool modify(int fd, Pollable* p, uint32_t events) noexcept;
  void remove(int fd) noexcept;
  // Frees `p`, whose descriptor was removed, at the end of the turn (or with the loop), when
  // no event fetched this turn can name it any more.
  void release(std::unique_ptr<ReleasedPollable> p) noexcept;

  // Runs turns until stop(); returns when the loop is stopped.
  void run();
  // One turn, waiting at most `max_wait_ms` for an event (-1: until the next timer). What a
  // test drives the loop with, one step at a time.
  void turn(int max_wait_ms);
  // Ends run() after the current turn. Loop thread only; other threads post() it.
  void stop() noexcept { stopping_ = true; }

  void set_end_of_turn(std::function<void()> hook) { end_of_turn_ = std::move(hook); }

  Clock::time_point clock() const noexcept { return now_; }
  // Milliseconds since the loop was created, from the per-turn clock: cheap to compare.
  uint64_t now_ms() const noexcept { return now_ms_; }

  // capstan::Loop
  TimerId add_timer(Duration delay, Duration interval, std::function<void()> fn);
  void cancel_timer(TimerId id) { timers_.cancel(id); }
  TimerId running_timer() const noexcept { return timers_.running(); }
  void post_task(std::function<void()> fn);
  unsigned loop_index() const noexcept { return index_; }
  // True on the thread running this loop's turn: what may touch the loop's state directly
  // rather than post (an HTTP response answered from a worker).
  bool on_own_thread() const noexcept { return current_ == this; }

 private:
  class Wakeup final : public Pollable {
   public:
    explicit Wakeup(EventLoop& loop) : loop_(loop) {}
    void on_event(uint32_t) override;
   private:
    EventLoop& loop_;
  };

  void update_clock() noexcept;
  void note_wait_failure(int error);
  void run_posted();
  void free_released() noexcept;

  unsigned index_;
  int epoll_fd_ = -1;
  int wakeup_fd_ = -1;
  bool stopping_ = false;
  Clock::time_point start_;
  Clock::time_point now_;
  uint64_t now_ms_ = 0;
  uint64_t last_wait_failure_ms_ = 0;
  TimerQueue timers_;
  Wakeup wakeup_{*this};
  std::function<void()> end_of_turn_;
  ReleasedPollable* released_ = nullptr;  // this turn's, freed at its end

  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;   // guarded by posted_mutex_
  std::vector<std::function<void()>> running_;  // loop thread only
  std::atomic<bool> wakeup_pending_{false};
  static thread_local const EventLoop* current_;  // the loop whose turn this thread runs
};

}  // namespace capstan::net
