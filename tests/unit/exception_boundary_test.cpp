// The component boundary (component.hpp): a component that throws from each of its callbacks,
// a timer and posted work. The throwing connection gets close 1011, everyone else is served,
// and the loop thread survives (a later client is still served by the same single loop).
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

#include "capstan/capstan.hpp"
#include "test_client.hpp"

using capstan::test::Client;
using capstan::test::eventually;

namespace {

std::atomic<int> timer_runs{0}, posted_runs{0}, closes_seen{0};

// The path says where to throw: /throw/open, /throw/message, /throw/close, ...
class Thrower final : public capstan::Component {
 public:
  void on_start() override {
    loop().every(std::chrono::milliseconds(20), [] {
      ++timer_runs;
      throw std::runtime_error("from a timer");
    });
  }
  void on_open(capstan::Connection& c) override {
    if (c.path() == "/throw/open") throw std::runtime_error("from on_open");
  }
  void on_message(capstan::Connection& c, capstan::Message m) override {
    if (m.data == "throw") throw std::logic_error("from on_message");
    if (m.data == "throw-int") throw 42;
    if (m.data == "post") {
      loop().post([] {
        ++posted_runs;
        throw std::runtime_error("from posted work");
      });
    }
    c.send_text(m.data);
  }
  void on_close(capstan::Connection& c, capstan::CloseInfo) override {
    ++closes_seen;
    if (c.path() == "/throw/close") throw std::runtime_error("from on_close");
  }
};

struct ThrowingServer {
  capstan::Server server;
  std::thread runner;
  ThrowingServer() : server(config()) {
    server.route("/throw/*", [] { return std::make_unique<Thrower>(); });
    runner = std::thread([this] { const capstan::Status ran = server.run(); EXPECT_TRUE(ran) << ran.error().message(); });
    EXPECT_TRUE(eventually([&] { return server.running() && server.port() != 0; }));
  }
  ~ThrowingServer() {
    server.stop();
    runner.join();
  }
  static capstan::Config config() {
    capstan::Config config;
    config.server.name = capstan::test::unique_server_name();
    config.server.listen = {"127.0.0.1:0"};
    config.server.threads = 1;  // one loop: had it died, nothing would answer any more
    config.limits.messages_per_second = 0;
    return config;
  }
};

uint16_t close_code_of(const std::pair<int, std::string>& frame) {
  if (frame.first != 8 || frame.second.size() < 2) return 0;
  return static_cast<uint16_t>((static_cast<unsigned char>(frame.second[0]) << 8) | static_cast<unsigned char>(frame.second[1]));
}

void expect_echo(Client& c, const std::string& text) {
  c.send_text(text);
  EXPECT_EQ(c.read_frame(), (std::pair<int, std::string>{1, text}));
}

TEST(ExceptionBoundary, OnMessageThrowingClosesThatConnectionWith1011) {
  ThrowingServer s;
  for (const char* kind : {"throw", "throw-int"}) {
    Client bystander(s.server.port()), thrower(s.server.port());
    capstan::test::upgrade(bystander, "/throw/by");
    capstan::test::upgrade(thrower, "/throw/msg");
    expect_echo(thrower, "fine so far");
    thrower.send_text(kind);
    EXPECT_EQ(close_code_of(thrower.read_frame()), 1011) << kind;
    expect_echo(bystander, std::string("still here after ") + kind);
  }
}

TEST(ExceptionBoundary, OnOpenThrowingClosesThatConnectionWith1011) {
  ThrowingServer s;
  Client bystander(s.server.port()), thrower(s.server.port());
  capstan::test::upgrade(bystander, "/throw/by");
  capstan::test::upgrade(thrower, "/throw/open");
  EXPECT_EQ(close_code_of(thrower.read_frame()), 1011);
  expect_echo(bystander, "served");
}

TEST(ExceptionBoundary, OnCloseTimersAndPostedWorkThrowingHarmNobody) {
  ThrowingServer s;
  Client bystander(s.server.port());
  capstan::test::upgrade(bystander, "/throw/by");
  const int before = closes_seen;
  {
    Client closing(s.server.port());
    capstan::test::upgrade(closing, "/throw/close");
    closing.send_frame(8, std::string("\x03\xe8", 2));
    EXPECT_EQ(close_code_of(closing.read_frame()), 1000);
  }  // on_close runs once the client has hung up
  EXPECT_TRUE(eventually([&] { return closes_seen > before; }));
  const int timers = timer_runs;
  EXPECT_TRUE(eventually([&] { return timer_runs >= timers + 3; }));  // a throwing timer keeps its schedule
  bystander.send_text("post");
  EXPECT_EQ(bystander.read_frame(), (std::pair<int, std::string>{1, "post"}));
  EXPECT_TRUE(eventually([] { return posted_runs > 0; }));
  expect_echo(bystander, "the loop lives");
  Client late(s.server.port());
  capstan::test::upgrade(late, "/throw/late");
  expect_echo(late, "and serves newcomers");
}

}  // namespace
