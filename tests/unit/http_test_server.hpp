// A small real HTTP/1.1 server on 127.0.0.1 for the HTTP client's tests: a thread accepting on
// an ephemeral port and a thread per connection, each reading requests (a head, then a body of
// Content-Length bytes) and handing them to the test's handler, which writes whatever answer
// the test wants (or none) on the raw socket. Connections are kept alive for as long as the
// handler says so. Every wait is cut short when the server is destroyed, so a handler that
// "delays 2 s" never holds a test up past its end.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace capstan::test {

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class HttpTestServer {
 public:
  // Answers `request` on `fd`; returns whether to keep reading requests on the connection.
  using Handler = std::function<bool(HttpTestServer& server, int fd, const ReceivedRequest& request)>;

  explicit HttpTestServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 128) != 0) return;
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) return;
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~HttpTestServer() {
    stopping_ = true;
    if (stop_pipe_[1] >= 0) ::close(stop_pipe_[1]);  // every poll on the read end wakes up
    if (acceptor_.joinable()) acceptor_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(connections_);
    }
    for (auto& t : threads) t.join();
    if (stop_pipe_[0] >= 0) ::close(stop_pipe_[0]);
    ::close(listen_fd_);
  }

  uint16_t port() const noexcept { return port_; }
  std::string url(std::string_view path = "/") const { return "http://127.0.0.1:" + std::to_string(port_) + std::string(path); }
  int accepted() const noexcept { return accepted_.load(); }
  int requests() const noexcept { return requests_.load(); }
  ReceivedRequest last_request() const {
    std::lock_guard lock(mutex_);
    return last_;
  }

  // Waits `ms`, or less when the server is being destroyed; false then.
  bool pause(int ms) const {
    pollfd p{stop_pipe_[0], POLLIN, 0};
    return ::poll(&p, 1, ms) == 0;
  }
  // Writes all of `bytes` (false when the client went away or the server stops).
  bool send_all(int fd, std::string_view bytes) const {
    while (!bytes.empty()) {
      pollfd p[2] = {{fd, POLLOUT, 0}, {stop_pipe_[0], POLLIN, 0}};
      if (::poll(p, 2, 5000) <= 0 || p[1].revents) return false;
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // A whole answer with Content-Length.
  bool answer(int fd, int status, std::string_view body, std::string_view extra_headers = "") const {
    std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
                      std::string(extra_headers) + "\r\n";
    out += body;
    return send_all(fd, out);
  }

 private:
  void accept_loop() {
    for (;;) {
      pollfd p[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
      if (::poll(p, 2, -1) < 0 && errno != EINTR) return;
      if (p[1].revents || stopping_) return;
      if (!(p[0].revents & POLLIN)) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++accepted_;
      std::lock_guard lock(mutex_);
      connections_.emplace_back([this, fd] {
        serve(fd);
        ::close(fd);
      });
    }
  }

  // Reads into `buffer` until `enough`; false at end of file, an error or the server's end.
  bool read_until(int fd, std::string& buffer, const std::function<bool()>& enough) const {
    char chunk[65536];
    while (!enough()) {
      pollfd p[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
      if (::poll(p, 2, 5000) <= 0 || p[1].revents) return false;
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(n));
    }
    return true;
  }

  void serve(int fd) {
    std::string buffer;
    for (;;) {
      if (!read_until(fd, buffer, [&] { return buffer.find("\r\n\r\n") != std::string::npos; })) return;
      const size_t head_end = buffer.find("\r\n\r\n");
      ReceivedRequest r;
      std::string_view head(buffer.data(), head_end);
      size_t line_end = head.find("\r\n");
      std::string_view request_line = head.substr(0, line_end);
      const size_t sp1 = request_line.find(' ');
      const size_t sp2 = request_line.find(' ', sp1 + 1);
      r.method = std::string(request_line.substr(0, sp1));
      r.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
      while (line_end != std::string_view::npos && line_end < head.size()) {
        const size_t next = head.find("\r\n", line_end + 2);
        std::string_view line = head.substr(line_end + 2, next == std::string_view::npos ? std::string_view::npos : next - line_end - 2);
        line_end = next;
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string name(line.substr(0, colon));
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        r.headers[name] = std::string(value);
      }
      size_t length = 0;
      if (auto it = r.headers.find("content-length"); it != r.headers.end()) length = std::stoul(it->second);
      const size_t body_start = head_end + 4;
      if (!read_until(fd, buffer, [&] { return buffer.size() >= body_start + length; })) return;
      r.body = buffer.substr(body_start, length);
      buffer.erase(0, body_start + length);
      ++requests_;
      {
        std::lock_guard lock(mutex_);
        last_ = r;
      }
      if (!handler_(*this, fd, r)) return;
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> requests_{0};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::vector<std::thread> connections_;  // guarded by mutex_
  ReceivedRequest last_;                  // guarded by mutex_
};

}  // namespace capstan::test
