// capstan::HttpClient (capstan/http_client.hpp, src/net/http_client/) with a real EventLoop on
// its own thread against a real HTTP/1.1 server in this process (http_test_server.hpp), over
// loopback: what a request sends and what comes back, many at once, a kept-alive connection,
// the timeout (while the loop keeps ticking), refused connections, bad URLs and requests
// (told later, never inside request()), InFlightLimit, cancel, dones that cancel, start or
// destroy, destruction with requests in flight, the body limit, a server that hangs up, and
// shut_down. Every wait is bounded by a few seconds.
#include "capstan/http_client.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http_test_server.hpp"
#include "net/event_loop.hpp"

namespace capstan {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::HttpTestServer;
using test::ReceivedRequest;

constexpr auto kWait = 5s;  // the most any single wait of these tests may take

// An EventLoop running on its own thread; on_loop runs a function there and waits for it.
class LoopThread {
 public:
  LoopThread() : thread_([this] { loop_.run(); }) {}
  ~LoopThread() {
    loop_.post_task([this] { loop_.stop(); });
    thread_.join();
  }
  net::EventLoop& loop() { return loop_; }
  std::thread::id id() const { return thread_.get_id(); }
  bool on_loop(std::function<void()> fn) {
    auto done = std::make_shared<std::promise<void>>();
    auto f = done->get_future();
    loop_.post_task([fn = std::move(fn), done] {
      fn();
      done->set_value();
    });
    return f.wait_for(kWait) == std::future_status::ready;
  }

 private:
  net::EventLoop loop_{3};
  std::thread thread_;
};

// What the dones were called with, where, and in which order; the test thread waits on it.
class Dones {
 public:
  struct Call {
    std::string tag;
    Expected<HttpClientResponse> outcome;
    std::thread::id thread;
  };
  HttpClient::Done add(std::string tag = {}) {
    return [this, tag](Expected<HttpClientResponse> outcome) {
      std::lock_guard lock(m_);
      calls_.push_back({tag, std::move(outcome), std::this_thread::get_id()});
      cv_.notify_all();
    };
  }
  bool wait_for(size_t n, std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, timeout, [&] { return calls_.size() >= n; });
  }
  size_t count() {
    std::lock_guard lock(m_);
    return calls_.size();
  }
  // Valid once the loop no longer calls (after wait_for, or with the client gone).
  std::vector<Call>& calls() { return calls_; }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<Call> calls_;
};

HttpClientRequest post(std::string url, std::string body = {}) {
  HttpClientRequest r;
  r.url = std::move(url);
  r.body = std::move(body);
  return r;
}

// Answers 201 with what it got: the body after "got:", the method and a header in headers.
bool echo(HttpTestServer& s, int fd, const ReceivedRequest& r) {
  const auto probe = r.headers.find("x-probe");
  std::string extra = "X-Reply: yes\r\nX-Method: " + r.method + "\r\n";
  if (probe != r.headers.end()) extra += "X-Probe-Was: " + probe->second + "\r\n";
  if (r.method == "HEAD") return s.send_all(fd, "HTTP/1.1 201 X\r\nContent-Length: 9\r\n" + extra + "\r\n");
  return s.answer(fd, 201, "got:" + r.body, extra);
}

// Answers 200 after `ms`.
HttpTestServer::Handler slow(int ms) {
  return [ms](HttpTestServer& s, int fd, const ReceivedRequest&) { return s.pause(ms) && s.answer(fd, 200, "late"); };
}

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(loop_.on_loop([this] { client_ = std::make_unique<HttpClient>(loop_.loop()); }));
  }
  void TearDown() override { EXPECT_TRUE(loop_.on_loop([this] { client_.reset(); })); }

  // Makes the request on the loop thread and waits for its done.
  Expected<HttpClientResponse> fetch(HttpClientRequest r) {
    auto dones = std::make_shared<Dones>();  // outlives a wait that gives up
    EXPECT_TRUE(loop_.on_loop([&] {
      client_->request(std::move(r), [dones, record = dones->add()](Expected<HttpClientResponse> outcome) { record(std::move(outcome)); });
    }));
    if (!dones->wait_for(1)) return Error(std::make_error_code(std::errc::timed_out), "the test's wait");
    return std::move(dones->calls()[0].outcome);
  }
  size_t in_flight() {
    size_t n = 0;
    EXPECT_TRUE(loop_.on_loop([&] { n = client_->in_flight(); }));
    return n;
  }

  LoopThread loop_;
  std::unique_ptr<HttpClient> client_;  // made, used and destroyed on the loop thread
};

TEST_F(HttpClientTest, PostSendsBodyAndHeadersAndGetsTheAnswer) {
  HttpTestServer server(echo);
  HttpClientRequest r = post(server.url("/submit?x=1"), R"({"a":1})");
  r.headers = {{"X-Probe", "42"}, {"Content-Type", "application/json"}, {"X-Empty", ""}};
  Dones dones;
  ASSERT_TRUE(loop_.on_loop([&] { client_->request(r, dones.add()); }));
  ASSERT_TRUE(dones.wait_for(1));
  const Dones::Call& call = dones.calls()[0];
  EXPECT_EQ(call.thread, loop_.id());
  ASSERT_TRUE(call.outcome) << call.outcome.error().message();
  const HttpClientResponse& response = *call.outcome;
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.body, R"(got:{"a":1})");
  EXPECT_EQ(response.header("X-Reply"), "yes");
  EXPECT_EQ(response.header("x-probe-was"), "42");
  EXPECT_EQ(response.header("x-absent"), "");
  bool lower = false;
  for (const auto& [name, value] : response.headers) lower = lower || name == "x-reply";
  EXPECT_TRUE(lower) << "header names are lower-cased";
  EXPECT_GE(response.elapsed.count(), 0);
  EXPECT_LT(response.elapsed, Duration(kWait));

  const ReceivedRequest got = server.last_request();
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/submit?x=1");
  EXPECT_EQ(got.body, R"({"a":1})");
  EXPECT_EQ(got.headers.at("content-length"), "7");
  EXPECT_EQ(got.headers.at("content-type"), "application/json");
  EXPECT_EQ(got.headers.at("x-probe"), "42");
  ASSERT_TRUE(got.headers.count("x-empty")) << "a header with an empty value is sent";
  EXPECT_EQ(got.headers.at("x-empty"), "");
  EXPECT_FALSE(got.headers.count("expect"));
  EXPECT_EQ(got.headers.at("user-agent").rfind("capstan/", 0), 0u);
}

TEST_F(HttpClientTest, NoContentTypeUnlessTheRequestSetsOne) {
  HttpTestServer server(echo);
  auto answer = fetch(post(server.url(), "a=b"));
  ASSERT_TRUE(answer) << answer.error().message();
  EXPECT_FALSE(server.last_request().headers.count("content-type")) << "curl's form type is not added";
}

TEST_F(HttpClientTest, LargeBodyGoesWithoutWaitingForAContinue) {
  // This server, as many, never answers "Expect: 100-continue": curl would wait a second.
  HttpTestServer server([](HttpTestServer& s, int fd, const ReceivedRequest& r) { return s.answer(fd, 200, std::to_string(r.body.size())); });
  const std::string body(2 << 20, 'x');
  const auto started = Clock::now();
  auto answer = fetch(post(server.url(), body));
  ASSERT_TRUE(answer) << answer.error().message();
  EXPECT_EQ(answer->body, std::to_string(body.size()));
  EXPECT_FALSE(server.last_request().headers.count("expect"));
  EXPECT_LT(Clock::now() - started, 800ms);
}

TEST_F(HttpClientTest, MethodsArriveAsGiven) {
  HttpTestServer server(echo);
  for (const char* method : {"GET", "PUT", "DELETE", "PATCH", "HEAD"}) {
    HttpClientRequest r = post(server.url("/m"), std::string(method) == "PUT" ? "put-body" : "");
    r.method = method;
    auto answer = fetch(r);
    ASSERT_TRUE(answer) << method << ": " << answer.error().message();
    EXPECT_EQ(answer->status, 201);
    EXPECT_EQ(answer->header("x-method"), method);
    EXPECT_EQ(server.last_request().method, method);
    if (std::string(method) == "PUT") {
      EXPECT_EQ(server.last_request().body, "put-body");
    }
    if (std::string(method) == "HEAD") {
      EXPECT_EQ(answer->body, "");
    }
  }
}

TEST_F(HttpClientTest, ManyConcurrentRequestsAllCompleteOnTheLoopThread) {
  HttpTestServer server(echo);
  constexpr int kRequests = 40;
  Dones dones;
  ASSERT_TRUE(loop_.on_loop([&] {
    for (int i = 0; i < kRequests; ++i) client_->request(post(server.url(), "n=" + std::to_string(i)), dones.add(std::to_string(i)));
    EXPECT_EQ(client_->in_flight(), static_cast<size_t>(kRequests));
  }));
  ASSERT_TRUE(dones.wait_for(kRequests)) << dones.count() << " of " << kRequests;
  for (const Dones::Call& call : dones.calls()) {
    EXPECT_EQ(call.thread, loop_.id());
    ASSERT_TRUE(call.outcome) << call.tag << ": " << call.outcome.error().message();
    EXPECT_EQ(call.outcome->body, "got:n=" + call.tag) << "each answer reaches its own request";
  }
  EXPECT_LE(server.accepted(), 16) << "HttpClientOptions::max_connections_per_host";
  EXPECT_EQ(in_flight(), 0u);
}

TEST_F(HttpClientTest, SequentialRequestsReuseOneConnection) {
  HttpTestServer server(echo);
  for (int i = 0; i < 5; ++i) {
    auto answer = fetch(post(server.url(), std::to_string(i)));
    ASSERT_TRUE(answer) << answer.error().message();
    EXPECT_EQ(answer->body, "got:" + std::to_string(i));
  }
  EXPECT_EQ(server.requests(), 5);
  EXPECT_EQ(server.accepted(), 1) << "kept alive between requests";
}

TEST_F(HttpClientTest, TimeoutFailsInTimeWhileTheLoopKeepsTicking) {
  HttpTestServer server(slow(2000));
  std::atomic<int> ticks{0};
  TimerId ticker = 0;
  ASSERT_TRUE(loop_.on_loop([&] { ticker = loop_.loop().every(Duration(20), [&] { ++ticks; }); }));
  HttpClientRequest r = post(server.url());
  r.timeout = Duration(300);
  const auto started = Clock::now();
  auto answer = fetch(r);
  const auto took = Clock::now() - started;
  ASSERT_TRUE(loop_.on_loop([&] { loop_.loop().cancel(ticker); }));
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error(), HttpClientError::timeout) << answer.error().message();
  EXPECT_FALSE(answer.error().detail().empty());
  EXPECT_EQ(http_status_of(answer.error().code()), 504);
  EXPECT_GE(took, 290ms);
  EXPECT_LT(took, 1000ms) << "within the timeout and some slack";
  EXPECT_GE(ticks.load(), 5) << "the loop's other timers ran while the request waited";
}

TEST_F(HttpClientTest, RefusedConnectionIsUnreachable) {
  // A bound socket that does not listen: the kernel refuses connections to its port.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  auto answer = fetch(post("http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/"));
  ::close(fd);
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error(), HttpClientError::unreachable) << answer.error().message();
  EXPECT_EQ(http_status_of(answer.error().code()), 502);
}

TEST_F(HttpClientTest, BadUrlsAndRequestsAreRefusedLaterNeverInsideRequest) {
  struct Case {
    HttpClientRequest request;
    HttpClientError expected;
  };
  std::vector<Case> cases;
  for (const char* url : {"not a url", "ftp://127.0.0.1/file", "http://", "file:///etc/passwd", ""})
    cases.push_back({post(url), HttpClientError::bad_url});
  HttpClientRequest bad_header = post("http://127.0.0.1:9/");
  bad_header.headers = {{"X-Injected", "a\r\nEvil: yes"}};
  cases.push_back({bad_header, HttpClientError::invalid_request});
  HttpClientRequest bad_name = post("http://127.0.0.1:9/");
  bad_name.headers = {{"Bad Name", "x"}};
  cases.push_back({bad_name, HttpClientError::invalid_request});
  HttpClientRequest bad_method = post("http://127.0.0.1:9/");
  bad_method.method = "GE T";
  cases.push_back({bad_method, HttpClientError::invalid_request});
  HttpClientRequest framing = post("http://127.0.0.1:9/");
  framing.headers = {{"Content-Length", "3"}};
  cases.push_back({framing, HttpClientError::invalid_request});

  Dones dones;
  std::atomic<bool> in_request{false};
  std::atomic<int> inside{0};
  ASSERT_TRUE(loop_.on_loop([&] {
    for (size_t i = 0; i < cases.size(); ++i) {
      auto record = dones.add(std::to_string(i));
      in_request = true;
      client_->request(cases[i].request, [&inside, &in_request, record](Expected<HttpClientResponse> outcome) {
        if (in_request) ++inside;
        record(std::move(outcome));
      });
      in_request = false;
    }
    EXPECT_EQ(dones.count(), 0u) << "nothing is told before the loop turns";
  }));
  ASSERT_TRUE(dones.wait_for(cases.size()));
  EXPECT_EQ(inside.load(), 0);
  for (const Dones::Call& call : dones.calls()) {
    const Case& c = cases[std::stoul(call.tag)];
    ASSERT_FALSE(call.outcome) << c.request.url;
    EXPECT_EQ(call.outcome.error(), c.expected) << c.request.url << ": " << call.outcome.error().message();
    EXPECT_EQ(call.thread, loop_.id());
  }
  EXPECT_EQ(in_flight(), 0u);
}

TEST_F(HttpClientTest, InFlightLimitRefusesTheOneOverItsMax) {
  HttpTestServer server(slow(100));
  auto limit = std::make_shared<InFlightLimit>(2);
  Dones dones;
  ASSERT_TRUE(loop_.on_loop([&] {
    for (int i = 0; i < 3; ++i) client_->request(post(server.url()), dones.add(std::to_string(i)), limit);
    EXPECT_EQ(limit->in_flight(), 2u);
    EXPECT_EQ(dones.count(), 0u) << "the refusal too is told later";
  }));
  ASSERT_TRUE(dones.wait_for(3));
  for (const Dones::Call& call : dones.calls()) {
    if (call.tag == "2") {
      ASSERT_FALSE(call.outcome);
      EXPECT_EQ(call.outcome.error(), HttpClientError::too_many_in_flight);
      EXPECT_EQ(http_status_of(call.outcome.error().code()), 503);
    } else {
      ASSERT_TRUE(call.outcome) << call.outcome.error().message();
      EXPECT_EQ(call.outcome->status, 200);
    }
  }
  EXPECT_EQ(limit->in_flight(), 0u) << "places are given back as requests complete";
  HttpClientRequest again = post(server.url());
  Dones more;
  ASSERT_TRUE(loop_.on_loop([&] { client_->request(again, more.add(), limit); }));
  ASSERT_TRUE(more.wait_for(1));
  EXPECT_TRUE(more.calls()[0].outcome);
}

TEST_F(HttpClientTest, CancelledRequestsNeverCallDone) {
  HttpTestServer server([](HttpTestServer& s, int fd, const ReceivedRequest& r) {
    if (r.target == "/slow" && !s.pause(400)) return false;
    return s.answer(fd, 200, "ok");
  });
  auto limit = std::make_shared<InFlightLimit>(10);
  Dones cancelled;
  RequestId mid = 0;
  ASSERT_TRUE(loop_.on_loop([&] {
    // Before curl started it, a refusal not yet told, and one cancelled mid-exchange below.
    client_->cancel(client_->request(post(server.url("/slow")), cancelled.add("at once"), limit));
    client_->cancel(client_->request(post("nonsense"), cancelled.add("refused")));
    mid = client_->request(post(server.url("/slow")), cancelled.add("mid"), limit);
    client_->cancel(987654);  // unknown ids are ignored
  }));
  for (int i = 0; i < 200 && server.requests() < 1; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(server.requests(), 1) << "the exchange is under way";
  ASSERT_TRUE(loop_.on_loop([&] {
    client_->cancel(mid);
    EXPECT_EQ(client_->in_flight(), 0u);
    EXPECT_EQ(limit->in_flight(), 0u);
  }));
  // A later request completes; the slow answer's time passes too.
  auto answer = fetch(post(server.url("/fast")));
  ASSERT_TRUE(answer) << answer.error().message();
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(loop_.on_loop([] {}));
  EXPECT_EQ(cancelled.count(), 0u);
}

TEST_F(HttpClientTest, ADoneMayCancelRequestsThatAlreadyFinished) {
  // Requests started together with one timeout time out together: curl finishes them in one
  // go, and the first done cancels the others before they are told.
  HttpTestServer server(slow(2000));
  Dones dones;
  auto ids = std::make_shared<std::vector<RequestId>>();
  ASSERT_TRUE(loop_.on_loop([&] {
    for (int i = 0; i < 10; ++i) {
      auto record = dones.add(std::to_string(i));
      HttpClientRequest r = post(server.url(), "x");
      r.timeout = Duration(200);
      ids->push_back(client_->request(r, [this, ids, record](Expected<HttpClientResponse> outcome) {
        for (RequestId id : *ids) client_->cancel(id);  // the first done silences all the others
        record(std::move(outcome));
      }));
    }
  }));
  ASSERT_TRUE(dones.wait_for(1));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(loop_.on_loop([] {}));
  EXPECT_EQ(dones.count(), 1u);
  EXPECT_EQ(in_flight(), 0u);
}

TEST_F(HttpClientTest, ADoneMayStartAnotherRequest) {
  HttpTestServer server(echo);
  Dones dones;
  ASSERT_TRUE(loop_.on_loop([&] {
    auto second = dones.add("second");
    client_->request(post(server.url(), "one"), [this, &server, second](Expected<HttpClientResponse> first) {
      EXPECT_TRUE(first);
      client_->request(post(server.url(), "two"), second);
    });
  }));
  ASSERT_TRUE(dones.wait_for(1));
  ASSERT_TRUE(dones.calls()[0].outcome) << dones.calls()[0].outcome.error().message();
  EXPECT_EQ(dones.calls()[0].outcome->body, "got:two");
  EXPECT_EQ(server.accepted(), 1);
}

TEST_F(HttpClientTest, ADoneMayDestroyTheClient) {
  // As above, they finish together: the client goes in the middle of telling them.
  HttpTestServer server(slow(2000));
  Dones dones;
  auto limit = std::make_shared<InFlightLimit>(10);
  ASSERT_TRUE(loop_.on_loop([&] {
    for (int i = 0; i < 5; ++i) {
      auto record = dones.add();
      HttpClientRequest r = post(server.url(), "x");
      r.timeout = Duration(200);
      client_->request(r, [this, record](Expected<HttpClientResponse> outcome) {
        client_.reset();  // the rest are never told
        record(std::move(outcome));
      }, limit);
    }
  }));
  ASSERT_TRUE(dones.wait_for(1));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(loop_.on_loop([] {}));
  EXPECT_EQ(dones.count(), 1u);
  EXPECT_EQ(limit->in_flight(), 0u);
}

TEST_F(HttpClientTest, DestroyingWithRequestsInFlightTellsNobody) {
  HttpTestServer server(slow(300));
  Dones dones;
  auto limit = std::make_shared<InFlightLimit>(10);
  ASSERT_TRUE(loop_.on_loop([&] {
    for (int i = 0; i < 5; ++i) client_->request(post(server.url()), dones.add(), limit);
  }));
  for (int i = 0; i < 200 && server.requests() < 5; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(server.requests(), 5) << "their exchanges are under way";
  ASSERT_TRUE(loop_.on_loop([&] {
    client_->request(post(server.url()), dones.add(), limit);  // not yet started by curl
    client_->request(post("nonsense"), dones.add());           // a refusal not yet told
    client_.reset();
  }));
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(loop_.on_loop([] {}));
  EXPECT_EQ(dones.count(), 0u);
  EXPECT_EQ(limit->in_flight(), 0u);
}

TEST_F(HttpClientTest, ResponseOverItsLimitFails) {
  const std::string big(5 << 20, 'b');
  HttpTestServer server([&big](HttpTestServer& s, int fd, const ReceivedRequest& r) {
    if (r.target == "/length") return s.answer(fd, 200, big);
    // Chunked: no length announced, the limit is found as the body comes.
    if (!s.send_all(fd, "HTTP/1.1 200 X\r\nTransfer-Encoding: chunked\r\n\r\n")) return false;
    char size[32];
    for (size_t at = 0; at < big.size(); at += 65536) {
      const size_t n = std::min<size_t>(65536, big.size() - at);
      std::snprintf(size, sizeof size, "%zx\r\n", n);
      if (!s.send_all(fd, size) || !s.send_all(fd, std::string_view(big).substr(at, n)) || !s.send_all(fd, "\r\n")) return false;
    }
    return s.send_all(fd, "0\r\n\r\n");
  });
  for (const char* path : {"/length", "/chunked"}) {
    auto answer = fetch(post(server.url(path)));
    ASSERT_FALSE(answer) << path;
    EXPECT_EQ(answer.error(), HttpClientError::response_too_large) << path << ": " << answer.error().message();
  }
  HttpClientRequest roomy = post(server.url("/chunked"));
  roomy.max_response_size = 6 << 20;
  auto answer = fetch(roomy);
  ASSERT_TRUE(answer) << answer.error().message();
  EXPECT_EQ(answer->body.size(), big.size());
}

TEST_F(HttpClientTest, ServerThatHangsUpIsATransferFailure) {
  HttpTestServer server([](HttpTestServer&, int, const ReceivedRequest&) { return false; });  // closes
  auto answer = fetch(post(server.url()));
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error(), HttpClientError::transfer_failed);
  EXPECT_FALSE(answer.error().detail().empty()) << "curl's text";
}

TEST_F(HttpClientTest, ShutDownFailsWhatIsInFlightAndRefusesTheRest) {
  HttpTestServer server(slow(2000));
  Dones dones;
  ASSERT_TRUE(loop_.on_loop([&] { client_->request(post(server.url()), dones.add("before")); }));
  for (int i = 0; i < 200 && server.requests() < 1; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(loop_.on_loop([&] {
    client_->shut_down();
    EXPECT_EQ(dones.count(), 1u) << "told from shut_down";
    client_->request(post(server.url()), dones.add("after"));
    EXPECT_EQ(dones.count(), 1u) << "the refusal is told later";
  }));
  ASSERT_TRUE(dones.wait_for(2));
  for (const Dones::Call& call : dones.calls()) {
    ASSERT_FALSE(call.outcome) << call.tag;
    EXPECT_EQ(call.outcome.error(), HttpClientError::shutting_down) << call.tag;
  }
}

TEST(HttpClientErrors, DescribeAndMapToGatewayStatuses) {
  EXPECT_STREQ(describe(HttpClientError::timeout), "backend timed out");
  EXPECT_EQ(std::error_code(HttpClientError::unreachable).message(), "backend unreachable");
  EXPECT_STREQ(http_client_category().name(), "capstan.http_client");
  EXPECT_EQ(http_status_of(HttpClientError::timeout), 504);
  EXPECT_EQ(http_status_of(HttpClientError::shutting_down), 503);
  EXPECT_EQ(http_status_of(HttpClientError::response_too_large), 502);
  EXPECT_EQ(http_status_of(HttpError::no_route), 404) << "the http category keeps its own";
  const Error e(HttpClientError::transfer_failed, "SSL certificate problem");
  EXPECT_EQ(e, HttpClientError::transfer_failed);
  EXPECT_EQ(e.message(), "SSL certificate problem");
}

}  // namespace
}  // namespace capstan
