// EventLoop (src/net/event_loop.*) run for real on its own thread: post_task from other
// threads (runs on the loop thread, exactly once, in per-thread order), one-shot and periodic
// timers (cancelled from outside and from inside their callback), stop(), the order of a turn
// (dispatch, timers, posted work, then the end-of-turn hook), Pollable add/modify/remove on
// an eventfd and a pipe, and a throwing timer, posted task or end-of-turn hook that is logged
// and survived (src/net/guarded.hpp). Every wait is bounded by a few seconds.
#include "net/event_loop.hpp"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace capstan::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kWait = 5s;  // the most any single wait of these tests may take

// Polls `pred` until it holds or `timeout` passes; returns its last value.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout = kWait) {
  const auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// An EventLoop and the thread running it. Timers and the hook may be set up before start()
// (thread creation orders them before the loop's first turn); once it runs, everything but
// post_task goes through on_loop().
class LoopThread {
 public:
  LoopThread() : loop_(std::make_unique<EventLoop>(7)) {}
  ~LoopThread() { stop_and_join(); }

  EventLoop& loop() { return *loop_; }

  void start() {
    auto finished = std::make_shared<std::promise<void>>();
    finished_ = finished->get_future();
    thread_ = std::thread([loop = loop_.get(), finished] {
      loop->run();
      finished->set_value();
    });
  }
  std::thread::id thread_id() const { return thread_.get_id(); }

  // Runs `fn` on the loop thread and waits for it (bounded); false when it did not run in time.
  bool on_loop(std::function<void()> fn) {
    auto done = std::make_shared<std::promise<void>>();
    auto f = done->get_future();
    loop_->post_task([fn = std::move(fn), done] {
      fn();
      done->set_value();
    });
    return f.wait_for(kWait) == std::future_status::ready;
  }

  // Waits for run() to return on its own (someone called stop()).
  bool wait_finished(std::chrono::milliseconds timeout = kWait) {
    return finished_.valid() && finished_.wait_for(timeout) == std::future_status::ready;
  }

  void stop_and_join() {
    if (!thread_.joinable()) return;
    if (!wait_finished(0ms)) loop_->post_task([l = loop_.get()] { l->stop(); });
    if (wait_finished()) {
      thread_.join();
    } else {
      // The loop did not stop: leave it running rather than hang the whole test binary.
      ADD_FAILURE() << "the loop did not stop within " << kWait.count() << "s";
      thread_.detach();
      (void)loop_.release();
    }
  }

 private:
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
  std::future<void> finished_;
};

// Hands each event to a callback; counts them.
class TestPollable final : public Pollable {
 public:
  std::function<void(uint32_t)> handler;
  std::atomic<int> calls{0};
  std::atomic<uint32_t> seen{0};  // every event bit reported so far
  void on_event(uint32_t events) override {
    seen.fetch_or(events);
    if (handler) handler(events);
    calls.fetch_add(1);
  }
};

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void write_eventfd(int fd, uint64_t value = 1) { ASSERT_EQ(::write(fd, &value, sizeof value), static_cast<ssize_t>(sizeof value)); }
uint64_t drain_eventfd(int fd) {
  uint64_t value = 0;
  return ::read(fd, &value, sizeof value) == sizeof value ? value : 0;
}

// A few full turns of the loop have passed once this returns (each posted task needs a turn).
void let_turns_pass(LoopThread& t, int turns = 3) {
  for (int i = 0; i < turns; ++i) ASSERT_TRUE(t.on_loop([] {}));
}

// ---- Posted work ---------------------------------------------------------------------------

TEST(EventLoop, PostTaskFromAnotherThreadRunsOnTheLoopThread) {
  LoopThread t;
  t.start();
  std::promise<std::thread::id> ran_on;
  auto f = ran_on.get_future();
  std::thread poster([&] { t.loop().post_task([&] { ran_on.set_value(std::this_thread::get_id()); }); });
  poster.join();
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  const std::thread::id id = f.get();
  EXPECT_EQ(id, t.thread_id());
  EXPECT_NE(id, std::this_thread::get_id());
  EXPECT_NE(id, poster.get_id());
}

TEST(EventLoop, PostTaskWakesAnIdleLoop) {
  // No timers and nothing ready: the loop sleeps in epoll_wait with no timeout, so only the
  // post's wakeup can get the work run, and promptly.
  LoopThread t;
  t.start();
  std::this_thread::sleep_for(20ms);  // let it go to sleep
  std::promise<void> ran;
  auto f = ran.get_future();
  const auto posted_at = Clock::now();
  t.loop().post_task([&] { ran.set_value(); });
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  EXPECT_LT(Clock::now() - posted_at, 1s);
}

TEST(EventLoop, ManyPostsFromSeveralThreadsRunOnceEachInPerThreadOrder) {
  constexpr int kThreads = 4, kPerThread = 5000;
  LoopThread t;
  t.start();
  std::vector<std::vector<int>> seen(kThreads);  // written on the loop thread only
  std::atomic<int> ran{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> posters;
  for (int p = 0; p < kThreads; ++p) {
    posters.emplace_back([&, p] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kPerThread; ++i)
        t.loop().post_task([&seen, &ran, p, i] {
          seen[p].push_back(i);
          ran.fetch_add(1, std::memory_order_release);
        });
    });
  }
  go = true;
  for (auto& th : posters) th.join();
  ASSERT_TRUE(wait_until([&] { return ran.load(std::memory_order_acquire) >= kThreads * kPerThread; }))
      << "ran " << ran.load() << " of " << kThreads * kPerThread;
  let_turns_pass(t, 2);  // a task run twice would show up by now
  EXPECT_EQ(ran.load(std::memory_order_acquire), kThreads * kPerThread);
  std::vector<int> expected(kPerThread);
  for (int i = 0; i < kPerThread; ++i) expected[i] = i;
  for (int p = 0; p < kThreads; ++p) EXPECT_EQ(seen[p], expected) << "posts of thread " << p;
}

TEST(EventLoop, WorkPostedBeforeRunIsRunInTheFirstTurn) {
  LoopThread t;
  std::atomic<int> ran{0};
  t.loop().post_task([&] { ++ran; });
  t.loop().post_task([&] { ++ran; });
  int turns_before = -1;
  t.loop().set_end_of_turn([&, turns = 0]() mutable {
    if (turns++ == 0) turns_before = ran.load();
  });
  t.start();
  ASSERT_TRUE(wait_until([&] { return ran.load() == 2; }));
  t.stop_and_join();
  EXPECT_EQ(turns_before, 2);
}

// ---- Timers --------------------------------------------------------------------------------

TEST(EventLoop, OneShotTimerFiresOnceAfterItsDelay) {
  LoopThread t;
  std::atomic<int> fired{0}, ticks{0};
  std::atomic<Clock::rep> fired_after{-1};
  const auto added_at = Clock::now();
  t.loop().add_timer(30ms, Duration::zero(), [&] {
    fired_after = (Clock::now() - added_at).count();
    ++fired;
  });
  // A bystander ticking every 10 ms, so "it did not fire again" is checked over many turns.
  t.loop().add_timer(10ms, 10ms, [&] { ++ticks; });
  t.start();
  ASSERT_TRUE(wait_until([&] { return fired.load() >= 1; }));
  EXPECT_GE(Clock::duration(fired_after.load()), 30ms) << "fired before its delay";
  EXPECT_LT(Clock::duration(fired_after.load()), 3s);
  const int ticks_then = ticks.load();
  ASSERT_TRUE(wait_until([&] { return ticks.load() >= ticks_then + 8; }));
  EXPECT_EQ(fired.load(), 1);
}

TEST(EventLoop, OneShotTimerThroughThePublicLoopHandle) {
  LoopThread t;
  t.start();
  std::promise<std::pair<unsigned, Clock::duration>> fired;
  auto f = fired.get_future();
  ASSERT_TRUE(t.on_loop([&] {
    capstan::Loop& handle = t.loop();
    const auto scheduled_at = Clock::now();
    handle.after(15ms, [&fired, &handle, scheduled_at] { fired.set_value({handle.index(), Clock::now() - scheduled_at}); });
  }));
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  auto [index, after] = f.get();
  EXPECT_EQ(index, 7u) << "Loop::index() is the EventLoop's index";
  EXPECT_GE(after, 15ms);
}

TEST(EventLoop, PeriodicTimerRepeatsUntilCancelled) {
  LoopThread t;
  std::atomic<int> ticks{0}, bystander{0};
  std::vector<Clock::time_point> times;  // loop thread only
  TimerId id = 0;
  const auto added_at = Clock::now();
  id = t.loop().add_timer(10ms, 10ms, [&] {
    times.push_back(Clock::now());
    ++ticks;
  });
  t.start();
  ASSERT_TRUE(wait_until([&] { return ticks.load() >= 3; }));
  int ticks_at_cancel = -1;
  ASSERT_TRUE(t.on_loop([&] {
    t.loop().cancel_timer(id);
    ticks_at_cancel = ticks.load();
    t.loop().add_timer(5ms, 5ms, [&] { ++bystander; });
  }));
  EXPECT_GE(ticks_at_cancel, 3);
  ASSERT_TRUE(wait_until([&] { return bystander.load() >= 10; }));  // at least 5 more intervals
  EXPECT_EQ(ticks.load(), ticks_at_cancel) << "a cancelled timer fired again";
  ASSERT_TRUE(t.on_loop([] {}));
  ASSERT_GE(times.size(), 3u);
  EXPECT_GE(times[2] - added_at, 30ms) << "three ticks take three intervals";
}

TEST(EventLoop, PeriodicTimerCancellingItselfFromItsCallback) {
  LoopThread t;
  t.start();
  std::atomic<int> calls{0};
  std::atomic<bool> sentinel{false};
  ASSERT_TRUE(t.on_loop([&] {
    auto id = std::make_shared<TimerId>(0);
    *id = t.loop().add_timer(5ms, 5ms, [&, id] {
      if (++calls == 3) t.loop().cancel_timer(*id);
    });
  }));
  ASSERT_TRUE(wait_until([&] { return calls.load() >= 3; }));
  ASSERT_TRUE(t.on_loop([&] { t.loop().add_timer(50ms, Duration::zero(), [&] { sentinel = true; }); }));
  ASSERT_TRUE(wait_until([&] { return sentinel.load(); }));  // ten more intervals
  EXPECT_EQ(calls.load(), 3);
}

TEST(EventLoop, LoopEveryCancelledThroughThePublicHandle) {
  LoopThread t;
  t.start();
  std::atomic<int> calls{0};
  std::atomic<bool> sentinel{false};
  ASSERT_TRUE(t.on_loop([&] {
    capstan::Loop& handle = t.loop();
    auto id = std::make_shared<TimerId>(0);
    *id = handle.every(5ms, [&calls, &handle, id] {
      if (++calls == 2) handle.cancel(*id);
    });
  }));
  ASSERT_TRUE(wait_until([&] { return calls.load() >= 2; }));
  ASSERT_TRUE(t.on_loop([&] { t.loop().add_timer(40ms, Duration::zero(), [&] { sentinel = true; }); }));
  ASSERT_TRUE(wait_until([&] { return sentinel.load(); }));
  EXPECT_EQ(calls.load(), 2);
}

// ---- stop() and the shape of a turn --------------------------------------------------------

TEST(EventLoop, StopEndsRunAfterTheCurrentTurn) {
  LoopThread t;
  std::vector<std::string> seq;  // loop thread until run() returned
  std::atomic<int> hook_calls{0};
  t.loop().post_task([&] {
    seq.push_back("stopper");
    t.loop().stop();
    t.loop().post_task([&] { seq.push_back("posted during the last turn"); });
  });
  t.loop().post_task([&] { seq.push_back("same turn"); });
  t.loop().set_end_of_turn([&] {
    seq.push_back("end of turn");
    ++hook_calls;
  });
  t.start();
  ASSERT_TRUE(t.wait_finished()) << "run() did not return after stop()";
  EXPECT_EQ(seq, (std::vector<std::string>{"stopper", "same turn", "end of turn"}));
  EXPECT_EQ(hook_calls.load(), 1);
}

TEST(EventLoop, StopPostedFromAnotherThreadEndsRun) {
  LoopThread t;
  std::atomic<int> ticks{0};
  t.loop().add_timer(1ms, 1ms, [&] { ++ticks; });  // a busy loop, to stop mid-stream
  t.start();
  ASSERT_TRUE(wait_until([&] { return ticks.load() >= 3; }));
  EXPECT_FALSE(t.wait_finished(0ms));
  t.loop().post_task([&] { t.loop().stop(); });
  ASSERT_TRUE(t.wait_finished());
}

TEST(EventLoop, EndOfTurnHookRunsAfterDispatchTimersAndPostedWork) {
  // Set up so that one turn has all three: a ready descriptor, a due timer, posted work.
  LoopThread t;
  Fd efd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  ASSERT_GE(efd.fd, 0);
  std::vector<std::string> seq;  // loop thread until run() returned
  TestPollable p;
  p.handler = [&](uint32_t) {
    drain_eventfd(efd.fd);
    seq.push_back("event");
  };
  ASSERT_TRUE(t.loop().add(efd.fd, &p, EPOLLIN));
  write_eventfd(efd.fd);
  t.loop().add_timer(Duration::zero(), Duration::zero(), [&] { seq.push_back("timer"); });
  t.loop().post_task([&] { seq.push_back("posted"); });
  t.loop().set_end_of_turn([&] {
    seq.push_back("end of turn");
    t.loop().stop();
  });
  t.start();
  ASSERT_TRUE(t.wait_finished());
  EXPECT_EQ(seq, (std::vector<std::string>{"event", "timer", "posted", "end of turn"}));
  t.loop().remove(efd.fd);
}

// ---- Pollables -----------------------------------------------------------------------------

TEST(EventLoop, PollableOnAPipeGetsItsEvent) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  Fd rd(fds[0]), wr(fds[1]);
  LoopThread t;
  t.start();
  TestPollable p;
  std::promise<std::pair<std::thread::id, std::string>> got;
  auto f = got.get_future();
  p.handler = [&](uint32_t events) {
    if (!(events & EPOLLIN)) return;
    char buf[16];
    ssize_t n = ::read(rd.fd, buf, sizeof buf);
    got.set_value({std::this_thread::get_id(), std::string(buf, n > 0 ? static_cast<size_t>(n) : 0)});
  };
  bool added = false;
  ASSERT_TRUE(t.on_loop([&] { added = t.loop().add(rd.fd, &p, EPOLLIN); }));
  ASSERT_TRUE(added);
  let_turns_pass(t);
  EXPECT_EQ(p.calls.load(), 0) << "an empty pipe is not readable";
  ASSERT_EQ(::write(wr.fd, "hi", 2), 2);
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  auto [thread, data] = f.get();
  EXPECT_EQ(thread, t.thread_id());
  EXPECT_EQ(data, "hi");
  EXPECT_TRUE(p.seen.load() & EPOLLIN);
  ASSERT_TRUE(t.on_loop([&] { t.loop().remove(rd.fd); }));
}

TEST(EventLoop, ModifyChangesTheEventsWatched) {
  Fd efd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  ASSERT_GE(efd.fd, 0);
  LoopThread t;
  t.start();
  TestPollable p;
  std::atomic<int> readable{0}, writable{0};
  p.handler = [&](uint32_t events) {
    if (events & EPOLLIN) {
      drain_eventfd(efd.fd);
      ++readable;
    }
    if (events & EPOLLOUT) {
      ++writable;
      t.loop().modify(efd.fd, &p, EPOLLIN);  // back to reads only, or EPOLLOUT would fire every turn
    }
  };
  bool ok = false;
  ASSERT_TRUE(t.on_loop([&] { ok = t.loop().add(efd.fd, &p, EPOLLIN); }));
  ASSERT_TRUE(ok);
  let_turns_pass(t);
  EXPECT_EQ(p.calls.load(), 0) << "an eventfd at 0 is writable, but only EPOLLIN was asked for";

  ASSERT_TRUE(t.on_loop([&] { ok = t.loop().modify(efd.fd, &p, EPOLLOUT); }));
  ASSERT_TRUE(ok);
  ASSERT_TRUE(wait_until([&] { return writable.load() >= 1; }));
  let_turns_pass(t);
  EXPECT_EQ(writable.load(), 1);
  EXPECT_EQ(readable.load(), 0);

  write_eventfd(efd.fd);
  ASSERT_TRUE(wait_until([&] { return readable.load() >= 1; }));
  let_turns_pass(t);
  EXPECT_EQ(readable.load(), 1);
  EXPECT_EQ(writable.load(), 1);
  ASSERT_TRUE(t.on_loop([&] { t.loop().remove(efd.fd); }));
}

TEST(EventLoop, RemoveStopsEventsAndTheDescriptorCanBeAddedAgain) {
  Fd efd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  ASSERT_GE(efd.fd, 0);
  LoopThread t;
  t.start();
  TestPollable p;
  p.handler = [&](uint32_t) { drain_eventfd(efd.fd); };
  bool ok = false;
  ASSERT_TRUE(t.on_loop([&] { ok = t.loop().add(efd.fd, &p, EPOLLIN); }));
  ASSERT_TRUE(ok);
  write_eventfd(efd.fd);
  ASSERT_TRUE(wait_until([&] { return p.calls.load() >= 1; }));
  let_turns_pass(t);
  EXPECT_EQ(p.calls.load(), 1);

  ASSERT_TRUE(t.on_loop([&] { t.loop().remove(efd.fd); }));
  write_eventfd(efd.fd);  // readable now, and stays so: nobody drains it
  let_turns_pass(t, 5);
  EXPECT_EQ(p.calls.load(), 1) << "a removed descriptor still got events";

  // Added again (an add of a descriptor still registered would fail with EEXIST): the pending
  // readiness is reported.
  ASSERT_TRUE(t.on_loop([&] { ok = t.loop().add(efd.fd, &p, EPOLLIN); }));
  EXPECT_TRUE(ok);
  EXPECT_TRUE(wait_until([&] { return p.calls.load() >= 2; }));
  ASSERT_TRUE(t.on_loop([&] { t.loop().remove(efd.fd); }));
}

TEST(EventLoop, RefusedDescriptorsReportFalse) {
  EventLoop loop(0);
  TestPollable p;
  Fd efd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  ASSERT_GE(efd.fd, 0);
  errno = 0;
  EXPECT_FALSE(loop.add(-1, &p, EPOLLIN));
  EXPECT_EQ(errno, EBADF);
  EXPECT_FALSE(loop.modify(efd.fd, &p, EPOLLIN)) << "modify of a descriptor never added";
  EXPECT_EQ(errno, ENOENT);
  ASSERT_TRUE(loop.add(efd.fd, &p, EPOLLIN));
  EXPECT_FALSE(loop.add(efd.fd, &p, EPOLLIN)) << "added twice";
  EXPECT_EQ(errno, EEXIST);
  EXPECT_TRUE(loop.modify(efd.fd, &p, EPOLLIN | EPOLLOUT));
  loop.remove(efd.fd);
  EXPECT_FALSE(loop.modify(efd.fd, &p, EPOLLIN)) << "modify after remove";
}

// ---- Exceptions from timers and posted work ------------------------------------------------

TEST(EventLoop, ThrowingTimerAndPostedWorkAreLoggedAndTheLoopGoesOn) {
  testing::internal::CaptureStderr();
  std::atomic<int> throwing_ticks{0}, after_post{0};
  std::atomic<bool> after_timer{false}, sentinel{false};
  {
    LoopThread t;
    t.loop().add_timer(1ms, Duration::zero(), [] { throw std::runtime_error("one-shot boom"); });
    t.loop().add_timer(2ms, 2ms, [&] {
      ++throwing_ticks;
      throw std::logic_error("periodic boom");
    });
    t.loop().post_task([] { throw std::runtime_error("posted boom"); });
    t.loop().post_task([] { throw 42; });
    t.loop().post_task([&] { ++after_post; });  // same batch, after the throwing ones
    t.start();
    EXPECT_TRUE(wait_until([&] { return after_post.load() == 1; })) << "posted work after a throw did not run";
    EXPECT_TRUE(wait_until([&] { return throwing_ticks.load() >= 3; })) << "a throwing periodic timer stopped repeating";
    // Still alive: new timers and posts are served.
    EXPECT_TRUE(t.on_loop([&] { t.loop().add_timer(5ms, Duration::zero(), [&] { after_timer = true; }); }));
    EXPECT_TRUE(wait_until([&] { return after_timer.load(); }));
    t.loop().post_task([&] { sentinel = true; });
    EXPECT_TRUE(wait_until([&] { return sentinel.load(); }));
    t.stop_and_join();
  }
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("callback threw"), std::string::npos) << log;
  EXPECT_NE(log.find("one-shot boom"), std::string::npos) << log;
  EXPECT_NE(log.find("periodic boom"), std::string::npos) << log;
  EXPECT_NE(log.find("posted boom"), std::string::npos) << log;
  EXPECT_NE(log.find("not derived from std::exception"), std::string::npos) << log;
  EXPECT_NE(log.find("posted work"), std::string::npos) << log;
  EXPECT_NE(log.find("timer"), std::string::npos) << log;
}

TEST(EventLoop, ThrowingEndOfTurnHookIsLoggedAndTheLoopGoesOn) {
  // Driven turn by turn on this thread: on a loop thread, a throw out of run() would end the
  // whole test binary instead of failing this test.
  struct Counted final : ReleasedPollable {
    explicit Counted(std::atomic<int>& freed) : freed_(freed) {}
    ~Counted() override { ++freed_; }
    void on_event(uint32_t) override {}
    std::atomic<int>& freed_;
  };
  testing::internal::CaptureStderr();
  std::atomic<int> freed{0};
  int hook_calls = 0, posted_after = 0;
  {
    EventLoop loop(3);
    loop.set_end_of_turn([&] {
      ++hook_calls;
      if (hook_calls == 1) throw std::runtime_error("hook boom");
      if (hook_calls == 2) throw 7;
    });
    loop.post_task([&] { loop.release(std::make_unique<Counted>(freed)); });
    EXPECT_NO_THROW(loop.turn(0)) << "the hook's exception left the turn";
    EXPECT_EQ(freed.load(), 1) << "what the turn released was not freed after the throwing hook";
    EXPECT_NO_THROW(loop.turn(0));
    loop.post_task([&] { ++posted_after; });
    EXPECT_NO_THROW(loop.turn(0));
    EXPECT_EQ(posted_after, 1);
    EXPECT_EQ(hook_calls, 3) << "the hook stays installed after it threw";
  }
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("hook boom"), std::string::npos) << log;
  EXPECT_NE(log.find("end of turn"), std::string::npos) << log;
  EXPECT_NE(log.find("not derived from std::exception"), std::string::npos) << log;
}

TEST(EventLoop, RunSurvivesAThrowingEndOfTurnHook) {
  LoopThread t;
  std::atomic<int> hook_calls{0};
  std::atomic<bool> sentinel{false};
  testing::internal::CaptureStderr();
  t.loop().set_end_of_turn([&] {
    if (++hook_calls <= 3) throw std::runtime_error("hook boom in run");
  });
  t.loop().add_timer(1ms, 1ms, [] {});  // a turn every millisecond, each with the hook
  t.start();
  t.loop().post_task([&] { sentinel = true; });
  EXPECT_TRUE(wait_until([&] { return sentinel.load() && hook_calls.load() > 3; }));
  EXPECT_FALSE(t.wait_finished(0ms)) << "run() ended on the hook's exception";
  t.stop_and_join();
  testing::internal::GetCapturedStderr();
}

}  // namespace
}  // namespace capstan::net
