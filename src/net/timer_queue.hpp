// Timers of one loop: a min-heap of deadlines. Components' `after`/`every` and the loop's own
// coarse housekeeping tick live here; nothing arms a timer per message.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <queue>
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

  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
  std::unordered_map<TimerId, Timer> timers_;  // cancelled ids vanish here; the heap skips them
  TimerId next_id_ = 1;
};

}  // namespace capstan::net
