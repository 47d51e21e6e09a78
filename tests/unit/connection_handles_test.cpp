// What a connection hands out that may outlive a callback, end to end in process (a real
// Server on its own thread, a raw socket client): timers per connection that end with it,
// ConnectionRef that finds the connection or nothing, and blocking work offloaded by a server
// without a users provider (no database: the job is told so, and still runs).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "capstan/capstan.hpp"
#include "test_client.hpp"

using capstan::test::Client;
using capstan::test::eventually;
using namespace std::chrono_literals;

namespace {

struct Seen {
  std::mutex m;
  capstan::ConnectionRef ref;
  std::string offload_error;
  bool offload_had_database = true;
  std::atomic<int> ticks{0};
  std::atomic<bool> closed{false}, late_ran{false};
  std::weak_ptr<int> captured;  // what the hour-long timer holds
};

class Handles final : public capstan::Component {
 public:
  explicit Handles(Seen& seen) : seen_(seen) {}
  void on_open(capstan::Connection& c) override {
    c.after(30ms, [](capstan::Connection& c) { c.send_text("after"); });
    const capstan::TimerId dropped = c.after(20ms, [](capstan::Connection& c) { c.send_text("cancelled"); });
    c.cancel_timer(dropped);
    c.every(10ms, [this](capstan::Connection& c) {
      if (++seen_.ticks == 3) c.send_text("tick3");
    });
    // Its deadline is long after the close: the close must end it (and free what it holds),
    // not the deadline.
    auto token = std::make_shared<int>(1);
    {
      std::lock_guard lock(seen_.m);
      seen_.captured = token;
    }
    c.after(1h, [token](capstan::Connection& c) { c.send_text("never " + std::to_string(*token)); });
  }
  void on_message(capstan::Connection& c, capstan::Message m) override {
    if (m.data == "ref") {
      std::lock_guard lock(seen_.m);
      seen_.ref = c.ref();
      c.send_text(seen_.ref.get() == &c ? "ref ok" : "ref wrong");
    } else if (m.data == "offload") {
      const bool ran = c.offload([this](capstan::db::Database* db, const capstan::Error& open_error) {
        std::lock_guard lock(seen_.m);
        seen_.offload_had_database = db != nullptr;
        seen_.offload_error = open_error.message();
        return std::function<void(capstan::Connection&)>([](capstan::Connection& c) { c.send_text("offloaded"); });
      });
      if (!ran) c.send_text("no worker pool");
    }
  }
  void on_close(capstan::Connection&, capstan::CloseInfo) override { seen_.closed = true; }

 private:
  Seen& seen_;
};

struct Running {
  capstan::Server server;
  std::thread runner;
  explicit Running(Seen& seen) : server(config()) {
    server.route("/h", [&seen] { return std::make_unique<Handles>(seen); });
    runner = std::thread([this] { EXPECT_TRUE(server.run()); });
    EXPECT_TRUE(eventually([&] { return server.running() && server.port() != 0; }));
  }
  ~Running() {
    server.stop();
    runner.join();
  }
  static capstan::Config config() {
    capstan::Config config;
    config.server.name = capstan::test::unique_server_name();
    config.server.listen = {"127.0.0.1:0"};
    config.server.threads = 2;
    return config;  // users.provider "none": no database
  }
};

}  // namespace

TEST(ConnectionHandles, TimersRunWithTheConnectionAndEndWithIt) {
  Seen seen;
  Running running(seen);
  {
    Client c(running.server.port());
    capstan::test::upgrade(c, "/h");
    std::vector<std::string> got;
    for (int i = 0; i < 2; ++i) got.push_back(c.read_frame().second);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<std::string>{"after", "tick3"}));  // never "cancelled"
  }
  ASSERT_TRUE(eventually([&] { return seen.closed.load(); }));
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(seen.m);
    return seen.captured.expired();
  })) << "the close left a timer of the connection's behind";
  const int ticks_at_close = seen.ticks;
  std::this_thread::sleep_for(60ms);
  EXPECT_EQ(seen.ticks, ticks_at_close) << "a connection's repeating timer ran after its close";
}

TEST(ConnectionHandles, ARefFindsTheConnectionWhileItIsOpenAndNothingAfter) {
  Seen seen;
  Running running(seen);
  capstan::ConnectionRef ref;
  {
    Client c(running.server.port());
    capstan::test::upgrade(c, "/h");
    c.send_text("ref");
    std::string frame;
    while ((frame = c.read_frame().second) == "after" || frame == "tick3") {}
    EXPECT_EQ(frame, "ref ok");
    {
      std::lock_guard lock(seen.m);
      ref = seen.ref;
    }
    ASSERT_TRUE(ref);
    // From another thread: runs on the connection's loop, with the connection.
    ref.post([](capstan::Connection& c) { c.send_text("posted"); });
    while ((frame = c.read_frame().second) == "after" || frame == "tick3") {}
    EXPECT_EQ(frame, "posted");
  }
  ASSERT_TRUE(eventually([&] { return seen.closed.load(); }));
  ref.post([&seen](capstan::Connection&) { seen.late_ran = true; });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(seen.late_ran) << "a ref ran its function on a connection that had closed";
}

TEST(ConnectionHandles, BlockingWorkRunsWithoutAUsersProvider) {
  Seen seen;
  Running running(seen);
  Client c(running.server.port());
  capstan::test::upgrade(c, "/h");
  c.send_text("offload");
  std::string frame;
  while ((frame = c.read_frame().second) == "after" || frame == "tick3") {}
  EXPECT_EQ(frame, "offloaded");
  std::lock_guard lock(seen.m);
  EXPECT_FALSE(seen.offload_had_database);
  EXPECT_NE(seen.offload_error.find("users.provider"), std::string::npos) << seen.offload_error;
}
