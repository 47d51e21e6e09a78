// The worker threads: one shared FIFO queue, each thread with its own Database connection
// (opened by the thread itself on its first job, and closed by it when it exits, since a
// connection belongs to one thread).
#include "db/worker_pool.hpp"

#include <exception>

#include "util/log.hpp"

namespace capstan::db {

WorkerPool::WorkerPool(unsigned threads, Opener open) : open_(std::move(open)), thread_count_(threads ? threads : 1) {}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void WorkerPool::submit(Job job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
    // Started by the first job: a server whose components never block has no idle threads.
    if (threads_.empty()) {
      threads_.reserve(thread_count_);
      for (unsigned i = 0; i < thread_count_; ++i) threads_.emplace_back([this, i] { run(i); });
    }
  }
  wake_.notify_one();
}

size_t WorkerPool::queued() const {
  std::lock_guard lock(mutex_);
  return jobs_.size();
}

void WorkerPool::run(unsigned index) {
  std::unique_ptr<Database> db;
  Error open_error;
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) break;  // stopping, and the queue is drained
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    // Opened on first use, and tried again by the next job while it fails (a database that
    // was down at startup is picked up once it is back).
    if (!db && !open_) {
      open_error = Error(DbError::unavailable, "no database (users.provider is \"none\")");
    } else if (!db) {
      open_error = {};
      try {
        Expected<std::unique_ptr<Database>> opened = open_();
        if (opened) db = *std::move(opened);
        else open_error = std::move(opened).error();
      } catch (const std::exception& e) {
        open_error = Error(DbError::open_failed, e.what());
      } catch (...) {
        open_error = Error(DbError::open_failed, "database opener threw");
      }
      if (!db && !open_error) open_error = Error(DbError::open_failed, "no database");
      if (!db)
        log::warn("worker cannot open the database", {{"worker", std::to_string(index)}, {"error", open_error.message()}});
    }
    // A throwing job must not take the thread (and the process) down with it.
    try {
      job(db.get(), open_error);
    } catch (const std::exception& e) {
      log::error("database job threw", {{"worker", std::to_string(index)}, {"error", e.what()}});
    } catch (...) {
      log::error("database job threw", {{"worker", std::to_string(index)}});
    }
  }
}

}  // namespace capstan::db
