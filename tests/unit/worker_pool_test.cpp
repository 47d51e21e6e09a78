// WorkerPool with a fake Database: FIFO order, one connection per thread opened lazily on
// that thread and closed there, failed opens, draining on destruction, concurrent submits.
#include "db/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace capstan::db {
namespace {

struct Opened {
  std::mutex mutex;
  std::vector<std::thread::id> opened_on, closed_on;
};

class FakeDatabase final : public Database {
 public:
  explicit FakeDatabase(Opened& log) : log_(log) {}
  ~FakeDatabase() override {
    std::lock_guard lock(log_.mutex);
    log_.closed_on.push_back(std::this_thread::get_id());
  }
  Expected<Result> query(std::string_view, const std::vector<Param>&) override { return Result{}; }

 private:
  Opened& log_;
};

WorkerPool::Opener fake_opener(Opened& log) {
  return [&log]() -> Expected<std::unique_ptr<Database>> {
    std::lock_guard lock(log.mutex);
    log.opened_on.push_back(std::this_thread::get_id());
    return std::make_unique<FakeDatabase>(log);
  };
}

// Holds a worker inside a job until released.
struct Gate {
  std::mutex mutex;
  std::condition_variable cv;
  bool entered = false, open = false;
  void pass() {
    std::unique_lock lock(mutex);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  }
  void wait_entered() {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return entered; });
  }
  void release() {
    std::lock_guard lock(mutex);
    open = true;
    cv.notify_all();
  }
};

TEST(WorkerPool, OneThreadRunsJobsInSubmissionOrder) {
  Opened log;
  std::vector<int> order;
  {
    WorkerPool pool(1, fake_opener(log));
    for (int k = 0; k < 200; ++k) pool.submit([&order, k](Database*, const Error&) { order.push_back(k); });
  }
  ASSERT_EQ(order.size(), 200u);
  for (int k = 0; k < 200; ++k) EXPECT_EQ(order[k], k);
}

TEST(WorkerPool, NoJobNoConnection) {
  Opened log;
  { WorkerPool pool(4, fake_opener(log)); }
  EXPECT_TRUE(log.opened_on.empty());
}

size_t threads_of_this_process() {
  size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) n += entry.is_directory();
  return n;
}

TEST(WorkerPool, ThreadsStartWithTheFirstJob) {
  const size_t before = threads_of_this_process();
  Opened log;
  WorkerPool pool(3, fake_opener(log));
  EXPECT_EQ(threads_of_this_process(), before) << "an unused pool costs no threads";
  std::atomic<bool> ran{false};
  pool.submit([&ran](Database*, const Error&) { ran = true; });
  while (!ran) std::this_thread::yield();
  EXPECT_EQ(threads_of_this_process(), before + 3);
}

// users.provider "none": components' blocking work still runs, told there is no database.
TEST(WorkerPool, WithoutOpenerJobsRunWithoutADatabase) {
  std::mutex mutex;
  std::vector<std::pair<Database*, Error>> seen;
  {
    WorkerPool pool(2, WorkerPool::Opener{});
    for (int k = 0; k < 10; ++k)
      pool.submit([&](Database* db, const Error& open_error) {
        std::lock_guard lock(mutex);
        seen.emplace_back(db, open_error);
      });
  }
  ASSERT_EQ(seen.size(), 10u);
  for (const auto& [db, error] : seen) {
    EXPECT_EQ(db, nullptr);
    EXPECT_EQ(error.code(), make_error_code(DbError::unavailable));
    EXPECT_NE(error.message().find("users.provider"), std::string::npos) << error.message();
  }
}

TEST(WorkerPool, EachThreadOpensOnceOnItselfAndClosesOnItself) {
  Opened log;
  std::mutex mutex;
  std::map<std::thread::id, std::set<Database*>> seen;
  {
    WorkerPool pool(3, fake_opener(log));
    for (int k = 0; k < 300; ++k) {
      pool.submit([&](Database* db, const Error& error) {
        EXPECT_NE(db, nullptr);
        EXPECT_FALSE(error);
        std::lock_guard lock(mutex);
        seen[std::this_thread::get_id()].insert(db);
      });
    }
  }
  EXPECT_LE(log.opened_on.size(), 3u);
  EXPECT_EQ(log.opened_on.size(), seen.size()) << "one connection per thread that ran a job";
  for (const auto& [thread, dbs] : seen) EXPECT_EQ(dbs.size(), 1u) << "a thread keeps its connection";
  std::multiset<std::thread::id> opened(log.opened_on.begin(), log.opened_on.end());
  std::multiset<std::thread::id> closed(log.closed_on.begin(), log.closed_on.end());
  EXPECT_EQ(opened, closed) << "each connection is closed by the thread that opened it";
  for (const auto& [thread, dbs] : seen) EXPECT_EQ(opened.count(thread), 1u);
}

TEST(WorkerPool, FailedOpenIsReportedAndTriedAgain) {
  std::atomic<int> attempts{0};
  std::vector<std::pair<bool, std::string>> got;
  {
    WorkerPool pool(1, [&]() -> Expected<std::unique_ptr<Database>> {
      if (++attempts < 3) return Error(DbError::open_failed, "server down");
      static Opened log;
      return std::make_unique<FakeDatabase>(log);
    });
    for (int k = 0; k < 4; ++k) {
      pool.submit([&](Database* db, const Error& error) {
        EXPECT_EQ(db == nullptr, error == DbError::open_failed);
        got.emplace_back(db != nullptr, error ? error.message() : std::string());
      });
    }
  }
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], std::make_pair(false, std::string("server down")));
  EXPECT_EQ(got[1], std::make_pair(false, std::string("server down")));
  EXPECT_EQ(got[2], std::make_pair(true, std::string()));
  EXPECT_EQ(got[3], std::make_pair(true, std::string()));
  EXPECT_EQ(attempts, 3);
}

TEST(WorkerPool, OpenerWithoutReasonOrThrowingStillGivesOne) {
  std::vector<std::string> errors;
  {
    int calls = 0;
    WorkerPool pool(1, [&]() -> Expected<std::unique_ptr<Database>> {
      if (++calls == 1) return std::unique_ptr<Database>();
      throw std::runtime_error("boom");
    });
    for (int k = 0; k < 2; ++k) pool.submit([&](Database*, const Error& error) { errors.push_back(error.message()); });
  }
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_FALSE(errors[0].empty());
  EXPECT_EQ(errors[1], "boom");
}

TEST(WorkerPool, DestructorFinishesQueuedJobs) {
  Opened log;
  std::atomic<int> done{0};
  Gate gate;
  {
    WorkerPool pool(2, fake_opener(log));
    pool.submit([&](Database*, const Error&) {
      gate.pass();
      ++done;
    });
    gate.wait_entered();
    for (int k = 0; k < 50; ++k) {
      pool.submit([&](Database*, const Error&) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        ++done;
      });
    }
    gate.release();
  }
  EXPECT_EQ(done, 51);
}

TEST(WorkerPool, QueuedCountsWaitingJobs) {
  Opened log;
  Gate gate;
  WorkerPool pool(1, fake_opener(log));
  EXPECT_EQ(pool.queued(), 0u);
  pool.submit([&](Database*, const Error&) { gate.pass(); });
  gate.wait_entered();
  for (int k = 0; k < 3; ++k) pool.submit([](Database*, const Error&) {});
  EXPECT_EQ(pool.queued(), 3u) << "the running job is no longer queued";
  gate.release();
}

TEST(WorkerPool, SubmitFromManyThreads) {
  Opened log;
  std::atomic<int> done{0};
  {
    WorkerPool pool(3, fake_opener(log));
    std::vector<std::thread> submitters;
    for (int t = 0; t < 4; ++t) {
      submitters.emplace_back([&] {
        for (int k = 0; k < 1000; ++k) pool.submit([&](Database*, const Error&) { ++done; });
      });
    }
    for (auto& t : submitters) t.join();
  }
  EXPECT_EQ(done, 4000);
}

TEST(WorkerPool, ThrowingJobDoesNotStopTheWorker) {
  Opened log;
  std::atomic<int> done{0};
  {
    WorkerPool pool(1, fake_opener(log));
    pool.submit([](Database*, const Error&) { throw std::runtime_error("job failed"); });
    pool.submit([](Database*, const Error&) { throw 42; });
    pool.submit([&](Database*, const Error&) { ++done; });
  }
  EXPECT_EQ(done, 1);
  EXPECT_EQ(log.opened_on.size(), 1u);
}

TEST(WorkerPool, JobsMaySubmitMoreWhileDraining) {
  Opened log;
  std::atomic<int> done{0};
  {
    WorkerPool pool(2, fake_opener(log));
    pool.submit([&](Database*, const Error&) {
      pool.submit([&](Database*, const Error&) { ++done; });
      ++done;
    });
  }
  EXPECT_EQ(done, 2);
}

}  // namespace
}  // namespace capstan::db
