// A loop's own HTTP client (LoopContext::http_client, Component::http_client): made on first
// use only, the same one for every component of the loop, and part of the loop's shutdown: a
// loop shutting down waits for its requests once its connections are gone, and the shutdown
// deadline fails those still in flight with shutting_down, their dones called before the loop
// stops. The loop runs on the test's thread here (run() returns when it stops), watched by a
// timer that stops it after a few seconds whatever happens.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>

#include "capstan/http_client.hpp"
#include "http_test_server.hpp"
#include "loop_harness.hpp"

namespace capstan::app::test {
namespace {

using namespace std::chrono_literals;
using capstan::test::HttpTestServer;
using capstan::test::ReceivedRequest;

class Idle final : public Component {
 public:
  explicit Idle(Component** self) { *self = this; }
  void on_message(Connection&, Message) override {}
};

class LoopHttpClientTest : public LoopHarness {
 protected:
  // Runs the loop until it stops by itself; false when the watchdog had to stop it.
  bool run_until_stopped() {
    bool watchdog = false;
    const TimerId id = ctx_->loop().after(Duration(4000), [&] {
      watchdog = true;
      ctx_->loop().stop();
    });
    ctx_->loop().run();
    ctx_->loop().cancel(id);
    return !watchdog;
  }
  static HttpClientRequest get(std::string url) {
    HttpClientRequest r;
    r.method = "GET";
    r.url = std::move(url);
    return r;
  }
};

HttpTestServer::Handler slow(int ms) {
  return [ms](HttpTestServer& s, int fd, const ReceivedRequest&) { return s.pause(ms) && s.answer(fd, 200, "late"); };
}

TEST_F(LoopHttpClientTest, OneClientPerLoopForEveryComponent) {
  Component* first = nullptr;
  Component* second = nullptr;
  start({{"/a", "", [&] { return std::make_unique<Idle>(&first); }, {}, false},
         {"/b", "", [&] { return std::make_unique<Idle>(&second); }, {}, false}});
  ASSERT_TRUE(first && second);
  HttpClient& client = first->http_client();
  EXPECT_EQ(&client, &second->http_client());
  EXPECT_EQ(&client, &ctx_->http_client());
  EXPECT_EQ(client.in_flight(), 0u);
}

TEST_F(LoopHttpClientTest, ShutdownWaitsForRequestsInFlight) {
  HttpTestServer server(slow(300));
  config_.server.shutdown_timeout = Duration(3000);
  start({});
  std::optional<int> status;
  ctx_->http_client().request(get(server.url()), [&](Expected<HttpClientResponse> r) { status = r ? r->status : -1; });
  ctx_->begin_shutdown();  // no connections: only the request keeps the loop
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until_stopped());
  EXPECT_EQ(status, 200) << "the loop stopped after the answer, not before";
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms) << "not held until the deadline";
}

TEST_F(LoopHttpClientTest, ShutdownDeadlineFailsRequestsStillInFlight) {
  HttpTestServer server(slow(3000));
  config_.server.shutdown_timeout = Duration(200);
  start({});
  std::optional<Error> failure;
  ctx_->http_client().request(get(server.url()), [&](Expected<HttpClientResponse> r) {
    if (!r) failure = r.error();
  });
  ctx_->begin_shutdown();
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until_stopped());
  ASSERT_TRUE(failure.has_value()) << "told before the loop stopped";
  EXPECT_EQ(*failure, HttpClientError::shutting_down);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2000ms);
}

}  // namespace
}  // namespace capstan::app::test
