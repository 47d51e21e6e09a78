// Timers of one loop: a min-heap of deadlines. Components' `after`/`every` and the loop's own
// coarse housekeeping tick live here. Cancelling is lazy (the heap skips ids it no longer
// knows), but the heap is rebuilt once cancelled entries outnumber live ones, so a timeout
// re-armed on every message (cancel, then after) keeps the heap at the live timers' size.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "capstan/loop.hpp"

namespace capstan::net {

class TimerQueue {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  TimerId add(TimePoint deadline, Duration interval, std::function<void()> fn);
  void cancel(TimerId id);
  // Milliseconds until the next deadline (rounded up), or -1 when there is none.
  int next_timeout_ms(TimePoint now) const;
  // Runs every timer due at `now`; repeating ones are rescheduled.
  void run_due(TimePoint now);
  bool empty() const noexcept { return timers_.empty(); }
  // The timer whose callback is running now, 0 outside one: a callback learns its own id.
  TimerId running() const noexcept { return running_; }
  // Entries in the heap, live and cancelled: what the rebuild bounds (for tests).
  size_t heap_size() const noexcept { return heap_.size(); }

 private:
  struct Timer {
    Duration interval;  // zero: one-shot
    std::function<void()> fn;
  };
  struct Entry {
    TimePoint deadline;
    TimerId id;
    bool operator>(const Entry& o) const noexcept { return deadline > o.deadline || (deadline == o.deadline && id > o.id); }
  };
  void drop_cancelled_top();
  void push(Entry e);
  void pop();
  // Drops cancelled entries when they are the majority: amortized O(1) per cancel.
  void compact_if_mostly_cancelled();

  std::vector<Entry> heap_;  // a min-heap by std::greater<Entry>
  std::unordered_map<TimerId, Timer> timers_;  // cancelled ids vanish here; the heap skips them
  TimerId next_id_ = 1;
  TimerId running_ = 0;
};

}  // namespace capstan::net
