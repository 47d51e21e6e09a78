// TimerQueue: deadline order, cancellation (also from inside a callback), repeating timers
// and next_timeout_ms, driven with a fake clock.
#include "net/timer_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace capstan::net {
namespace {

using namespace std::chrono_literals;
using TimePoint = TimerQueue::TimePoint;

class TimerQueueTest : public testing::Test {
 protected:
  const TimePoint t0 = TimePoint{} + 1000h;  // an arbitrary fixed "now"
  TimerQueue q;
  std::vector<std::string> fired;

  TimerId once(std::chrono::milliseconds delay, std::string name) {
    return q.add(t0 + delay, Duration::zero(), [this, name] { fired.push_back(name); });
  }
  TimerId every(std::chrono::milliseconds first, std::chrono::milliseconds interval, std::string name) {
    return q.add(t0 + first, interval, [this, name] { fired.push_back(name); });
  }
  std::vector<std::string> take() { return std::exchange(fired, {}); }
};

using Names = std::vector<std::string>;

TEST_F(TimerQueueTest, EmptyQueue) {
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.next_timeout_ms(t0), -1);
  q.run_due(t0 + 1h);
  EXPECT_TRUE(fired.empty());
}

TEST_F(TimerQueueTest, FiresInDeadlineOrderNotInsertionOrder) {
  once(30ms, "c");
  once(10ms, "a");
  once(20ms, "b");
  once(20ms, "b2");  // equal deadlines: in the order they were added
  EXPECT_FALSE(q.empty());
  q.run_due(t0 + 5ms);
  EXPECT_EQ(take(), Names{});
  q.run_due(t0 + 20ms);
  EXPECT_EQ(take(), (Names{"a", "b", "b2"}));
  q.run_due(t0 + 100ms);
  EXPECT_EQ(take(), Names{"c"});
  EXPECT_TRUE(q.empty());
  q.run_due(t0 + 200ms);
  EXPECT_EQ(take(), Names{}) << "one-shot timers fire once";
}

TEST_F(TimerQueueTest, DeadlineExactlyNowIsDue) {
  once(10ms, "a");
  q.run_due(t0 + 10ms - 1ns);
  EXPECT_EQ(take(), Names{});
  q.run_due(t0 + 10ms);
  EXPECT_EQ(take(), Names{"a"});
}

TEST_F(TimerQueueTest, CancelBeforeDue) {
  TimerId a = once(10ms, "a");
  once(20ms, "b");
  q.cancel(a);
  q.run_due(t0 + 1s);
  EXPECT_EQ(take(), Names{"b"});
  EXPECT_TRUE(q.empty());
}

TEST_F(TimerQueueTest, CancelUnknownOrFiredIdIsHarmless) {
  TimerId a = once(10ms, "a");
  q.run_due(t0 + 10ms);
  q.cancel(a);
  q.cancel(987654);
  once(20ms, "b");
  q.run_due(t0 + 20ms);
  EXPECT_EQ(take(), (Names{"a", "b"}));
}

TEST_F(TimerQueueTest, IdsAreUnique) {
  TimerId a = once(10ms, "a"), b = once(10ms, "b");
  EXPECT_NE(a, b);
  EXPECT_NE(a, TimerId{0});
  q.cancel(a);
  TimerId c = once(10ms, "c");
  EXPECT_NE(c, a) << "an id is not reused, so a stale cancel cannot hit a new timer";
  q.cancel(a);
  q.run_due(t0 + 10ms);
  EXPECT_EQ(take(), (Names{"b", "c"}));
}

TEST_F(TimerQueueTest, RepeatingTimerIsRescheduledByItsInterval) {
  every(10ms, 10ms, "tick");
  q.run_due(t0 + 10ms);
  EXPECT_EQ(take(), Names{"tick"});
  EXPECT_EQ(q.next_timeout_ms(t0 + 10ms), 10);
  q.run_due(t0 + 15ms);
  EXPECT_EQ(take(), Names{});
  q.run_due(t0 + 20ms);
  EXPECT_EQ(take(), Names{"tick"});
  q.run_due(t0 + 30ms);
  EXPECT_EQ(take(), Names{"tick"});
  EXPECT_FALSE(q.empty());
}

TEST_F(TimerQueueTest, RepeatingAndOneShotInterleave) {
  every(10ms, 10ms, "r");
  once(25ms, "o");
  for (int ms = 1; ms <= 40; ++ms) q.run_due(t0 + std::chrono::milliseconds(ms));
  EXPECT_EQ(take(), (Names{"r", "r", "o", "r", "r"}));
}

TEST_F(TimerQueueTest, CancelRepeatingTimerStopsIt) {
  TimerId r = every(10ms, 10ms, "r");
  q.run_due(t0 + 10ms);
  q.cancel(r);
  q.run_due(t0 + 100ms);
  EXPECT_EQ(take(), Names{"r"});
  EXPECT_TRUE(q.empty());
}

TEST_F(TimerQueueTest, RepeatingTimerCancellingItself) {
  int calls = 0;
  TimerId id = 0;
  id = q.add(t0 + 10ms, 10ms, [&] {
    if (++calls == 3) q.cancel(id);
  });
  for (int ms = 10; ms <= 100; ms += 10) q.run_due(t0 + std::chrono::milliseconds(ms));
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(q.empty());
}

TEST_F(TimerQueueTest, OneShotTimerCancellingItself) {
  int calls = 0;
  TimerId id = 0;
  id = q.add(t0 + 10ms, Duration::zero(), [&] {
    ++calls;
    q.cancel(id);
  });
  once(10ms, "after");
  q.run_due(t0 + 10ms);
  q.run_due(t0 + 1s);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(take(), Names{"after"});
}

TEST_F(TimerQueueTest, CallbackCancelsAnotherDueTimer) {
  TimerId victim = 0;
  q.add(t0 + 10ms, Duration::zero(), [&] {
    fired.push_back("killer");
    q.cancel(victim);
  });
  victim = once(10ms, "victim");  // same deadline, added later: runs after the killer
  once(11ms, "bystander");
  q.run_due(t0 + 20ms);
  EXPECT_EQ(take(), (Names{"killer", "bystander"}));
}

TEST_F(TimerQueueTest, CallbackAddsTimers) {
  q.add(t0 + 10ms, Duration::zero(), [&] {
    fired.push_back("first");
    for (int i = 0; i < 100; ++i) once(1000ms + std::chrono::milliseconds(i), "late" + std::to_string(i));  // forces rehashes
    once(5ms, "already due");
  });
  q.run_due(t0 + 10ms);
  EXPECT_EQ(take(), (Names{"first", "already due"}));
  q.run_due(t0 + 1000ms);
  EXPECT_EQ(take(), Names{"late0"});
}

TEST_F(TimerQueueTest, NextTimeoutMs) {
  once(1500ms, "a");
  EXPECT_EQ(q.next_timeout_ms(t0), 1500);
  EXPECT_EQ(q.next_timeout_ms(t0 + 1499ms), 1);
  EXPECT_EQ(q.next_timeout_ms(t0 + 1500ms), 0);
  EXPECT_EQ(q.next_timeout_ms(t0 + 2000ms), 0) << "overdue: no negative timeout";
  // Rounded up: a wake-up before the deadline would find nothing due.
  EXPECT_EQ(q.next_timeout_ms(t0 + 1499ms + 1us), 1);
  EXPECT_EQ(q.next_timeout_ms(t0 + 500us), 1500);
  once(3ms, "soon");
  EXPECT_EQ(q.next_timeout_ms(t0), 3) << "the earliest deadline counts";
}

TEST_F(TimerQueueTest, NextTimeoutIsCappedAtOneMinute) {
  once(std::chrono::hours(24 * 365), "far");
  EXPECT_EQ(q.next_timeout_ms(t0), 60'000);
}

TEST_F(TimerQueueTest, NextTimeoutAfterCancelledTopIsNotLate) {
  TimerId a = once(10ms, "a");
  once(50ms, "b");
  q.cancel(a);
  // A cancelled entry may still be on top (an early wake-up is allowed), but never a late one.
  int t = q.next_timeout_ms(t0);
  EXPECT_GE(t, 0);
  EXPECT_LE(t, 50);
  q.run_due(t0 + 10ms);
  EXPECT_EQ(q.next_timeout_ms(t0 + 10ms), 40) << "after run_due the cancelled entry is gone";
}

TEST_F(TimerQueueTest, ATimeoutReArmedOnEveryMessageKeepsTheHeapSmall) {
  // An activity timeout: each message cancels the pending one and arms a new one, far ahead.
  every(1000ms, 1000ms, "tick");
  TimerId pending = once(60s, "timeout");
  for (int message = 0; message < 100'000; ++message) {
    q.cancel(pending);
    pending = once(60s, "timeout");
  }
  EXPECT_LE(q.heap_size(), 130u) << "cancelled entries must not pile up until their deadline";
  q.run_due(t0 + 1000ms);
  EXPECT_EQ(take(), Names{"tick"}) << "the rebuilt heap keeps live timers and their order";
  q.run_due(t0 + 60s);
  Names got = take();
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back(), "timeout");
  EXPECT_EQ(std::count(got.begin(), got.end(), "timeout"), 1) << "only the last armed timeout fires";
}

TEST_F(TimerQueueTest, CancellingFromACallbackWhileTheHeapIsRebuilt) {
  std::vector<TimerId> ids;
  for (int i = 0; i < 200; ++i) ids.push_back(once(std::chrono::milliseconds(100 + i), "late"));
  q.add(t0 + 10ms, Duration::zero(), [&] {
    for (TimerId id : ids) q.cancel(id);  // rebuilds the heap from inside run_due
    fired.push_back("canceller");
  });
  once(20ms, "after");
  q.run_due(t0 + 1h);
  EXPECT_EQ(take(), (Names{"canceller", "after"}));
  EXPECT_LE(q.heap_size(), 64u);
}

}  // namespace
}  // namespace capstan::net
