#include "components/pubsub/pubsub_keys.hpp"

#include "components/pubsub/channel_names.hpp"

namespace capstan::pubsub {

namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

std::vector<KeyDecl> channel_keys() {
  std::vector<KeyDecl> keys(4);
  keys[0] = {.name = "pattern", .default_text = "(required)", .help = "channels this table applies to; `*` matches any run of characters"};
  keys[1] = {.name = "presence", .type = KeyType::boolean, .default_text = "false",
             .help = "who is in the channel: the `presence` action, `joined` and `left` events"};
  keys[2] = {.name = "history_size", .type = KeyType::integer, .default_text = "0",
             .help = "publications kept for recovery (0: none); messages then carry offset and epoch"};
  keys[2].max = 100'000;
  keys[3] = {.name = "history_ttl", .type = KeyType::duration, .default_text = "\"0s\"",
             .help = "how long a kept publication stays; 0s: until history_size pushes it out"};
  keys[3].max = 7 * kDayMs;
  return keys;
}

}  // namespace

std::vector<KeyDecl> pubsub_keys() {
  std::vector<KeyDecl> keys(6);
  keys[0] = {.name = "channels_claim", .default_text = "\"\"",
             .help = "JWT claim listing the channel patterns a connection may use (`*`, `{id}`); empty: any channel"};
  keys[1] = {.name = "client_publish", .type = KeyType::boolean, .default_text = "true",
             .help = "clients may publish; false: only the publish API and the backend publish"};
  keys[2] = {.name = "data_as_string", .type = KeyType::boolean, .default_text = "true",
             .help = "`data` sent as a string holding JSON (as notify); false: as a JSON object"};
  keys[3] = {.name = "max_channels_per_connection", .type = KeyType::integer, .default_text = "128",
             .help = "subscriptions one connection may hold; then `error`"};
  keys[3].min = 1;
  keys[3].max = 1'000'000;
  keys[4] = {.name = "max_subscribers_per_channel", .type = KeyType::integer, .default_text = "0",
             .help = "subscribers of one channel on this server (0: no limit); then `error`"};
  keys[4].max = 100'000'000;
  keys[5] = {.name = "channels", .type = KeyType::tables, .default_text = "[]",
             .help = "Options by channel pattern (`[[routes.channels]]`); the first match applies.", .fields = channel_keys()};
  return keys;
}

std::vector<ConfigFault> check_pubsub_keys(const RouteKeys& keys) {
  std::vector<ConfigFault> faults;
  const auto tables = keys.tables("channels");
  for (size_t i = 0; i < tables.size(); ++i) {
    const std::string pattern = tables[i].text("pattern");
    const std::string at = "channels[" + std::to_string(i) + "].pattern";
    if (pattern.empty()) faults.push_back({ConfigError::missing, at, tables[i].line, "missing: every channels table has a pattern"});
    else if (std::string_view why = channel_name_fault(pattern); !why.empty())
      faults.push_back({ConfigError::invalid, at, tables[i].line_of("pattern"), std::string("a pattern is a channel name with `*`: ") + std::string(why)});
  }
  return faults;
}

PubsubOptions pubsub_options(const RouteKeys& keys) {
  PubsubOptions o;
  o.channels_claim = keys.text("channels_claim");
  o.client_publish = keys.boolean("client_publish", o.client_publish);
  o.data_as_string = keys.boolean("data_as_string", o.data_as_string);
  o.max_channels_per_connection = static_cast<uint32_t>(keys.integer("max_channels_per_connection", o.max_channels_per_connection));
  o.max_subscribers_per_channel = static_cast<uint32_t>(keys.integer("max_subscribers_per_channel", o.max_subscribers_per_channel));
  for (const RouteKeys& t : keys.tables("channels")) {
    ChannelRule rule;
    rule.pattern = t.text("pattern");
    rule.presence = t.boolean("presence", false);
    rule.history_size = static_cast<uint32_t>(t.integer("history_size", 0));
    rule.history_ttl = t.duration("history_ttl", Duration{0});
    o.channels.push_back(std::move(rule));
  }
  return o;
}

const ChannelRule* PubsubOptions::rule_for(std::string_view channel) const noexcept {
  for (const ChannelRule& r : channels)
    if (glob_matches(r.pattern, channel)) return &r;
  return nullptr;
}

}  // namespace capstan::pubsub
