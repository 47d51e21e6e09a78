#include "app/job_dispatch.hpp"

#include "app/connection_impl.hpp"
#include "db/worker_pool.hpp"
#include "net/event_loop.hpp"

namespace capstan::app {

bool JobDispatch::offload(BlockingJob job) {
  if (!workers_) return false;
  workers_->submit([this, job = std::move(job)](db::Database* db, const Error& open_error) {
    std::function<void()> then = job(db, open_error);
    if (then) loop_.post_task(std::move(then));
  });
  return true;
}

bool JobDispatch::offload(ConnectionImpl& c, BlockingWork work) {
  if (!workers_) return false;
  const uint64_t id = c.id();
  Waiting& waiting = waiting_.try_emplace(id, Waiting{&c, 0}).first->second;
  ++waiting.jobs;
  c.set_jobs_in_flight(true);
  workers_->submit([this, id, work = std::move(work)](db::Database* db, const Error& open_error) {
    Continuation then = work(db, open_error);
    loop_.post_task([this, id, then = std::move(then)] {
      auto it = waiting_.find(id);
      if (it == waiting_.end()) return;  // the connection is gone
      ConnectionImpl& conn = *it->second.connection;
      if (--it->second.jobs == 0) {
        waiting_.erase(it);
        conn.set_jobs_in_flight(false);
      }
      if (conn.state() != ConnectionImpl::State::closed && then) conn.run_guarded("continuation", [&] { then(conn); });
    });
  });
  return true;
}

void JobDispatch::forget(ConnectionImpl& c) noexcept {
  if (c.jobs_in_flight()) waiting_.erase(c.id());
}

}  // namespace capstan::app
