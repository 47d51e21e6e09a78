// Many nodes: what one server shares with the others through Redis pub/sub ([cluster] redis).
// Topics need nothing from a component: a publication to a topic, or to members of a topic
// family (capstan/topics.hpp), reaches its connections on every node by itself. A component
// that keeps state of its own across nodes does it in Redis (redis_url, key_prefix).
//
// A node alone (no cluster.redis) has no Cluster: Component::cluster() is null. While Redis
// is unreachable a node serves its own clients as before; what it would have sent to the
// others is dropped and counted (/metrics), and it reconnects with backoff.
#pragma once

#include <string_view>

#include "capstan/component.hpp"

namespace capstan {

class Cluster {
 public:
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // True while this node's link to Redis is up.
  virtual bool connected() const noexcept = 0;
  // The Redis the nodes share ([cluster] redis), for a component that keeps state there with
  // a RedisClient of its own (capstan/redis.hpp): pubsub's history and presence.
  virtual std::string_view redis_url() const noexcept = 0;
  // This node's id: unique among the nodes, stable while the server runs.
  virtual std::string_view node_id() const noexcept = 0;
  // The prefix of every Redis key and channel of this cluster ([cluster] channel).
  virtual std::string_view key_prefix() const noexcept = 0;

 protected:
  Cluster() = default;
  ~Cluster() = default;
};

}  // namespace capstan
