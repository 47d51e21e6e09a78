// A WebSocket connection as a component sees it.
//
// Handles are references owned by the server: valid from on_open until on_close returns,
// used only on the connection's own loop thread. Sends are corked: everything sent during
// one loop turn leaves in one write per connection at the end of the turn.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "capstan/error.hpp"
#include "capstan/loop.hpp"
#include "capstan/types.hpp"

namespace capstan {

class Connection;
namespace db {
class Database;
}

// Work that may block (a database query, a blocking HTTP call, a file, a slow hash), run off
// the loop on a worker thread with that thread's database connection (null, and `open_error` a
// DbError, when it could not be opened or users.provider is "none"). What it returns runs
// afterwards on the loop it came from. Jobs of one connection finish in the order given only
// with users.workers = 1; a connection that needs order waits for each continuation.
using BlockingJob = std::function<std::function<void()>(db::Database* db, const Error& open_error)>;
// The same for one connection: the continuation gets the connection, and is not run at all
// when the connection closed meanwhile.
using ConnectionJob = std::function<std::function<void(Connection&)>(db::Database* db, const Error& open_error)>;

// Who a connection is, once its token was verified (and looked up, with a users provider).
struct User {
  int64_t id = 0;        // the users provider's id; with provider "none", the identity if it is a number
  std::string identity;  // the identity claim (Lexik: the e-mail in `username`)
  std::string claims;    // the token's payload, JSON ("" when the connect proxy said who it is)
  std::string data;      // what the connect proxy attached, JSON ("" when none)
};

namespace app {
class LoopContext;
class ConnectionImpl;
}

// A connection named by its id and its loop: what a callback that may outlive the connection
// keeps (an HTTP answer, a worker's result, a timer of another object) instead of a
// Connection&. Copyable; safe to keep after the connection closed, and to post through from
// any thread, for as long as the server runs.
class ConnectionRef {
 public:
  ConnectionRef() noexcept = default;
  // On the connection's loop thread only: the connection until its close is complete
  // (on_close has run), then nullptr.
  Connection* get() const noexcept;
  // Runs `fn` with the connection on its loop, unless it has closed by then: then nothing runs.
  // Any thread.
  void post(std::function<void(Connection&)> fn) const;
  uint64_t id() const noexcept { return id_; }
  explicit operator bool() const noexcept { return home_ != nullptr; }
  friend bool operator==(const ConnectionRef&, const ConnectionRef&) = default;

 private:
  friend class app::ConnectionImpl;
  ConnectionRef(app::LoopContext* home, uint64_t id) noexcept : home_(home), id_(id) {}
  app::LoopContext* home_ = nullptr;
  uint64_t id_ = 0;
};

class Connection {
 public:
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  SendStatus send(std::string_view data, Opcode opcode = Opcode::text);
  SendStatus send_text(std::string_view text) { return send(text, Opcode::text); }
  SendStatus send_binary(std::string_view data) { return send(data, Opcode::binary); }
  // One message to many connections of the calling loop (a broadcast): the frame is built
  // once and stored once, and each connection's share leaves with the rest of its output at
  // the end of the loop turn. Connections that are not open are skipped. Returns how many
  // connections it was queued for; a slow reader over its send buffer is closed as by send(),
  // and on_error hears of it after the call returned, so `to` may be the component's own set.
  static size_t send_to_many(std::span<Connection* const> to, std::string_view data, Opcode opcode = Opcode::text);

  // Starts the closing handshake; on_close follows once the peer answers or a timeout passes.
  // A code that may not be sent (1005, 1006, 1015, unassigned) is replaced by 1000.
  void close(uint16_t code = close_code::normal, std::string_view reason = {});
  // Drops the TCP connection at once, without a close frame.
  void terminate();
  bool is_open() const noexcept;

  // The upgrade request: path and query for the connection's whole life; headers during
  // on_open only (copy what you need into user data), because keeping every request's
  // headers would cost each idle connection hundreds of bytes.
  std::string_view path() const noexcept;
  std::string_view query() const noexcept;  // raw, without the '?': "nick=bob%20b&room=1"
  // The decoded value of the query's first parameter called `name` ("bob b"), "" for a bare
  // "?name", nullopt when absent; decoded as form_urlencoded.hpp says (malformed escapes are
  // kept as they are, the value may hold any byte). Allocates the value: read it once, in
  // on_open, and keep what you need.
  std::optional<std::string> query_param(std::string_view name) const;
  std::string_view header(std::string_view name) const noexcept;
  std::string_view subprotocol() const noexcept;
  // The authenticated user, or nullptr (a route without auth, or anonymous when allowed).
  const User* user() const noexcept;
  std::string remote_address() const;  // "127.0.0.1:53012", "[::1]:53012"

  // While paused, nothing more is read: input waits in the kernel and TCP pushes back on the
  // client. Messages of the read in progress are still delivered. For a component that must
  // finish one message's work (off the loop) before it takes the next.
  void pause_reading() noexcept;
  void resume_reading() noexcept;
  // Runs `job` on the server's worker pool, then its continuation here with this connection
  // (see BlockingJob). False only while the server is not running.
  bool offload(ConnectionJob job);

  // Bytes queued but not yet accepted by the kernel, including what this loop turn has not
  // written yet: what limits.send_buffer caps.
  size_t buffered_amount() const noexcept;
  // Unique within the process.
  uint64_t id() const noexcept;
  Loop& loop() const noexcept;
  // A handle that outlives the connection (see ConnectionRef).
  ConnectionRef ref();

  // Timers of this connection: `fn` runs with it on its loop after `delay` (every `interval`),
  // and never once the connection has closed: its timers end with it, no cancel needed. A
  // component's deadlines and keep-alives per connection. Cancelling is O(log n), and what
  // the timer captured is freed then, not at its deadline.
  TimerId after(Duration delay, std::function<void(Connection&)> fn);
  TimerId every(Duration interval, std::function<void(Connection&)> fn);
  // Ids of other connections' timers, fired ones and 0 are ignored.
  void cancel_timer(TimerId id);

  // Per-connection user data, destroyed with the connection.
  template <class T, class... Args>
  T& emplace_data(Args&&... args) {
    auto holder = std::make_unique<DataHolder<T>>(std::forward<Args>(args)...);
    T& ref = holder->value;
    set_data(std::move(holder));
    return ref;
  }
  template <class T>
  T* data() const noexcept {
    auto* holder = dynamic_cast<DataHolder<T>*>(get_data());
    return holder ? &holder->value : nullptr;
  }

 protected:
  struct DataBase {
    virtual ~DataBase() = default;
  };
  template <class T>
  struct DataHolder final : DataBase {
    template <class... Args>
    explicit DataHolder(Args&&... args) : value(std::forward<Args>(args)...) {}
    T value;
  };

  Connection() = default;
  ~Connection() = default;

 private:
  void set_data(std::unique_ptr<DataBase> data);
  DataBase* get_data() const noexcept;
};

}  // namespace capstan
