#include "components/pubsub/pubsub_component.hpp"

#include <algorithm>
#include <charconv>

#include "capstan/log.hpp"
#include "capstan/metrics.hpp"
#include "components/pubsub/channel_names.hpp"

namespace capstan::pubsub {

namespace {

Counter& refused(std::string_view reason) {
  return counter("capstan_pubsub_refused_total", "pubsub requests refused, by reason", {{"reason", std::string(reason)}});
}

struct Counters {
  Counter& channel_limit = refused("channel_limit");
  Counter& subscriber_limit = refused("subscriber_limit");
  Counter& unauthorized = refused("unauthorized");
  Counter& invalid_channel = refused("invalid_channel");
  Counter& client_publish = refused("client_publish");
  Counter& published = counter("capstan_pubsub_publications_total", "publications to pubsub channels");
};

Counters& counters() {
  static Counters c;
  return c;
}

}  // namespace

void write_user_id(JsonWriter& w, std::string_view id) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
  if (ec == std::errc() && end == id.data() + id.size() && !id.empty()) w.integer(n);
  else w.string(id);
}

std::string user_key(const Connection& c) {
  const User* u = c.user();
  if (!u) return {};
  return u->id ? std::to_string(u->id) : u->identity;
}

void PubsubComponent::on_start() {
  counters();  // registered before the first scrape, at 0
  if (route_->instances.size() <= loop().index()) route_->instances.resize(loop().index() + 1);
  route_->instances[loop().index()] = this;
  if (loop().index() == 0) {
    std::shared_ptr<PubsubRoute> route = route_;
    loop().every(Duration(30'000), [route] { route->registry.sweep(Clock::now()); });
  }
  if (cluster()) start_cluster();
}

PubsubComponent::Member& PubsubComponent::member(Connection& c) {
  if (Member* m = c.data<Member>()) return *m;
  by_id_[c.id()] = &c;
  return c.emplace_data<Member>();
}

void PubsubComponent::on_message(Connection& c, Message m) {
  Expected<Json> doc = parser_.parse(m.data);
  if (!doc || doc->type() != Json::Type::object) return fatal(c, "Invalid message: a JSON object {action, data} is expected");
  const std::optional<std::string_view> action = (*doc)["action"].as_string();
  if (!action) return fatal(c, "Invalid message: missing action");
  Json data = (*doc)["data"];
  if (auto text = data.as_string()) {  // data as a string holding JSON, as the tutorial's client sends it
    Expected<Json> inner = data_parser_.parse(*text);
    if (!inner) return fatal(c, "Invalid message: data is a string that holds no JSON");
    data = *inner;
  }
  if (*action == "subscribe") return subscribe(c, data);
  if (*action == "unsubscribe") return unsubscribe(c, data);
  if (*action == "publish") return publish(c, data);
  if (*action == "presence") return presence(c, data);
  error(c, "Unknown action: subscribe, unsubscribe, publish or presence");
}

std::string_view PubsubComponent::usable_channel(Connection& c, const Json& data) {
  const std::optional<std::string_view> channel = data["channel"].as_string();
  if (!channel) {
    error(c, "channel: a channel name is required", &counters().invalid_channel);
    return {};
  }
  if (std::string_view why = channel_name_fault(*channel); !why.empty()) {
    error(c, why, &counters().invalid_channel);
    return {};
  }
  if (!allowed(c, *channel)) {
    error(c, "Not allowed on channel " + std::string(*channel), &counters().unauthorized);
    return {};
  }
  return *channel;
}

bool PubsubComponent::allowed(Connection& c, std::string_view channel) {
  const std::string& claim = route_->options.channels_claim;
  if (claim.empty()) return true;
  Member& m = member(c);
  if (!m.patterns_read) {
    m.patterns_read = true;
    const User* u = c.user();
    Expected<Json> claims = u ? claims_parser_.parse(u->claims) : Expected<Json>(Json());
    Json listed = claims ? (*claims)[claim] : Json();
    const std::string id = u ? (u->id ? std::to_string(u->id) : u->identity) : "";
    auto add = [&](const Json& v) {
      if (auto p = v.as_string()) m.patterns.push_back(with_user_id(*p, id));
    };
    if (listed.type() == Json::Type::array)
      for (size_t i = 0; i < listed.size(); ++i) add(listed[i]);
    else add(listed);
  }
  return std::any_of(m.patterns.begin(), m.patterns.end(), [&](const std::string& p) { return glob_matches(p, channel); });
}

void PubsubComponent::subscribe(Connection& c, const Json& data) {
  const std::string_view channel = usable_channel(c, data);
  if (channel.empty()) return;
  Member& m = member(c);
  if (std::find(m.channels.begin(), m.channels.end(), channel) != m.channels.end())
    return error(c, "Already subscribed to " + std::string(channel));
  if (m.channels.size() + m.pending.size() >= route_->options.max_channels_per_connection)
    return error(c, "Too many channels: at most " + std::to_string(route_->options.max_channels_per_connection) + " per connection",
                 &counters().channel_limit);
  std::optional<Since> since;
  if (Json s = data["since"]; s.exists()) {
    auto offset = s["offset"].as_int();
    auto epoch = s["epoch"].as_string();
    if (!offset || *offset < 0 || !epoch) return error(c, "since: {\"offset\": an integer, \"epoch\": a string} is expected");
    since = Since{static_cast<uint64_t>(*offset), std::string(*epoch)};
  }
  if (std::find(m.pending.begin(), m.pending.end(), channel) != m.pending.end())
    return error(c, "Already subscribed to " + std::string(channel));
  if (const ChannelRule* rule = route_->options.rule_for(channel); in_redis(rule)) return cluster_subscribe(c, channel, *rule, since);
  const std::string key = user_key(c);
  Joined joined = route_->registry.join(channel, key, c.user() ? std::string_view(c.user()->identity) : "", since, Clock::now());
  if (!joined.refusal.empty()) return error(c, joined.refusal, &counters().subscriber_limit);
  // After the offset read under the registry's lock: what was numbered up to it came in
  // `missed` (or is history the client did not ask for), what comes later arrives live.
  topics().subscribe(c, topic(channel), joined.history ? joined.offset : 0);
  m.channels.emplace_back(channel);

  std::string ack;
  JsonWriter w(ack);
  w.raw("{").string("channel").raw(":").string(channel);
  if (joined.history) {
    w.raw(",").string("offset").raw(":").integer(static_cast<int64_t>(joined.offset));
    w.raw(",").string("epoch").raw(":").string(joined.epoch);
    if (since) w.raw(",").string("recovered").raw(":").raw(joined.recovered ? "true" : "false");
  }
  w.raw("}");
  reply(c, "subscribed", ack);
  for (const std::string& frame : joined.missed) c.send_text(frame);
  if (joined.first_of_user) topics().publish(topic(channel), presence_event("joined", channel, c));
}

void PubsubComponent::unsubscribe(Connection& c, const Json& data) {
  const std::optional<std::string_view> channel = data["channel"].as_string();
  Member* m = c.data<Member>();
  if (m && channel) {
    // Still waiting for its history: the answer will find it gone.
    if (auto p = std::find(m->pending.begin(), m->pending.end(), *channel); p != m->pending.end()) {
      route_->registry.leave(*p, "");
      std::string ack;
      JsonWriter(ack).raw("{").string("channel").raw(":").string(*p).raw("}");
      m->pending.erase(p);
      return reply(c, "unsubscribed", ack);
    }
  }
  auto it = m && channel ? std::find(m->channels.begin(), m->channels.end(), *channel) : std::vector<std::string>::iterator();
  if (!m || !channel || it == m->channels.end()) return error(c, "Not subscribed to " + std::string(channel.value_or("that channel")));
  const std::string name = std::move(*it);
  m->channels.erase(it);
  topics().unsubscribe(c, topic(name));
  const std::string who = user_key(c);
  if (route_->registry.leave(name, who)) topics().publish(topic(name), presence_event("left", name, c));
  if (const ChannelRule* rule = route_->options.rule_for(name); redis_ && rule && rule->presence)
    cluster_leave(name, who, c.user() ? c.user()->identity : "");
  std::string ack;
  JsonWriter(ack).raw("{").string("channel").raw(":").string(name).raw("}");
  reply(c, "unsubscribed", ack);
}

void PubsubComponent::publish(Connection& c, const Json& data) {
  if (!route_->options.client_publish)
    return error(c, "Publishing is reserved to the server on this route", &counters().client_publish);
  const std::string_view channel = usable_channel(c, data);
  if (channel.empty()) return;
  const Json message = data["message"];
  if (!message.exists()) return error(c, "message: required (any JSON value)");
  if (const ChannelRule* rule = route_->options.rule_for(channel); rule && rule->history_size && in_redis(rule)) {
    std::string text;
    JsonWriter(text).value(message);
    if (cluster_publish(channel, text, nullptr)) return counters().published.add();
  }
  const std::string name = topic(channel);
  route_->registry.publish(
      channel, [&](uint64_t offset, std::string_view epoch) { return message_frame(channel, message, offset, epoch); },
      [&](const std::string& frame, uint64_t offset) { topics().publish(name, frame, Opcode::text, offset); }, Clock::now());
  counters().published.add();
}

void PubsubComponent::on_publish(const Publication& p, PublishDone done) {
  auto bad = [](std::string why) { return Error(std::make_error_code(std::errc::invalid_argument), std::move(why)); };
  if (p.channel.empty()) return done(bad("a pubsub route publishes to a channel: give `channel`"));
  if (std::string_view why = channel_name_fault(p.channel); !why.empty()) return done(bad(std::string(why)));
  if (p.restricted && route_->options.channels_claim.empty())
    return done(bad("a private update needs a route whose channels are authorized by name (channels_claim)"));
  Expected<Json> message = data_parser_.parse(p.data);
  if (!message) return done(bad("data: " + message.error().message()));
  if (const ChannelRule* rule = route_->options.rule_for(p.channel); rule && rule->history_size && in_redis(rule)) {
    // Numbered in Redis, which every node (this one too) delivers from.
    std::string text;
    JsonWriter(text).value(*message);
    if (cluster_publish(p.channel, text, done)) return counters().published.add();
  }
  const std::string name = topic(p.channel);
  route_->registry.publish(
      p.channel, [&](uint64_t offset, std::string_view epoch) { return message_frame(p.channel, *message, offset, epoch); },
      [&](const std::string& frame, uint64_t offset) {
        topics().publish_counted(name, frame, Opcode::text, offset, [done](size_t n) { done(n); });
      },
      Clock::now());
  counters().published.add();
}

void PubsubComponent::presence(Connection& c, const Json& data) {
  const std::string_view channel = usable_channel(c, data);
  if (channel.empty()) return;
  const ChannelRule* rule = route_->options.rule_for(channel);
  if (!rule || !rule->presence) return error(c, "No presence on channel " + std::string(channel));
  if (in_redis(rule)) return cluster_presence(c, std::string(channel));
  std::string out;
  JsonWriter w(out);
  w.raw("{").string("channel").raw(":").string(channel).raw(",").string("users").raw(":[");
  bool first = true;
  for (const Present& p : route_->registry.presence(channel)) {
    if (!first) w.raw(",");
    first = false;
    w.raw("{").string("id").raw(":");
    write_user_id(w, p.user_id);
    w.raw(",").string("identity").raw(":").string(p.identity);
    w.raw(",").string("connections").raw(":").integer(p.connections).raw("}");
  }
  w.raw("]}");
  reply(c, "presence", out);
}

void PubsubComponent::on_close(Connection& c, CloseInfo) {
  Member* m = c.data<Member>();
  if (!m) return;
  by_id_.erase(c.id());
  const std::string key = user_key(c);
  for (const std::string& channel : m->pending) route_->registry.leave(channel, "");
  for (const std::string& channel : m->channels) {
    if (route_->registry.leave(channel, key)) topics().publish(topic(channel), presence_event("left", channel, c));
    if (const ChannelRule* rule = route_->options.rule_for(channel); redis_ && rule && rule->presence)
      cluster_leave(channel, key, c.user() ? c.user()->identity : "");
  }
}

void PubsubComponent::on_rate_limited(Connection& c, Message) { error(c, "Too many messages: slow down"); }

std::string PubsubComponent::message_frame(std::string_view channel, const Json& message, uint64_t offset,
                                           std::string_view epoch) const {
  const bool as_string = route_->options.data_as_string;
  std::string f = as_string ? "{\"action\":\"message\",\"data\":\"" : "{\"action\":\"message\",\"data\":";
  JsonWriter w(f, as_string);
  w.raw("{").string("channel").raw(":").string(channel).raw(",").string("message").raw(":").value(message);
  if (offset) {
    w.raw(",").string("offset").raw(":").integer(static_cast<int64_t>(offset));
    w.raw(",").string("epoch").raw(":").string(epoch);
  }
  w.raw("}");
  f += as_string ? "\"}" : "}";
  return f;
}

std::string PubsubComponent::presence_event(std::string_view action, std::string_view channel, const Connection& c) const {
  const User* u = c.user();
  return presence_event(action, channel, user_key(c), u ? std::string_view(u->identity) : "");
}

std::string PubsubComponent::presence_event(std::string_view action, std::string_view channel, std::string_view user,
                                            std::string_view identity) const {
  std::string data;
  JsonWriter w(data);
  w.raw("{").string("channel").raw(":").string(channel).raw(",").string("user").raw(":{").string("id").raw(":");
  write_user_id(w, user);
  w.raw(",").string("identity").raw(":").string(identity).raw("}}");
  return envelope(action, data);
}

std::string PubsubComponent::envelope(std::string_view action, const std::string& data_json) const {
  std::string frame;
  JsonWriter(frame).raw("{").string("action").raw(":").string(action).raw(",").string("data").raw(":");
  if (route_->options.data_as_string) JsonWriter(frame).string(data_json);
  else frame += data_json;
  frame += '}';
  return frame;
}

void PubsubComponent::reply(Connection& to, std::string_view action, const std::string& data_json) {
  to.send_text(envelope(action, data_json));
}

void PubsubComponent::error(Connection& to, std::string_view message, Counter* count) {
  if (count) count->add();
  std::string data;
  JsonWriter(data).raw("{").string("message").raw(":").string(message).raw("}");
  reply(to, "error", data);
}

void PubsubComponent::fatal(Connection& to, std::string_view message) {
  std::string data;
  JsonWriter(data).raw("{").string("message").raw(":").string(message).raw("}");
  reply(to, "fatalError", data);
  log::info("fatalError", {{"reason", message}, {"remote", to.remote_address()}});
  to.close(close_code::normal, message.substr(0, 120));
}

}  // namespace capstan::pubsub
