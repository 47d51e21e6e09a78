// A connection's whole life, driven one loop turn at a time over the in-memory transport of
// loop_harness.hpp. Each
// step is checked where it happens: the HTTP phase (refusals, the 101), the session (echo,
// fragments split across reads, ping, the close handshake, protocol faults with their
// WsError), and the end (on_close once, the reap, every counter back to zero).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "capstan/component.hpp"
#include "loop_harness.hpp"
#include "ws_test_support.hpp"

namespace capstan::app {
namespace {

using ws::test::close_frame;
using ws::test::frame;
using ws::test::ping;
using ws::test::text_frame;

// What the component saw, in order.
struct Seen {
  std::vector<std::string> events;
  bool throw_on_shutdown = false;
};

class Recorder final : public Component {
 public:
  explicit Recorder(Seen& seen) : seen_(seen) {}
  void on_open(Connection&) override { seen_.events.push_back("open"); }
  void on_message(Connection& c, Message m) override {
    seen_.events.push_back("message " + std::string(m.data));
    if (m.data == "throw") throw std::runtime_error("the component's own fault");
    c.send_text(m.data);  // echo
  }
  void on_error(Connection&, const Error& e) override {
    seen_.events.push_back("error " + std::to_string(close_code_of(e.code())) + " " + e.message());
  }
  void on_shutdown() override {
    if (seen_.throw_on_shutdown) throw std::runtime_error("on_shutdown failed");
  }
  void on_close(Connection&, CloseInfo info) override {
    seen_.events.push_back("close " + std::to_string(info.code) + (info.clean ? " clean" : ""));
  }

 private:
  Seen& seen_;
};

const std::string kUpgrade = test::upgrade_request("/echo");
using test::ServerFrame;

class ConnectionLifecycle : public test::LoopHarness {
 protected:
  void SetUp() override {
    start({{"/echo", "recorder", [this] { return std::make_unique<Recorder>(seen_); }, {}, false}});
  }

  // The one client of most tests.
  void connect() { client_ = LoopHarness::connect(); }
  void write(std::string_view bytes) { LoopHarness::write(client_, bytes); }
  std::string read_all(bool* closed = nullptr) { return LoopHarness::read_all(client_, closed); }
  static std::vector<ServerFrame> frames(std::string_view wire) { return test::parse_server_frames(wire); }
  void open_session() {
    client_ = LoopHarness::open_session("/echo");
    ASSERT_EQ(seen_.events, std::vector<std::string>{"open"});
  }
  void hang_up() { LoopHarness::hang_up(client_); }

  Seen seen_;
  int client_ = -1;
};

TEST_F(ConnectionLifecycle, AdoptedSocketIsCountedUntilTheHandshakeArrives) {
  connect();
  EXPECT_EQ(ctx_->connection_count(), 1u);
  EXPECT_EQ(shared_.connections.load(), 1u);
  settle();
  EXPECT_EQ(read_all(), "");  // nothing is said before the request
  EXPECT_TRUE(seen_.events.empty());
}

TEST_F(ConnectionLifecycle, RequestSplitAcrossReadsThenEchoThenCleanClose) {
  connect();
  const std::string request = kUpgrade;
  for (size_t at = 0; at < request.size(); at += 7) {  // the head arrives in 7-byte pieces
    write(std::string_view(request).substr(at, 7));
    settle();
    if (at + 7 < request.size()) {
      EXPECT_EQ(read_all(), "") << "answered before the head was complete";
    }
  }
  const std::string head = read_all();
  ASSERT_NE(head.find("101 Switching Protocols"), std::string::npos) << head;
  EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos) << head;

  // A message split in the middle of its header and again in its payload.
  const std::string message = text_frame("hello, loop");
  write(message.substr(0, 1));
  settle();
  write(message.substr(1, 6));
  settle();
  EXPECT_EQ(read_all(), "");
  write(message.substr(7));
  settle();
  std::vector<ServerFrame> got = frames(read_all());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].opcode, 0x1);
  EXPECT_EQ(got[0].payload, "hello, loop");

  write(ping("are you there"));
  settle();
  got = frames(read_all());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].opcode, 0xA);
  EXPECT_EQ(got[0].payload, "are you there");

  // The client closes: the server answers with the same code and half-closes; the
  // connection is counted until the client hangs up too, then reaped.
  write(close_frame(1000, "bye"));
  settle();
  bool hung_up = false;
  got = frames(read_all(&hung_up));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].opcode, 0x8);
  EXPECT_EQ(got[0].payload.substr(0, 2), std::string("\x03\xE8", 2));
  EXPECT_TRUE(hung_up);
  EXPECT_EQ(ctx_->connection_count(), 1u);
  hang_up();
  EXPECT_EQ(seen_.events, (std::vector<std::string>{"open", "message hello, loop", "close 1000 clean"}));
  expect_reaped();
}

TEST_F(ConnectionLifecycle, FragmentedMessageIsDeliveredWhole) {
  open_session();
  write(frame(0x1, "frag", false));
  write(frame(0x9, "mid"));  // a control frame may come between fragments
  write(frame(0x0, "mented", false));
  settle();
  std::vector<ServerFrame> got = frames(read_all());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].opcode, 0xA);
  write(frame(0x0, "!", true));
  settle();
  got = frames(read_all());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "fragmented!");
}

TEST_F(ConnectionLifecycle, ProtocolFaultReportsItsWsErrorClosesAndReaps) {
  open_session();
  write(ws::test::build_frame({.opcode = 0x1, .payload = "x", .masked = false}));
  settle();
  bool hung_up = false;
  std::vector<ServerFrame> got = frames(read_all(&hung_up));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].opcode, 0x8);
  EXPECT_EQ(got[0].payload, std::string("\x03\xEA", 2) + describe(WsError::unmasked_frame));  // 1002
  // A failed connection (RFC 6455 §7.1.7) is not talked to any more: half-closed at once.
  EXPECT_TRUE(hung_up);
  hang_up();
  EXPECT_EQ(seen_.events, (std::vector<std::string>{"open", "error 1002 client frame not masked", "close 1006"}));
  expect_reaped();
}

TEST_F(ConnectionLifecycle, ComponentThrowingClosesWith1011AndIsToldSo) {
  open_session();
  write(text_frame("throw"));
  write(text_frame("after"));  // in the same read: not delivered once closing
  settle();
  bool hung_up = false;
  std::vector<ServerFrame> got = frames(read_all(&hung_up));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].opcode, 0x8);
  EXPECT_EQ(got[0].payload, std::string("\x03\xF3", 2) + "internal error");  // 1011
  EXPECT_FALSE(hung_up) << "the stream is sound: the server waits for the client's answer";
  write(close_frame(1011));  // what browsers and python3-websockets answer
  settle();
  read_all(&hung_up);
  EXPECT_TRUE(hung_up);
  hang_up();
  // CloseInfo: the peer's code, clean, since its close frame came; on_error said why first.
  EXPECT_EQ(seen_.events, (std::vector<std::string>{"open", "message throw", "error 1011 internal error", "close 1011 clean"}));
  expect_reaped();
}

TEST_F(ConnectionLifecycle, PeerVanishingMidMessageEndsAbnormallyOnce) {
  open_session();
  write(text_frame("never finished").substr(0, 9));
  settle();
  hang_up();
  EXPECT_EQ(seen_.events, (std::vector<std::string>{"open", "close 1006"}));
  expect_reaped();
}

TEST_F(ConnectionLifecycle, MalformedRequestIsRefusedWithItsHttpErrorAndReaped) {
  connect();
  write("GET /echo HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n");
  settle();
  bool hung_up = false;
  const std::string response = read_all(&hung_up);
  EXPECT_EQ(response.rfind("HTTP/1.1 400 ", 0), 0u) << response;
  EXPECT_NE(response.find(describe(HttpError::malformed_header_name)), std::string::npos) << response;
  EXPECT_TRUE(hung_up);
  hang_up();
  EXPECT_TRUE(seen_.events.empty());
  expect_reaped();
}

TEST_F(ConnectionLifecycle, UpgradeToAnUnknownPathIsRefused) {
  connect();
  std::string request = kUpgrade;
  request.replace(request.find("/echo"), 5, "/nowhere");
  write(request);
  settle();
  bool hung_up = false;
  const std::string response = read_all(&hung_up);
  EXPECT_EQ(response.rfind("HTTP/1.1 404 ", 0), 0u) << response;
  EXPECT_TRUE(hung_up);
  hang_up();
  EXPECT_TRUE(seen_.events.empty());
  expect_reaped();
}

TEST_F(ConnectionLifecycle, OverTheConnectionLimitTheSocketIsAnswered503AndNeverCounted) {
  config_.limits.max_connections = 1;
  ctx_->set_limits(config_.limits);
  open_session();
  const int first = client_;
  connect();  // the second
  bool hung_up = false;
  const std::string response = read_all(&hung_up);
  EXPECT_EQ(response.rfind("HTTP/1.1 503 ", 0), 0u) << response;
  EXPECT_TRUE(hung_up);
  EXPECT_EQ(ctx_->connection_count(), 1u);
  EXPECT_EQ(shared_.connections.load(), 1u);
  hang_up();
  client_ = first;
}

TEST_F(ConnectionLifecycle, ShutdownClosesOpenSessionsWith1001) {
  open_session();
  ctx_->begin_shutdown();
  settle();
  std::vector<ServerFrame> got = frames(read_all());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].opcode, 0x8);
  EXPECT_EQ(got[0].payload.substr(0, 2), std::string("\x03\xE9", 2));
  write(close_frame(1001));
  settle();
  bool hung_up = false;
  read_all(&hung_up);
  EXPECT_TRUE(hung_up);
  hang_up();
  EXPECT_EQ(seen_.events, (std::vector<std::string>{"open", "close 1001 clean"}));
  expect_reaped();
}

TEST_F(ConnectionLifecycle, ShutdownStillClosesWhenOnShutdownThrows) {
  open_session();
  seen_.throw_on_shutdown = true;
  ctx_->begin_shutdown();
  settle();
  std::vector<ServerFrame> got = frames(read_all());
  ASSERT_EQ(got.size(), 1u) << "the clients are told to leave all the same";
  EXPECT_EQ(got[0].opcode, 0x8);
  EXPECT_EQ(got[0].payload.substr(0, 2), std::string("\x03\xE9", 2));
  write(close_frame(1001));
  settle();
  hang_up();
  EXPECT_EQ(seen_.events, (std::vector<std::string>{"open", "close 1001 clean"}));
  expect_reaped();
}

}  // namespace
}  // namespace capstan::app
