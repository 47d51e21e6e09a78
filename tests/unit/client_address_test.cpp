// The client behind a trusted proxy, over the in-memory transport (loop_harness.hpp): the
// PROXY header and X-Forwarded-For set the connection's address, which the per-address limit
// counts and releases and the component reads; an untrusted peer's X-Forwarded-For and PROXY
// line are not believed; a malformed header closes only its own connection, counted.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <string>

#include "capstan/component.hpp"
#include "loop_harness.hpp"
#include "ws_test_support.hpp"

namespace capstan::app {
namespace {

// Answers every message with the address it sees for its connection.
class WhoAmI final : public Component {
 public:
  void on_message(Connection& c, Message) override { c.send_text(c.remote_address()); }
};

std::string upgrade_with(std::string_view extra_headers) {
  std::string request = test::upgrade_request("/who");
  request.insert(request.size() - 2, extra_headers);
  return request;
}

class ClientAddress : public test::LoopHarness {
 protected:
  void SetUp() override {
    config_.limits.connections_per_ip = 1;
    shared_.ip_limiter = std::make_unique<IpLimiter>(1, 0);
    ASSERT_TRUE(shared_.trusted_proxies.add("127.0.0.1"));
    start({{"/who", "who", [] { return std::make_unique<WhoAmI>(); }, {}, false}});
  }
  // A connection whose peer is `ip` (the proxy, or a client that reaches us directly).
  int connect_from(const char* ip) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    clients_.push_back(fds[0]);
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_port = htons(50000);
    EXPECT_EQ(inet_pton(AF_INET, ip, &peer.sin_addr), 1);
    ctx_->adopt(fds[1], reinterpret_cast<const sockaddr*>(&peer));
    return fds[0];
  }
  // Sends `bytes` and returns what the server answered.
  std::string exchange(int fd, const std::string& bytes) {
    write(fd, bytes);
    settle();
    return read_all(fd);
  }
  // The address the component reports for an open session on `fd`.
  std::string seen_address(int fd) {
    const auto frames = test::parse_server_frames(exchange(fd, ws::test::text_frame("who")));
    return frames.size() == 1 ? frames[0].payload : "?";
  }
  static bool upgraded(const std::string& answer) { return answer.starts_with("HTTP/1.1 101"); }
  static bool refused_429(const std::string& answer) { return answer.starts_with("HTTP/1.1 429"); }
};

TEST_F(ClientAddress, ForwardedForFromTheProxyIsTheClientAndItsLimit) {
  const int alice = connect_from("127.0.0.1");
  ASSERT_TRUE(upgraded(exchange(alice, upgrade_with("X-Forwarded-For: 203.0.113.7\r\n"))));
  EXPECT_EQ(seen_address(alice), "203.0.113.7:0");
  // connections_per_ip = 1 counts the client, not the proxy: another client gets in...
  const int bob = connect_from("127.0.0.1");
  EXPECT_TRUE(upgraded(exchange(bob, upgrade_with("X-Forwarded-For: 203.0.113.8\r\n"))));
  // ... and a second connection of the same client does not.
  const int alice2 = connect_from("127.0.0.1");
  EXPECT_TRUE(refused_429(exchange(alice2, upgrade_with("X-Forwarded-For: 198.51.100.1, 203.0.113.7\r\n"))));
  EXPECT_EQ(ctx_->metrics().limit_hits(metrics::LimitKind::connections_per_ip).get(), 1u);
  EXPECT_EQ(shared_.ip_limiter->tracked(), 2u);
}

TEST_F(ClientAddress, UntrustedPeersForwardedForIsIgnored) {
  const int direct = connect_from("192.0.2.50");
  ASSERT_TRUE(upgraded(exchange(direct, upgrade_with("X-Forwarded-For: 203.0.113.7\r\n"))));
  EXPECT_EQ(seen_address(direct), "192.0.2.50:50000");
  // Its second connection is refused at accept whatever it claims to be.
  const int again = connect_from("192.0.2.50");
  EXPECT_TRUE(refused_429(read_all(again)));
}

TEST_F(ClientAddress, ProxyHeaderNamesTheClientBeforeTheRequest) {
  config_.server.proxy_protocol = true;
  const int c = connect_from("127.0.0.1");
  // Header and request in separate, split writes: the header is held until whole.
  EXPECT_EQ(exchange(c, "PROXY TCP4 203.0.113.7 127.0.0.1 "), "");
  ASSERT_TRUE(upgraded(exchange(c, "51234 8080\r\n" + test::upgrade_request("/who"))));
  EXPECT_EQ(seen_address(c), "203.0.113.7:51234");
  const int same = connect_from("127.0.0.1");
  EXPECT_TRUE(refused_429(exchange(same, "PROXY TCP4 203.0.113.7 127.0.0.1 51235 8080\r\n" + test::upgrade_request("/who"))));
}

TEST_F(ClientAddress, ReleasedUnderTheClientsAddressWhenClosed) {
  config_.server.proxy_protocol = true;
  int c = connect_from("127.0.0.1");
  ASSERT_TRUE(upgraded(exchange(c, "PROXY TCP4 203.0.113.7 127.0.0.1 1 2\r\n" + test::upgrade_request("/who"))));
  EXPECT_EQ(shared_.ip_limiter->tracked(), 1u);
  hang_up(c);
  expect_reaped();
  int again = connect_from("127.0.0.1");
  EXPECT_TRUE(upgraded(exchange(again, "PROXY TCP4 203.0.113.7 127.0.0.1 3 4\r\n" + test::upgrade_request("/who"))));
}

TEST_F(ClientAddress, MalformedProxyHeaderClosesOnlyItsConnectionCounted) {
  config_.server.proxy_protocol = true;
  const int good = connect_from("127.0.0.1");
  ASSERT_TRUE(upgraded(exchange(good, "PROXY TCP4 203.0.113.7 127.0.0.1 1 2\r\n" + test::upgrade_request("/who"))));
  for (const std::string bad : {std::string("GET /who HTTP/1.1\r\n"), std::string("PROXY TCP4 999.0.0.1 127.0.0.1 1 2\r\n"),
                                std::string("PROXY TCP9 x\r\n"), std::string("\r\n\r\n\0\r\nQUIT\n\x11\x11\x00\x0c", 16)}) {
    const int c = connect_from("127.0.0.1");
    write(c, bad);
    settle();
    bool closed = false;
    EXPECT_EQ(read_all(c, &closed), "") << "no answer a proxy would misread";
    EXPECT_TRUE(closed);
  }
  EXPECT_EQ(ctx_->metrics().handshake_failures(metrics::HandshakeFailure::proxy_header).get(), 4u);
  EXPECT_EQ(seen_address(good), "203.0.113.7:1");  // the established connection never noticed
  EXPECT_EQ(shared_.ip_limiter->tracked(), 1u);    // the closed ones were never counted
}

TEST_F(ClientAddress, UntrustedPeerOnAProxyProtocolServerSendsNoHeader) {
  config_.server.proxy_protocol = true;
  // A direct client is served as it is; a PROXY line from it is not HTTP, so it is a bad request.
  const int direct = connect_from("192.0.2.50");
  EXPECT_TRUE(exchange(direct, "PROXY TCP4 203.0.113.7 127.0.0.1 1 2\r\n\r\n").starts_with("HTTP/1.1 400"));
  const int direct2 = connect_from("192.0.2.51");
  ASSERT_TRUE(upgraded(exchange(direct2, test::upgrade_request("/who"))));
  EXPECT_EQ(seen_address(direct2), "192.0.2.51:50000");
}

TEST_F(ClientAddress, LocalCommandAndUnknownKeepTheProxyWhoseXffThenCounts) {
  config_.server.proxy_protocol = true;
  const int c = connect_from("127.0.0.1");
  ASSERT_TRUE(upgraded(exchange(c, "PROXY UNKNOWN\r\n" + upgrade_with("X-Forwarded-For: 203.0.113.9\r\n"))));
  EXPECT_EQ(seen_address(c), "203.0.113.9:0");
}

}  // namespace
}  // namespace capstan::app
