// A connection's whole life, driven one loop turn at a time over an in-memory transport: a
// LoopContext of its own (no Server, no listener, no thread), and an AF_UNIX socketpair
// whose far end the test writes the client's bytes into and reads the server's from. Each
// step is checked where it happens: the HTTP phase (refusals, the 101), the session (echo,
// fragments split across reads, ping, the close handshake, protocol faults with their
// WsError), and the end (on_close once, the reap, every counter back to zero).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "app/ip_limiter.hpp"
#include "app/loop_context.hpp"
#include "app/route.hpp"
#include "capstan/component.hpp"
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
};

class Recorder final : public Component {
 public:
  explicit Recorder(Seen& seen) : seen_(seen) {}
  void on_open(Connection&) override { seen_.events.push_back("open"); }
  void on_message(Connection& c, Message m) override {
    seen_.events.push_back("message " + std::string(m.data));
    c.send_text(m.data);  // echo
  }
  void on_error(Connection&, const Error& e) override {
    seen_.events.push_back("error " + std::to_string(close_code_of(e.code())) + " " + e.message());
  }
  void on_close(Connection&, CloseInfo info) override {
    seen_.events.push_back("close " + std::to_string(info.code) + (info.clean ? " clean" : ""));
  }

 private:
  Seen& seen_;
};

constexpr const char* kUpgrade =
    "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

// A server frame as the test reads it back (servers do not mask).
struct ServerFrame {
  uint8_t opcode = 0;
  std::string payload;
};

class ConnectionLifecycle : public testing::Test {
 protected:
  void SetUp() override {
    config_.limits.max_connections = 100;
    shared_.config = &config_;
    shared_.ip_limiter = std::make_unique<IpLimiter>(10, 0);
    routes_.push_back({"/echo", "recorder", [this] { return std::make_unique<Recorder>(seen_); }, {}, false});
    ctx_ = std::make_unique<LoopContext>(0, shared_, routes_);
  }
  void TearDown() override {
    ctx_.reset();
    if (client_ >= 0) ::close(client_);
  }

  // A new connection: the server's end adopted by the loop, the client's end kept here.
  void connect() {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    client_ = fds[0];
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_port = htons(40000);
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ctx_->adopt(fds[1], reinterpret_cast<const sockaddr*>(&peer));
  }
  void write(std::string_view bytes) {
    ASSERT_EQ(::send(client_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }
  // Turns the loop until it has nothing left to do right now.
  void settle() {
    for (int i = 0; i < 8; ++i) ctx_->loop().turn(0);
  }
  // What the server has written so far; `closed` tells whether it also hung up.
  std::string read_all(bool* closed = nullptr) {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(client_, buf, sizeof buf, 0);
      if (n > 0) {
        out.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (closed) *closed = n == 0;
      break;
    }
    return out;
  }
  static std::vector<ServerFrame> frames(std::string_view wire) {
    std::vector<ServerFrame> out;
    size_t pos = 0;
    while (pos + 2 <= wire.size()) {
      const uint8_t b0 = static_cast<uint8_t>(wire[pos]), b1 = static_cast<uint8_t>(wire[pos + 1]);
      EXPECT_EQ(b1 & 0x80, 0) << "server frames are not masked";
      size_t length = b1 & 0x7F, header = 2;
      if (length == 126) {
        length = (static_cast<uint8_t>(wire[pos + 2]) << 8) | static_cast<uint8_t>(wire[pos + 3]);
        header = 4;
      }
      out.push_back({static_cast<uint8_t>(b0 & 0x0F), std::string(wire.substr(pos + header, length))});
      pos += header + length;
    }
    EXPECT_EQ(pos, wire.size()) << "a partial frame";
    return out;
  }
  void open_session() {
    connect();
    write(kUpgrade);
    settle();
    const std::string head = read_all();
    ASSERT_NE(head.find("HTTP/1.1 101 Switching Protocols\r\n"), std::string::npos) << head;
    ASSERT_EQ(seen_.events, std::vector<std::string>{"open"});
  }
  // The client closes its end (after the server's half-close, as a browser does).
  void hang_up() {
    ::close(client_);
    client_ = -1;
    settle();
  }
  // The connection is gone and nothing of it is counted any more.
  void expect_reaped() {
    EXPECT_EQ(ctx_->connection_count(), 0u);
    EXPECT_EQ(shared_.connections.load(), 0u);
    EXPECT_EQ(shared_.ip_limiter->tracked(), 0u);
  }

  Config config_;
  ServerShared shared_;
  std::vector<RouteSpec> routes_;
  Seen seen_;
  std::unique_ptr<LoopContext> ctx_;
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

TEST_F(ConnectionLifecycle, PeerVanishingMidMessageEndsAbnormallyOnce) {
  open_session();
  write(text_frame("never finished").substr(0, 9));
  settle();
  ::close(client_);
  client_ = -1;
  settle();
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
  ::close(client_);
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

}  // namespace
}  // namespace capstan::app
