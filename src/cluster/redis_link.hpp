// capstan::RedisClient's inside (capstan/redis.hpp): one hiredis asynchronous connection,
// driven by a loop through capstan::Watch (the adapter hiredis asks of an event library).
#pragma once

#include <hiredis/async.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "capstan/loop.hpp"
#include "capstan/watch.hpp"
#include "cluster/redis_address.hpp"

namespace capstan::cluster {

class RedisLink {
 public:
  using Reply = std::function<void(redisReply* reply)>;  // null reply: the connection went away

  RedisLink(Loop& loop, RedisAddress address, std::string name, std::function<void()> on_connected,
            std::function<void(std::string_view why)> on_lost);
  ~RedisLink();
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  void start();
  bool connected() const noexcept { return connected_; }
  // Queues a command; false when not connected. `reply` runs for each reply (a subscription's
  // every message) until the connection ends.
  bool command(const std::vector<std::string_view>& argv, Reply reply = {});

 private:
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);
  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
  void connect();
  void lost(std::string_view why);
  void attach();

  Loop& loop_;
  RedisAddress address_;
  std::string name_;
  std::function<void()> on_connected_;
  std::function<void(std::string_view)> on_lost_;
  redisAsyncContext* ac_ = nullptr;
  Watch watch_;
  bool connected_ = false;
  bool stopping_ = false;
  uint32_t backoff_ms_ = 100;
  TimerId retry_ = 0;
  std::vector<std::unique_ptr<Reply>> replies_;  // alive as long as the connection
};

}  // namespace capstan::cluster
