// The server's link to the other nodes (SPEC section 4, [cluster] redis): one Redis channel
// that every node publishes to and subscribes to, through two hiredis connections on loop 0.
// Publications of any loop to topics and to topic families (TopicRelay) are framed with this
// node's id, posted to loop 0 and PUBLISHed; what arrives from other nodes is posted to every
// loop, which sends it to its own subscribers or members as a publication of its own loop's.
//
// Order: what one loop sends reaches Redis in that order (posts to loop 0 are FIFO, one
// connection publishes), and Redis delivers one connection's publications in order, so every
// node sees one loop's publications (topics' and families' alike) in publish order.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "app/topics/loop_topics.hpp"
#include "capstan/cluster.hpp"
#include "capstan/redis.hpp"

namespace capstan::net {
class EventLoop;
}

namespace capstan::cluster {

class ClusterBus final : public Cluster, public app::TopicRelay {
 public:
  ClusterBus(std::string url, std::string channel);
  ~ClusterBus();

  // Once the loops exist: loop 0 carries the Redis links; `ring` reaches every loop's topics.
  // start() runs on loop 0.
  void attach(net::EventLoop& home, app::TopicRing& ring);
  void start();
  void stop();  // on loop 0, before the loops go

  bool connected() const noexcept override { return connected_.load(std::memory_order_relaxed); }
  std::string_view redis_url() const noexcept override { return url_; }
  std::string_view node_id() const noexcept override { return node_; }
  std::string_view key_prefix() const noexcept override { return channel_; }
  void relay_topic(std::string_view topic, std::string_view data, Opcode opcode) override;
  void relay_members(std::string_view family, std::span<const std::string> keys, std::string_view data,
                     Opcode opcode) override;

 private:
  void send(std::string message);  // any thread
  void received(std::string_view message);
  void deliver_topic(std::string_view topic, std::string_view data, Opcode opcode);
  void deliver_members(std::string_view family, std::span<const std::string_view> keys, std::string_view data,
                       Opcode opcode);

  std::string url_;
  std::string channel_;
  std::string node_;  // this node's id, on every message it sends
  net::EventLoop* home_ = nullptr;
  app::TopicRing* ring_ = nullptr;
  std::unique_ptr<RedisClient> publisher_;
  std::unique_ptr<RedisClient> subscriber_;
  std::atomic<bool> connected_{false};
};

}  // namespace capstan::cluster
