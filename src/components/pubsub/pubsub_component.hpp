// The `pubsub` component (SPEC sections 2 and 4): channels over the action protocol. One
// instance per loop; the route's instances share a ChannelRegistry (limits, presence, history)
// and reach each other's subscribers through the loops' Topics, so it uses nothing a user's
// component could not: the public API only.
//
//   → {"action":"subscribe","data":{"channel":"news","since":{"offset":41,"epoch":"…"}}}
//   ← {"action":"subscribed","data":"{\"channel\":\"news\",\"offset\":43,\"epoch\":\"…\",\"recovered\":true}"}
//   → {"action":"publish","data":{"channel":"news","message":{"text":"hi"}}}
//   ← {"action":"message","data":"{\"channel\":\"news\",\"message\":{\"text\":\"hi\"},\"offset\":44,\"epoch\":\"…\"}"}
//   → {"action":"presence","data":{"channel":"chat.1"}}   → {"action":"unsubscribe",...}
#pragma once

#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>
#include <string>
#include <string_view>

#include "capstan/component.hpp"
#include "capstan/json.hpp"
#include "capstan/metrics.hpp"
#include "capstan/redis.hpp"
#include "components/pubsub/channel_registry.hpp"

namespace capstan::pubsub {

class PubsubComponent;

// Who a connection is for presence: its user's id, else its identity; "" when anonymous.
std::string user_key(const Connection& c);
// A user key as JSON: a number when it is one, else a string.
void write_user_id(JsonWriter& w, std::string_view id);

// What every instance of one route shares.
struct PubsubRoute {
  PubsubOptions options;
  ChannelRegistry registry{options};
  std::string path;          // as configured (before the server prefix): Redis keys of the route
  std::string topic_prefix;  // topic = prefix + channel: the route's channels apart from any other's
  std::vector<PubsubComponent*> instances;  // by loop index, set in on_start (before any loop runs)
};

class PubsubComponent final : public Component {
 public:
  explicit PubsubComponent(std::shared_ptr<PubsubRoute> route) : route_(std::move(route)) {}

  void on_start() override;
  void on_message(Connection& c, Message message) override;
  void on_close(Connection& c, CloseInfo info) override;
  void on_rate_limited(Connection& c, Message message) override;
  // The publish API: `data` as the message of `channel`, on every loop; counted.
  void on_publish(const Publication& publication, PublishDone done) override;

 private:
  struct Member {
    std::vector<std::string> channels;
    std::vector<std::string> pending;   // subscribed in Redis, waiting for the history's answer
    std::vector<std::string> patterns;  // from channels_claim, {id} replaced
    bool patterns_read = false;
  };
  struct Recovery {
    uint64_t connection;
    std::string channel;
    bool since;
  };
  struct Tally;

  void subscribe(Connection& c, const Json& data);
  void unsubscribe(Connection& c, const Json& data);
  void publish(Connection& c, const Json& data);
  void presence(Connection& c, const Json& data);
  // The channel named by data.channel if it is valid and `c` may use it; else answers
  // `error` and returns "".
  std::string_view usable_channel(Connection& c, const Json& data);
  bool allowed(Connection& c, std::string_view channel);
  Member& member(Connection& c);

  std::string topic(std::string_view channel) const { return route_->topic_prefix + std::string(channel); }
  std::string message_frame(std::string_view channel, const Json& message, uint64_t offset, std::string_view epoch) const;
  std::string presence_event(std::string_view action, std::string_view channel, const Connection& c) const;
  std::string presence_event(std::string_view action, std::string_view channel, std::string_view user,
                             std::string_view identity) const;
  // {"action":ACTION,"data":DATA}, DATA (JSON text) as a string holding it when data_as_string.
  std::string envelope(std::string_view action, const std::string& data_json) const;
  void reply(Connection& to, std::string_view action, const std::string& data_json);
  void error(Connection& to, std::string_view message, Counter* count = nullptr);
  void fatal(Connection& to, std::string_view message);

  // pubsub_cluster.cpp: with [cluster] redis, history and presence live in Redis so every
  // node numbers a channel alike, recovers from one history and sees everyone present.
  bool in_redis(const ChannelRule* rule) const noexcept;
  void start_cluster();
  void cluster_subscribe(Connection& c, std::string_view channel, const ChannelRule& rule, const std::optional<Since>& since);
  void cluster_join(Connection& c, const std::string& channel);
  void cluster_leave(const std::string& channel, const std::string& user, const std::string& identity);
  // Numbered in Redis, delivered when the number comes back on the bus (every node in order);
  // false when Redis did not take it (the caller goes on locally).
  bool cluster_publish(std::string_view channel, const std::string& message_json, PublishDone done);
  void cluster_presence(Connection& c, const std::string& channel);
  void on_bus(std::string_view payload);  // loop 0
  using Missed = std::vector<std::pair<uint64_t, std::string>>;  // offset, message JSON
  void finish_recovery(uint64_t request, uint64_t offset, std::string epoch, bool recovered, Missed missed);
  void deliver_numbered(const std::string& channel, const std::shared_ptr<const std::string>& frame, uint64_t offset,
                        const std::shared_ptr<Tally>& tally);
  void fail_recoveries();
  std::string key(std::string_view kind, std::string_view channel) const;
  std::string frame_from_text(std::string_view channel, std::string_view message_json, uint64_t offset, std::string_view epoch);

  std::shared_ptr<PubsubRoute> route_;
  std::unique_ptr<RedisClient> redis_;  // this loop's commands, with a cluster
  std::unique_ptr<RedisClient> bus_;    // loop 0: numbered publications and history answers
  std::string bus_channel_;    // the route's Redis channel, every node's
  std::string node_channel_;   // this node's own, for history answers
  std::string alive_prefix_;   // + a node id: its heartbeat key
  std::unordered_map<uint64_t, Recovery> recoveries_;
  std::unordered_map<uint64_t, PublishDone> api_waiting_;  // publish API calls waiting for their count
  std::unordered_map<uint64_t, Connection*> by_id_;        // connections with a Member
  uint64_t next_request_ = 1;
  JsonParser parser_;       // the client's message
  JsonParser data_parser_;  // `data` sent as a string holding JSON
  JsonParser claims_parser_;
};

}  // namespace capstan::pubsub
