// Plain HTTP endpoints (capstan/http.hpp) over the in-memory transport: keep-alive and
// pipelining, bodies and their limits, answers given later (also from another thread),
// streamed answers and clients that leave during one, a component's own route path.
#include <atomic>
#include <chrono>
#include <thread>

#include "capstan/http.hpp"
#include "loop_harness.hpp"

namespace capstan::app::test {
namespace {

std::string request(std::string_view method, std::string_view path, std::string_view body = {}, std::string_view extra = {}) {
  std::string r = std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: x\r\n" + std::string(extra);
  if (!body.empty()) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + std::string(body);
}

// Answers "<method> <path> <body>" at once.
class EchoRequest final : public HttpHandler {
 public:
  void on_request(const HttpRequest& r, HttpResponse response) override {
    response.send(200, std::string(r.method) + " " + std::string(r.path) + " " + std::string(r.body));
  }
};

// Keeps every response; the test answers them.
class Held final : public HttpHandler {
 public:
  static inline std::vector<HttpResponse> held;
  static inline std::vector<std::string> bodies;
  void on_request(const HttpRequest& r, HttpResponse response) override {
    held.push_back(response);
    bodies.emplace_back(r.body);
  }
};

class Throws final : public HttpHandler {
 public:
  void on_request(const HttpRequest&, HttpResponse) override { throw std::runtime_error("boom"); }
};

class OwnHttp final : public Component {
 public:
  void on_message(Connection&, Message) override {}
  void on_http(const HttpRequest& r, HttpResponse response) override { response.send(200, "route " + std::string(r.query)); }
};

class Plain final : public Component {
 public:
  void on_message(Connection&, Message) override {}
};

template <class H>
Endpoint endpoint(std::string path, EndpointOptions options = {}) {
  return {std::move(path), [] { return std::make_unique<H>(); }, std::move(options)};
}

// Splits a stream of responses: each one's head and body (Content-Length or chunked).
struct Response {
  std::string head;
  std::string body;
};
std::vector<Response> responses(std::string wire) {
  std::vector<Response> out;
  while (!wire.empty()) {
    const size_t end = wire.find("\r\n\r\n");
    if (end == std::string::npos) break;
    Response r{wire.substr(0, end), {}};
    wire.erase(0, end + 4);
    if (const size_t cl = r.head.find("Content-Length: "); cl != std::string::npos) {
      const size_t n = std::stoul(r.head.substr(cl + 16));
      r.body = wire.substr(0, n);
      wire.erase(0, n);
    } else if (r.head.find("Transfer-Encoding: chunked") != std::string::npos) {
      for (;;) {
        const size_t line = wire.find("\r\n");
        const size_t n = std::stoul(wire.substr(0, line), nullptr, 16);
        wire.erase(0, line + 2);
        if (n == 0) {
          wire.erase(0, 2);
          break;
        }
        r.body += wire.substr(0, n);
        wire.erase(0, n + 2);
      }
    } else {
      r.body = std::move(wire);
      wire.clear();
    }
    out.push_back(std::move(r));
  }
  return out;
}

class HttpEndpoints : public LoopHarness {
 protected:
  void SetUp() override {
    Held::held.clear();
    Held::bodies.clear();
    EndpointOptions post;
    post.methods = {"POST"};
    post.max_body = 64;
    EndpointOptions prefix;
    prefix.prefix = true;
    shared_.endpoints = {endpoint<EchoRequest>("/echo", post), endpoint<EchoRequest>("/get"), endpoint<Held>("/held", post),
                         endpoint<Throws>("/throws"), endpoint<EchoRequest>("/apps", prefix)};
    start({{"/ws", "", [] { return std::make_unique<OwnHttp>(); }, {}, false},
           {"/plain", "", [] { return std::make_unique<Plain>(); }, {}, false}});
  }
};

TEST_F(HttpEndpoints, AConnectionServesRequestsOneAfterAnotherUntilTheClientSaysClose) {
  const int fd = connect();
  write(fd, request("POST", "/echo", "one"));
  settle();
  bool closed = false;
  auto first = responses(read_all(fd, &closed));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_NE(first[0].head.find("HTTP/1.1 200 OK"), std::string::npos);
  EXPECT_NE(first[0].head.find("Connection: keep-alive"), std::string::npos);
  EXPECT_EQ(first[0].body, "POST /echo one");
  EXPECT_FALSE(closed);
  write(fd, request("GET", "/get", {}, "Connection: close\r\n"));
  settle();
  auto second = responses(read_until_hung_up(fd));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].body, "GET /get ");
  EXPECT_NE(second[0].head.find("Connection: close"), std::string::npos);
}

TEST_F(HttpEndpoints, PipelinedRequestsAreAnsweredInOrderAndABodySplitAcrossWritesArrivesWhole) {
  const int fd = connect();
  const std::string both = request("POST", "/echo", "first-body") + request("GET", "/apps/7/events") + request("POST", "/echo", "third");
  write(fd, both.substr(0, 30));
  settle();
  write(fd, both.substr(30, 15));
  settle();
  write(fd, both.substr(45));
  settle();
  auto got = responses(read_all(fd));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].body, "POST /echo first-body");
  EXPECT_EQ(got[1].body, "GET /apps/7/events ");  // a prefix endpoint
  EXPECT_EQ(got[2].body, "POST /echo third");
}

TEST_F(HttpEndpoints, AnAnswerGivenLaterFromAnotherThreadReachesTheClientAndTheNextRequestWaitsForIt) {
  const int fd = connect();
  write(fd, request("POST", "/held", "a") + request("POST", "/echo", "after"));
  settle();
  EXPECT_EQ(read_all(fd), "");  // nothing yet, and the pipelined one waits behind it
  ASSERT_EQ(Held::held.size(), 1u);
  EXPECT_EQ(Held::bodies[0], "a");
  HttpResponse answer = Held::held[0];
  std::thread worker([answer]() mutable { answer.send(202, "later", "text/plain"); });
  worker.join();
  settle();
  auto got = responses(read_all(fd));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NE(got[0].head.find("HTTP/1.1 202 Accepted"), std::string::npos);
  EXPECT_EQ(got[0].body, "later");
  EXPECT_EQ(got[1].body, "POST /echo after");
  EXPECT_TRUE(answer.finished());
  answer.send(200, "twice");  // a second answer is ignored
  settle();
  EXPECT_EQ(read_all(fd), "");
}

TEST_F(HttpEndpoints, AStreamIsChunkedForHttp11AndEndsWithTheCloseForHttp10) {
  const int fd = connect();
  write(fd, request("POST", "/held", "s"));
  settle();
  HttpResponse stream = Held::held.at(0);
  stream.start(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
  stream.write("data: 1\n\n");
  settle();
  std::string wire = read_all(fd);
  EXPECT_NE(wire.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(wire.find("Cache-Control: no-cache"), std::string::npos);
  stream.write("data: 2\n\n");
  stream.end();
  settle();
  wire += read_all(fd);
  auto got = responses(wire);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "data: 1\n\ndata: 2\n\n");

  const int old = connect();
  write(old, "POST /held HTTP/1.0\r\nContent-Length: 1\r\n\r\nx");
  settle();
  HttpResponse plain = Held::held.at(1);
  plain.start(200, "text/plain");
  plain.write("abc");
  plain.end();
  settle();
  const std::string old_wire = read_until_hung_up(old);
  EXPECT_EQ(old_wire.find("chunked"), std::string::npos);
  EXPECT_TRUE(old_wire.ends_with("\r\n\r\nabc")) << old_wire;
}

TEST_F(HttpEndpoints, AClientLeavingDuringAStreamIsToldOnceAndLaterWritesDoNothing) {
  const int fd = connect();
  write(fd, request("POST", "/held", "s"));
  settle();
  HttpResponse stream = Held::held.at(0);
  int aborted = 0;
  stream.on_abort([&aborted] { ++aborted; });
  stream.start(200, "text/event-stream");
  settle();
  ::close(fd);
  clients_.back() = -1;
  settle();
  EXPECT_EQ(aborted, 1);
  EXPECT_TRUE(stream.finished());
  stream.write("nobody");
  stream.end();
  settle();
  EXPECT_EQ(aborted, 1);
}

TEST_F(HttpEndpoints, AStreamToAClientThatDoesNotReadIsCutAtTheSendBuffer) {
  config_.limits.send_buffer = 64 * 1024;
  ctx_->set_limits(config_.limits);
  const int fd = connect(4096);
  write(fd, request("POST", "/held", "s"));
  settle();
  HttpResponse stream = Held::held.at(0);
  stream.start(200, "text/event-stream");
  const std::string piece(8192, 'x');
  for (int i = 0; i < 64 && !stream.finished(); ++i) {
    stream.write(piece);
    settle();
  }
  EXPECT_TRUE(stream.finished());  // dropped, not buffered without end
  stream.write(piece);             // and later writes are harmless
  stream.end();
  settle();
}

TEST_F(HttpEndpoints, RefusalsComeBeforeTheBodyIsRead) {
  struct Case {
    std::string request;
    std::string status;
  };
  const std::vector<Case> cases = {
      {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 65\r\n\r\n", "413"},
      {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", "411"},
      {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", "400"},
      {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", "400"},
      {"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", "405"},
      {"DELETE /get HTTP/1.1\r\nHost: x\r\n\r\n", "405"},
      {"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", "404"},
      {"GET /throws HTTP/1.1\r\nHost: x\r\n\r\n", "500"},
  };
  for (const Case& c : cases) {
    const int fd = connect();
    write(fd, c.request);
    settle();
    const std::string wire = read_until_hung_up(fd);
    EXPECT_TRUE(wire.starts_with("HTTP/1.1 " + c.status)) << c.request << " -> " << wire;
  }
}

TEST_F(HttpEndpoints, HeadGetsTheHeadersOnly) {
  const int fd = connect();
  write(fd, request("HEAD", "/get") + request("GET", "/get"));
  settle();
  const std::string wire = read_all(fd);
  // The HEAD answer announces the GET's length but carries no body: the GET's head follows.
  EXPECT_TRUE(wire.starts_with("HTTP/1.1 200 OK")) << wire;
  const size_t second = wire.find("HTTP/1.1 200 OK", 10);
  ASSERT_NE(second, std::string::npos) << wire;
  EXPECT_TRUE(wire.substr(0, second).ends_with("\r\n\r\n"));
  EXPECT_TRUE(wire.ends_with("GET /get ")) << wire;
}

TEST_F(HttpEndpoints, AComponentAnswersPlainRequestsToItsOwnRouteAndTheDefaultIs426) {
  const int fd = connect();
  write(fd, request("GET", "/ws?x=1"));
  settle();
  auto own = responses(read_all(fd));
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0].body, "route x=1");
  const int other = connect();
  write(other, request("GET", "/plain"));
  settle();
  const std::string wire = read_all(other);
  EXPECT_TRUE(wire.starts_with("HTTP/1.1 426 Upgrade Required")) << wire;
  EXPECT_NE(wire.find("Sec-WebSocket-Version: 13"), std::string::npos);
  // And the same connection still upgrades on a route.
  const int ws = open_session("/ws");
  EXPECT_GE(ws, 0);
}

}  // namespace
}  // namespace capstan::app::test
