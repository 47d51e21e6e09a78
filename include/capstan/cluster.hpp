// Many nodes: what one server shares with the others through Redis pub/sub ([cluster] redis).
// Topics need nothing from a component: a publication to a topic reaches its subscribers on
// every node by itself. What a component delivers by other means (a route's broadcast, its
// users' connections) it hands to the cluster as a Publication, and the route's component on
// every other node gets it through Component::on_publish.
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

  // `publication` for the route at `route_path` (as clients connect to it, the server prefix
  // included) on every other node; from any thread. Publications from one loop reach each node
  // in the order they were sent.
  virtual void publish_to_route(std::string_view route_path, const Publication& publication) = 0;
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
