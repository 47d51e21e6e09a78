// An in-memory transport for the connection tests: a LoopContext of its own (no Server, no
// listener, no thread), driven one loop turn at a time, and AF_UNIX socketpairs whose far
// ends the test writes clients' bytes into and reads the server's from. The lifecycle and
// output-path tests build on it.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "app/connection_impl.hpp"
#include "app/ip_limiter.hpp"
#include "app/loop_context.hpp"
#include "app/route.hpp"
#include "capstan/component.hpp"

namespace capstan::app::test {

inline std::string upgrade_request(std::string_view path) {
  return "GET " + std::string(path) +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

// A server frame as the test reads it back (servers do not mask).
struct ServerFrame {
  uint8_t opcode = 0;
  std::string payload;
};

inline std::vector<ServerFrame> parse_server_frames(std::string_view wire) {
  std::vector<ServerFrame> out;
  size_t pos = 0;
  auto byte = [&](size_t i) { return static_cast<uint8_t>(wire[i]); };
  while (pos + 2 <= wire.size()) {
    EXPECT_EQ(byte(pos + 1) & 0x80, 0) << "server frames are not masked";
    uint64_t length = byte(pos + 1) & 0x7F;
    size_t header = 2;
    if (length == 126) {
      if (pos + 4 > wire.size()) break;
      length = (byte(pos + 2) << 8) | byte(pos + 3);
      header = 4;
    } else if (length == 127) {
      if (pos + 10 > wire.size()) break;
      length = 0;
      for (size_t i = 0; i < 8; ++i) length = (length << 8) | byte(pos + 2 + i);
      header = 10;
    }
    if (pos + header + length > wire.size()) break;
    out.push_back({static_cast<uint8_t>(byte(pos) & 0x0F), std::string(wire.substr(pos + header, length))});
    pos += header + length;
  }
  EXPECT_EQ(pos, wire.size()) << "a partial frame";
  return out;
}

// The close code of a close frame's payload (0 when it has none).
inline uint16_t close_code_in(const ServerFrame& f) {
  return f.payload.size() < 2 ? 0 : static_cast<uint16_t>((static_cast<uint8_t>(f.payload[0]) << 8) | static_cast<uint8_t>(f.payload[1]));
}

class LoopHarness : public testing::Test {
 protected:
  LoopHarness() {
    config_.limits.max_connections = 100;
    shared_.config = &config_;
    shared_.ip_limiter = std::make_unique<IpLimiter>(100, 0);
  }
  void TearDown() override {
    more_loops_.clear();
    ctx_.reset();
    for (int fd : clients_)
      if (fd >= 0) ::close(fd);
  }
  void start(std::vector<RouteSpec> routes) {
    routes_ = std::move(routes);
    ctx_ = std::make_unique<LoopContext>(0, shared_, routes_);
  }

  // A new connection: the server's end adopted by the loop; returns the client's end. A
  // non-zero `server_send_buffer` shrinks the kernel's buffer, so a client that does not
  // read makes the server queue output soon.
  int connect(int server_send_buffer = 0, LoopContext* loop = nullptr) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    if (server_send_buffer) ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &server_send_buffer, sizeof server_send_buffer);
    clients_.push_back(fds[0]);
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_port = htons(static_cast<uint16_t>(40000 + clients_.size()));
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (loop ? *loop : *ctx_).adopt(fds[1], reinterpret_cast<const sockaddr*>(&peer));
    return fds[0];
  }
  // connect() and the handshake; the 101 is read and checked.
  int open_session(std::string_view path, int server_send_buffer = 0, LoopContext* loop = nullptr) {
    const int fd = connect(server_send_buffer, loop);
    write(fd, upgrade_request(path));
    settle();
    const std::string head = read_all(fd);
    EXPECT_NE(head.find("HTTP/1.1 101 Switching Protocols\r\n"), std::string::npos) << head;
    return fd;
  }
  static void write(int fd, std::string_view bytes) {
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }
  // A second (third...) loop of the same server, with the same routes: what crosses loops.
  LoopContext& add_loop() {
    more_loops_.push_back(std::make_unique<LoopContext>(static_cast<unsigned>(more_loops_.size() + 1), shared_, routes_));
    return *more_loops_.back();
  }
  // Turns every loop until none has anything left to do right now.
  void settle() {
    for (int i = 0; i < 8; ++i) {
      ctx_->loop().turn(0);
      for (auto& more : more_loops_) more->loop().turn(0);
    }
  }
  // What the server has written so far; `closed` tells whether it also hung up.
  static std::string read_all(int fd, bool* closed = nullptr) {
    std::string out;
    char buf[16384];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        out.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (closed) *closed = n == 0;
      break;
    }
    return out;
  }
  // Reads while turning the loop, until the server hangs up or `turns` pass: for output the
  // kernel cannot hold at once.
  std::string read_until_hung_up(int fd, int turns = 200) {
    std::string out;
    bool closed = false;
    for (int i = 0; i < turns && !closed; ++i) {
      out += read_all(fd, &closed);
      ctx_->loop().turn(0);
    }
    return out;
  }
  // The client closes its end (after the server's half-close, as a browser does).
  void hang_up(int& fd) {
    for (int& c : clients_)
      if (c == fd) c = -1;
    ::close(fd);
    fd = -1;
    settle();
  }
  // Every connection is gone and nothing of it is counted any more.
  void expect_reaped() {
    EXPECT_EQ(ctx_->connection_count(), 0u);
    EXPECT_EQ(shared_.connections.load(), 0u);
    EXPECT_EQ(shared_.ip_limiter->tracked(), 0u);
  }

  Config config_;
  ServerShared shared_;
  std::vector<RouteSpec> routes_;
  std::unique_ptr<LoopContext> ctx_;
  std::vector<std::unique_ptr<LoopContext>> more_loops_;
  std::vector<int> clients_;
};

}  // namespace capstan::app::test
