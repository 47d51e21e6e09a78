// A few threads that run blocking work (database queries) off the event loops. Each thread
// owns its own Database connection, opened on first use. Jobs run in submission order per
// pool (FIFO queue); their results go back to a loop through Loop::post, by the job itself.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "db/database.hpp"

namespace capstan::db {

class WorkerPool {
 public:
  // `open` makes one Database per worker thread, called on that thread before its first job;
  // it may fail (then jobs receive a null Database and the Error, and the next job on that
  // thread calls `open` again). An empty `open`: a pool for blocking work without a database
  // (every job gets nullptr and DbError::unavailable). `threads` >= 1 (0 is taken as 1); they
  // start with the first job.
  using Opener = std::function<Expected<std::unique_ptr<Database>>()>;
  WorkerPool(unsigned threads, Opener open);
  ~WorkerPool();  // finishes queued jobs, then joins

  // The job runs on a worker thread with that thread's Database (or nullptr and why not).
  using Job = std::function<void(Database* db, const Error& open_error)>;
  void submit(Job job);

  size_t queued() const;

 private:
  void run(unsigned index);
  Opener open_;
  unsigned thread_count_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace capstan::db
