// A minimal blocking WebSocket client for in-process tests of the public API: enough to send
// an upgrade request, masked text frames, and read short server frames.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <utility>

namespace capstan::test {

class Client {
 public:
  // `rcvbuf` > 0: a small receive buffer, for a client that reads slowly.
  explicit Client(uint16_t port, int rcvbuf = 0, int timeout_seconds = 5) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{timeout_seconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }
  ~Client() { ::close(fd_); }
  int fd() const noexcept { return fd_; }
  // Reads and discards up to `n` bytes; stops early at a close or the receive timeout.
  size_t drain(size_t n) {
    char buf[16384];
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    return got;
  }
  void write(const std::string& s) {
    const ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
    if (!lenient) {
      ASSERT_EQ(n, static_cast<ssize_t>(s.size()));
    }
  }
  bool lenient = false;  // writes may fail (a server that is allowed to drop this client)
  std::string read_head() {
    std::string head;
    char ch;
    while (head.find("\r\n\r\n") == std::string::npos && ::recv(fd_, &ch, 1, 0) == 1) head.push_back(ch);
    return head;
  }
  void send_text(const std::string& payload) { send_frame(1, payload); }
  // One masked, final frame with a payload under 126 bytes.
  void send_frame(int opcode, const std::string& payload) {
    std::string f{static_cast<char>(0x80 | opcode), static_cast<char>(0x80 | payload.size())};
    const char mask[4] = {1, 2, 3, 4};
    f.append(mask, 4);
    for (size_t i = 0; i < payload.size(); ++i) f.push_back(static_cast<char>(payload[i] ^ mask[i & 3]));
    write(f);
  }
  // Returns (opcode, payload) of the next frame (server frames are unmasked, under 64 KiB).
  std::pair<int, std::string> read_frame() {
    unsigned char h[2];
    if (!read_exact(h, 2)) return {-1, ""};
    size_t size = h[1] & 0x7F;
    if (size == 126) {
      unsigned char ext[2];
      if (!read_exact(ext, 2)) return {-1, ""};
      size = (size_t{ext[0]} << 8) | ext[1];
    }
    std::string payload(size, '\0');
    if (!payload.empty() && !read_exact(reinterpret_cast<unsigned char*>(payload.data()), payload.size())) return {-1, ""};
    return {h[0] & 0x0F, payload};
  }

 private:
  bool read_exact(unsigned char* p, size_t n) {
    for (size_t got = 0; got < n;) {
      ssize_t r = ::recv(fd_, p + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<size_t>(r);
    }
    return true;
  }
  int fd_;
};

// A server name of its own for an in-process test: ctest runs tests in parallel processes,
// and servers of one name may not run at once (their state files would clash).
inline std::string unique_server_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string("unit-") + info->test_suite_name() + "-" + info->name() + "-" + std::to_string(::getpid());
}

// Upgrades `client` on `target` and checks the 101.
inline void upgrade(Client& client, const std::string& target, const std::string& extra_headers = {}) {
  client.write("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + extra_headers + "\r\n");
  const std::string head = client.read_head();
  EXPECT_NE(head.find("101 Switching Protocols"), std::string::npos) << head;
}

template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 500 && !pred(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return pred();
}

}  // namespace capstan::test
