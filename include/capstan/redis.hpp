// An asynchronous Redis client on a loop: hiredis driven through capstan::Watch, so a
// component (or the server's cluster link) talks to Redis without a thread of its own and
// without ever blocking its loop. Lost or refused connections are retried with backoff (0.1 s
// doubling to 5 s); `on_connected` runs after every (re)connection, so a subscriber subscribes
// again there. Replies are hiredis' own (`#include <hiredis/hiredis.h>` to read them); a reply
// callback gets null when the connection ended before the reply came.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "capstan/error.hpp"
#include "capstan/loop.hpp"

struct redisReply;  // hiredis

namespace capstan {

class RedisClient {
 public:
  using Reply = std::function<void(redisReply* reply)>;

  // `url`: "redis://host:port" or "host:port" (6379 when left out). Connects on start().
  // `name` tells its log lines apart. Use it on `loop`'s thread only.
  RedisClient(Loop& loop, std::string_view url, std::string name, std::function<void()> on_connected = {},
              std::function<void(std::string_view why)> on_lost = {});
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Error: the URL is not one (the caller checks before start()).
  static Status check_url(std::string_view url);
  void start();
  bool connected() const noexcept;
  // Queues a command; false when not connected (nothing is queued then). `reply` runs for
  // each reply: once for a command, for every message of a SUBSCRIBE, until the connection ends.
  bool command(const std::vector<std::string_view>& argv, Reply reply = {});

 private:
  class Link;
  std::unique_ptr<Link> link_;
};

}  // namespace capstan
