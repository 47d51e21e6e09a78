#include "net/timer_queue.hpp"

#include <algorithm>

#include "net/guarded.hpp"

namespace capstan::net {

TimerId TimerQueue::add(TimePoint deadline, Duration interval, std::function<void()> fn) {
  TimerId id = next_id_++;
  timers_.emplace(id, Timer{interval, std::move(fn)});
  push({deadline, id});
  return id;
}

void TimerQueue::push(Entry e) {
  heap_.push_back(e);
  std::push_heap(heap_.begin(), heap_.end(), std::greater<Entry>{});
}

void TimerQueue::pop() {
  std::pop_heap(heap_.begin(), heap_.end(), std::greater<Entry>{});
  heap_.pop_back();
}

void TimerQueue::cancel(TimerId id) {
  if (timers_.erase(id)) compact_if_mostly_cancelled();
}

void TimerQueue::compact_if_mostly_cancelled() {
  // Every live timer has exactly one entry, so the rest are cancelled ones.
  constexpr size_t kMinHeap = 64;  // small heaps are cheaper to skip through than to rebuild
  if (heap_.size() < kMinHeap || heap_.size() - timers_.size() <= timers_.size()) return;
  std::erase_if(heap_, [this](const Entry& e) { return !timers_.contains(e.id); });
  std::make_heap(heap_.begin(), heap_.end(), std::greater<Entry>{});
}

void TimerQueue::drop_cancelled_top() {
  while (!heap_.empty() && !timers_.contains(heap_.front().id)) pop();
}

int TimerQueue::next_timeout_ms(TimePoint now) const {
  // Cancelled entries may sit on top; a spurious early wake-up is harmless.
  if (heap_.empty()) return -1;
  auto delta = heap_.front().deadline - now;
  if (delta <= TimePoint::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(delta).count();
  return ms > 60'000 ? 60'000 : static_cast<int>(ms);
}

void TimerQueue::run_due(TimePoint now) {
  for (drop_cancelled_top(); !heap_.empty() && heap_.front().deadline <= now; drop_cancelled_top()) {
    Entry e = heap_.front();
    pop();
    auto it = timers_.find(e.id);
    if (it->second.interval.count() > 0) {
      // After a stall, skip the missed ticks instead of firing them back to back.
      TimePoint next = e.deadline + it->second.interval;
      if (next <= now) next = now + it->second.interval;
      push({next, e.id});
      // Copy: the callback may cancel itself, which erases the stored function.
      auto fn = it->second.fn;
      running_ = e.id;
      run_guarded(fn, "timer");
    } else {
      auto fn = std::move(it->second.fn);
      timers_.erase(it);
      running_ = e.id;
      run_guarded(fn, "timer");
    }
    running_ = 0;
  }
}

}  // namespace capstan::net
