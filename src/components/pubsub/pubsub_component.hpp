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
#include <string>
#include <string_view>

#include "capstan/component.hpp"
#include "capstan/json.hpp"
#include "capstan/metrics.hpp"
#include "components/pubsub/channel_registry.hpp"

namespace capstan::pubsub {

// What every instance of one route shares.
struct PubsubRoute {
  PubsubOptions options;
  ChannelRegistry registry{options};
  std::string topic_prefix;  // topic = prefix + channel: the route's channels apart from any other's
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
  struct Member;

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
  void reply(Connection& to, std::string_view action, const std::string& data_json);
  void error(Connection& to, std::string_view message, Counter* count = nullptr);
  void fatal(Connection& to, std::string_view message);

  std::shared_ptr<PubsubRoute> route_;
  JsonParser parser_;       // the client's message
  JsonParser data_parser_;  // `data` sent as a string holding JSON
  JsonParser claims_parser_;
};

}  // namespace capstan::pubsub
