// The `pubsub` route keys (SPEC section 9), declared like any component type's
// (capstan/route_keys.hpp), and read into the options a route's instances share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "capstan/config.hpp"
#include "capstan/route_keys.hpp"
#include "capstan/types.hpp"

namespace capstan::pubsub {

// `[[routes.channels]]`: options for the channels a pattern matches; the first match applies.
struct ChannelRule {
  std::string pattern;
  bool presence = false;
  uint32_t history_size = 0;  // publications kept; 0: no history
  Duration history_ttl{0};    // how long one is kept; 0: until pushed out by history_size
};

struct PubsubOptions {
  std::string channels_claim;   // JWT claim listing allowed patterns; empty: any channel
  bool client_publish = true;   // false: only the publish API publishes
  bool data_as_string = true;   // `data` sent as a string holding JSON, as notify sends it
  uint32_t max_channels_per_connection = 128;
  uint32_t max_subscribers_per_channel = 0;  // 0: no limit
  std::vector<ChannelRule> channels;

  // The rule of `channel`, or null: no presence, no history.
  const ChannelRule* rule_for(std::string_view channel) const noexcept;
};

std::vector<KeyDecl> pubsub_keys();
std::vector<ConfigFault> check_pubsub_keys(const RouteKeys& keys);
PubsubOptions pubsub_options(const RouteKeys& keys);

}  // namespace capstan::pubsub
