#include "net/timer_queue.hpp"

#include "net/guarded.hpp"

namespace capstan::net {

TimerId TimerQueue::add(TimePoint deadline, Duration interval, std::function<void()> fn) {
  TimerId id = next_id_++;
  timers_.emplace(id, Timer{interval, std::move(fn)});
  heap_.push({deadline, id});
  return id;
}

void TimerQueue::cancel(TimerId id) { timers_.erase(id); }

void TimerQueue::drop_cancelled_top() {
  while (!heap_.empty() && !timers_.contains(heap_.top().id)) heap_.pop();
}

int TimerQueue::next_timeout_ms(TimePoint now) const {
  // Cancelled entries may sit on top; a spurious early wake-up is harmless.
  if (heap_.empty()) return -1;
  auto delta = heap_.top().deadline - now;
  if (delta <= TimePoint::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(delta).count();
  return ms > 60'000 ? 60'000 : static_cast<int>(ms);
}

void TimerQueue::run_due(TimePoint now) {
  for (drop_cancelled_top(); !heap_.empty() && heap_.top().deadline <= now; drop_cancelled_top()) {
    Entry e = heap_.top();
    heap_.pop();
    auto it = timers_.find(e.id);
    if (it->second.interval.count() > 0) {
      // After a stall, skip the missed ticks instead of firing them back to back.
      TimePoint next = e.deadline + it->second.interval;
      if (next <= now) next = now + it->second.interval;
      heap_.push({next, e.id});
      // Copy: the callback may cancel itself, which erases the stored function.
      auto fn = it->second.fn;
      run_guarded(fn, "timer");
    } else {
      auto fn = std::move(it->second.fn);
      timers_.erase(it);
      run_guarded(fn, "timer");
    }
  }
}

}  // namespace capstan::net
