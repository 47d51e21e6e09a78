// Blocking work of one loop on the server's worker pool, and the way back: a connection's job
// returns a continuation that runs on the connection's loop with the connection, if it still
// exists by then; a component's job returns one that runs on its loop. Connections with jobs
// in flight are found by id, so a continuation never holds a pointer to a connection that was
// reaped meanwhile, and idle connections cost nothing here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>

#include "capstan/connection.hpp"
#include "capstan/error.hpp"

namespace capstan::db {
class Database;
class WorkerPool;
}  // namespace capstan::db

namespace capstan::net {
class EventLoop;
}

namespace capstan::app {

class ConnectionImpl;

// What a job on the worker pool hands back: run on the connection's loop, with the
// connection, if it still exists by then.
using Continuation = std::function<void(ConnectionImpl&)>;
using BlockingWork = std::function<Continuation(db::Database* db, const Error& open_error)>;

class JobDispatch {
 public:
  // `workers` may be null (a loop made without a server, in tests): nothing can be offloaded.
  JobDispatch(net::EventLoop& loop, db::WorkerPool* workers) : loop_(loop), workers_(workers) {}

  // Runs `work` on the worker pool, then its continuation here with `c`, unless `c` is gone.
  // False when there is no worker pool.
  bool offload(ConnectionImpl& c, BlockingWork work);
  // The same without a connection: the continuation runs on this loop (Component::offload).
  bool offload(BlockingJob job);
  // `c` is being destroyed: its continuations will find nothing.
  void forget(ConnectionImpl& c) noexcept;
  // Connections with jobs in flight (for tests: none is left behind once they are gone).
  size_t connections_waiting() const noexcept { return waiting_.size(); }

 private:
  struct Waiting {
    ConnectionImpl* connection;
    size_t jobs;
  };
  net::EventLoop& loop_;
  db::WorkerPool* workers_;
  std::unordered_map<uint64_t, Waiting> waiting_;
};

}  // namespace capstan::app
