// pubsub across nodes ([cluster] redis): a channel's history and presence live in Redis, so
// every node numbers it alike and sees everyone. Plain publications need nothing here: topics
// cross nodes by themselves.
//
// A numbered publication is one Lua script: the offset incremented, the message appended to
// the history (trimmed to history_size), and PUBLISHed on the route's bus channel, which every
// node's loop-0 instance subscribes to and delivers from (the publishing node too), so every
// node sends a channel's offsets in the order Redis numbered them.
//
// A subscribe to a channel with history asks a script for the offset, the epoch and what the
// client missed; the script PUBLISHes its answer on this node's own channel, on the same
// subscriber connection as the numbered publications. Redis keeps one connection's messages in
// order, so the answer arrives after every publication numbered before it was read and before
// every later one: the connection joins the topic after that offset (Topics::subscribe's
// `after`) and nothing is lost or doubled, as on one node.
//
// Presence: a hash per channel of "node|user" -> connections, and each node's heartbeat key;
// a node that died without saying goodbye stops counting once its heartbeat expires.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <charconv>

#include "capstan/cluster.hpp"
#include "capstan/log.hpp"
#include "components/pubsub/bus_messages.hpp"
#include "components/pubsub/pubsub_component.hpp"

namespace capstan::pubsub {

namespace {

// KEYS: offset, epoch, history. ARGV: message, history_size, ttl_ms, bus channel, new epoch,
// channel, origin node, request.
constexpr const char* kPublish = R"lua(
local offset = redis.call('INCR', KEYS[1])
local epoch = redis.call('GET', KEYS[2])
if not epoch then epoch = ARGV[5]; redis.call('SET', KEYS[2], epoch) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('RPUSH', KEYS[3], offset .. ' ' .. now .. ' ' .. ARGV[1])
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[2]), -1)
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl); redis.call('PEXPIRE', KEYS[2], ttl); redis.call('PEXPIRE', KEYS[3], ttl)
end
redis.call('PUBLISH', ARGV[4], 'N ' .. ARGV[7] .. ' ' .. ARGV[8] .. ' ' .. offset .. ' ' .. epoch .. ' ' .. ARGV[6] .. ' ' .. ARGV[1])
return offset
)lua";

// KEYS: offset, epoch, history. ARGV: since offset ("" for none), since epoch, reply channel,
// request, ttl_ms, new epoch.
constexpr const char* kRecover = R"lua(
local offset = tonumber(redis.call('GET', KEYS[1]) or '0')
local epoch = redis.call('GET', KEYS[2])
local ttl = tonumber(ARGV[5])
if not epoch then
  epoch = ARGV[6]; redis.call('SET', KEYS[2], epoch)
  if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
end
local out = {}
local recovered = '-'
if ARGV[1] ~= '' then
  local since = tonumber(ARGV[1])
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local oldest = offset + 1
  local kept = {}
  for _, e in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
    local s1 = string.find(e, ' ', 1, true)
    local s2 = string.find(e, ' ', s1 + 1, true)
    local o = tonumber(string.sub(e, 1, s1 - 1))
    local at = tonumber(string.sub(e, s1 + 1, s2 - 1))
    if ttl == 0 or now - at <= ttl then
      if o < oldest then oldest = o end
      if o > since then table.insert(kept, o .. ' ' .. string.sub(e, s2 + 1)) end
    end
  end
  if ARGV[2] == epoch and since <= offset and since + 1 >= oldest then
    recovered = '1'; out = kept
  else
    recovered = '0'
  end
end
table.insert(out, 1, 'R ' .. ARGV[4] .. ' ' .. offset .. ' ' .. epoch .. ' ' .. recovered)
redis.call('PUBLISH', ARGV[3], table.concat(out, '\n'))
return offset
)lua";

// KEYS: presence hash, identity hash. ARGV: node, user, identity, heartbeat prefix, delta.
// Returns the user's connections left in the channel over the living nodes.
constexpr const char* kJoinLeave = R"lua(
local function count_user(key, user, alive, me)
  local total = 0
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    local bar = string.find(all[i], '|', 1, true)
    local node = string.sub(all[i], 1, bar - 1)
    if string.sub(all[i], bar + 1) == user and (node == me or redis.call('EXISTS', alive .. node) == 1) then
      total = total + tonumber(all[i + 1])
    end
  end
  return total
end
local field = ARGV[1] .. '|' .. ARGV[2]
local n = redis.call('HINCRBY', KEYS[1], field, tonumber(ARGV[5]))
if n <= 0 then redis.call('HDEL', KEYS[1], field) end
if tonumber(ARGV[5]) > 0 then redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) end
local total = count_user(KEYS[1], ARGV[2], ARGV[4], ARGV[1])
if total == 0 then redis.call('HDEL', KEYS[2], ARGV[2]) end
return total
)lua";

// KEYS: presence hash, identity hash. ARGV: heartbeat prefix, this node. Returns user,
// identity, connections, ... over the living nodes.
constexpr const char* kPresence = R"lua(
local counts, order = {}, {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local bar = string.find(all[i], '|', 1, true)
  local node = string.sub(all[i], 1, bar - 1)
  local user = string.sub(all[i], bar + 1)
  if node == ARGV[2] or redis.call('EXISTS', ARGV[1] .. node) == 1 then
    if not counts[user] then counts[user] = 0; table.insert(order, user) end
    counts[user] = counts[user] + tonumber(all[i + 1])
  end
end
local out = {}
for _, user in ipairs(order) do
  if counts[user] > 0 then
    table.insert(out, user); table.insert(out, redis.call('HGET', KEYS[2], user) or ''); table.insert(out, tostring(counts[user]))
  end
end
return out
)lua";

constexpr Duration kHeartbeat{10'000};
constexpr const char* kHeartbeatTtlMs = "30000";

}  // namespace

// A numbered publication's deliveries on this node, summed for the publish API's count.
struct PubsubComponent::Tally {
  std::atomic<size_t> delivered{0};
  std::atomic<size_t> loops_left{0};
  PubsubComponent* origin = nullptr;  // the instance waiting, or null
  uint64_t request = 0;
};

bool PubsubComponent::in_redis(const ChannelRule* rule) const noexcept {
  return redis_ && redis_->connected() && rule && (rule->history_size || rule->presence);
}

std::string PubsubComponent::key(std::string_view kind, std::string_view channel) const {
  std::string k(cluster()->key_prefix());
  k.append(":pubsub:").append(route_->path).append(":").append(kind).append(":").append(channel);
  return k;
}

void PubsubComponent::start_cluster() {
  Cluster& nodes = *cluster();
  const bool needs_redis = std::any_of(route_->options.channels.begin(), route_->options.channels.end(),
                                       [](const ChannelRule& r) { return r.history_size || r.presence; });
  if (!needs_redis) return;
  alive_prefix_ = std::string(nodes.key_prefix()) + ":node:";
  bus_channel_ = std::string(nodes.key_prefix()) + ":pubsub:" + route_->path;
  node_channel_ = bus_channel_ + ":node:" + std::string(nodes.node_id());
  const std::string alive = alive_prefix_ + std::string(nodes.node_id());
  redis_ = std::make_unique<RedisClient>(loop(), nodes.redis_url(), "pubsub " + route_->path, [this, alive] {
    if (loop().index() == 0) redis_->command({"SET", alive, "1", "PX", kHeartbeatTtlMs});
  }, [this](std::string_view) { fail_recoveries(); });
  redis_->start();
  if (loop().index() != 0) return;
  loop().every(kHeartbeat, [this, alive] { redis_->command({"SET", alive, "1", "PX", kHeartbeatTtlMs}); });
  bus_ = std::make_unique<RedisClient>(loop(), nodes.redis_url(), "pubsub bus " + route_->path, [this] {
    bus_->command({"SUBSCRIBE", bus_channel_, node_channel_}, [this](redisReply* r) {
      if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[2]->type != REDIS_REPLY_STRING) return;
      on_bus(std::string_view(r->element[2]->str, r->element[2]->len));
    });
  }, [this](std::string_view) {
    // Answers in flight on this connection are lost: every loop's waiting subscribers hear so.
    for (PubsubComponent* instance : route_->instances)
      if (instance && instance != this) instance->loop().post([instance] { instance->fail_recoveries(); });
    fail_recoveries();
  });
  bus_->start();
}

void PubsubComponent::cluster_subscribe(Connection& c, std::string_view channel, const ChannelRule& rule,
                                        const std::optional<Since>& since) {
  Joined counted = route_->registry.join(channel, "", "", std::nullopt, Clock::now());  // this node's count, for the limit
  if (!counted.refusal.empty()) return error(c, counted.refusal);
  Member& m = member(c);
  const std::string name(channel);
  if (!rule.history_size) {
    topics().subscribe(c, topic(name));
    m.channels.push_back(name);
    std::string ack;
    JsonWriter(ack).raw("{").string("channel").raw(":").string(name).raw("}");
    reply(c, "subscribed", ack);
    return cluster_join(c, name);
  }
  const uint64_t request = (static_cast<uint64_t>(loop().index()) << 48) | next_request_++;
  const std::string since_offset = since ? std::to_string(since->offset) : "";
  const std::string since_epoch = since ? since->epoch : "";
  const std::string ttl = std::to_string(rule.history_ttl.count());
  const std::string id = std::to_string(request);
  const std::string epoch = new_epoch();
  const bool sent = redis_->command({"EVAL", kRecover, "3", key("offset", name), key("epoch", name), key("history", name),
                                     since_offset, since_epoch, node_channel_, id, ttl, epoch});
  if (!sent) {
    route_->registry.leave(name, "");
    return error(c, "The channel's history is unreachable: subscribe again");
  }
  m.pending.push_back(name);
  recoveries_[request] = Recovery{c.id(), name, since.has_value()};
}

void PubsubComponent::finish_recovery(uint64_t request, uint64_t offset, std::string epoch, bool recovered, Missed missed) {
  auto it = recoveries_.find(request);
  if (it == recoveries_.end()) return;
  const Recovery r = std::move(it->second);
  recoveries_.erase(it);
  auto conn = by_id_.find(r.connection);
  if (conn == by_id_.end()) return;  // closed meanwhile (on_close undid the count)
  Connection& c = *conn->second;
  Member& m = member(c);
  auto p = std::find(m.pending.begin(), m.pending.end(), r.channel);
  if (p == m.pending.end()) return;  // unsubscribed meanwhile
  m.pending.erase(p);
  topics().subscribe(c, topic(r.channel), offset);
  m.channels.push_back(r.channel);
  std::string ack;
  JsonWriter w(ack);
  w.raw("{").string("channel").raw(":").string(r.channel);
  w.raw(",").string("offset").raw(":").integer(static_cast<int64_t>(offset)).raw(",").string("epoch").raw(":").string(epoch);
  if (r.since) w.raw(",").string("recovered").raw(":").raw(recovered ? "true" : "false");
  w.raw("}");
  reply(c, "subscribed", ack);
  for (const auto& [o, message] : missed) c.send_text(frame_from_text(r.channel, message, o, epoch));
  if (const ChannelRule* rule = route_->options.rule_for(r.channel); rule && rule->presence) cluster_join(c, r.channel);
}

void PubsubComponent::fail_recoveries() {
  for (auto& [request, r] : recoveries_) {
    auto conn = by_id_.find(r.connection);
    if (conn == by_id_.end()) continue;
    Member& m = member(*conn->second);
    auto p = std::find(m.pending.begin(), m.pending.end(), r.channel);
    if (p == m.pending.end()) continue;
    m.pending.erase(p);
    route_->registry.leave(r.channel, "");
    error(*conn->second, "The channel's history is unreachable: subscribe again");
  }
  recoveries_.clear();
}

void PubsubComponent::cluster_join(Connection& c, const std::string& channel) {
  const User* u = c.user();
  const std::string who = user_key(c);
  if (who.empty()) return;  // anonymous connections are not listed
  const uint64_t id = c.id();
  redis_->command({"EVAL", kJoinLeave, "2", key("presence", channel), key("identity", channel), cluster()->node_id(), who,
                   u ? std::string_view(u->identity) : "", alive_prefix_, "1"},
                  [this, channel, id](redisReply* r) {
                    if (!r || r->type != REDIS_REPLY_INTEGER || r->integer != 1) return;
                    auto conn = by_id_.find(id);
                    if (conn != by_id_.end()) topics().publish(topic(channel), presence_event("joined", channel, *conn->second));
                  });
}

void PubsubComponent::cluster_leave(const std::string& channel, const std::string& user, const std::string& identity) {
  if (user.empty() || !redis_) return;
  // The event is built now: the connection is gone by the time the answer comes.
  std::string left = presence_event("left", channel, user, identity);
  redis_->command({"EVAL", kJoinLeave, "2", key("presence", channel), key("identity", channel), cluster()->node_id(), user, "",
                   alive_prefix_, "-1"},
                  [this, channel, left = std::move(left)](redisReply* r) {
                    if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 0) topics().publish(topic(channel), left);
                  });
}

void PubsubComponent::cluster_presence(Connection& c, const std::string& channel) {
  const uint64_t id = c.id();
  const bool sent = redis_->command(
      {"EVAL", kPresence, "2", key("presence", channel), key("identity", channel), alive_prefix_, cluster()->node_id()},
      [this, channel, id](redisReply* r) {
        auto conn = by_id_.find(id);
        if (conn == by_id_.end()) return;
        if (!r || r->type != REDIS_REPLY_ARRAY) return error(*conn->second, "Presence is unreachable: ask again");
        std::string out;
        JsonWriter w(out);
        w.raw("{").string("channel").raw(":").string(channel).raw(",").string("users").raw(":[");
        for (size_t i = 0; i + 2 < r->elements; i += 3) {
          auto text = [r](size_t k) { return std::string_view(r->element[k]->str, r->element[k]->len); };
          int64_t connections = 0;
          std::from_chars(text(i + 2).data(), text(i + 2).data() + text(i + 2).size(), connections);
          if (i) w.raw(",");
          w.raw("{").string("id").raw(":");
          write_user_id(w, text(i));
          w.raw(",").string("identity").raw(":").string(text(i + 1));
          w.raw(",").string("connections").raw(":").integer(connections).raw("}");
        }
        w.raw("]}");
        reply(*conn->second, "presence", out);
      });
  if (!sent) error(c, "Presence is unreachable: ask again");
}

bool PubsubComponent::cluster_publish(std::string_view channel, const std::string& message_json, PublishDone done) {
  const ChannelRule* rule = route_->options.rule_for(channel);
  const uint64_t request = done ? (static_cast<uint64_t>(loop().index()) << 48) | next_request_++ : 0;
  const bool sent = redis_->command({"EVAL", kPublish, "3", key("offset", channel), key("epoch", channel), key("history", channel),
                                     message_json, std::to_string(rule->history_size), std::to_string(rule->history_ttl.count()),
                                     bus_channel_, new_epoch(), channel, cluster()->node_id(), std::to_string(request)});
  if (sent && done) api_waiting_[request] = std::move(done);
  return sent;
}

void PubsubComponent::on_bus(std::string_view payload) {
  if (std::optional<HistoryAnswer> a = parse_history_answer(payload)) {
    const size_t loop_index = a->request >> 48;
    if (loop_index >= route_->instances.size() || !route_->instances[loop_index]) return;
    Missed missed;
    for (const HistoryAnswer::Entry& e : a->entries) missed.emplace_back(e.offset, e.message);
    PubsubComponent* target = route_->instances[loop_index];
    auto finish = [target, request = a->request, offset = a->offset, epoch = std::string(a->epoch), recovered = a->recovered,
                   missed = std::move(missed)]() mutable {
      target->finish_recovery(request, offset, std::move(epoch), recovered, std::move(missed));
    };
    if (target == this) return finish();
    return target->loop().post(std::move(finish));
  }
  const std::optional<NumberedMessage> m = parse_numbered(payload);
  if (!m) return;  // not written by our scripts: someone else's use of the channel
  const std::string channel(m->channel);
  auto frame = std::make_shared<const std::string>(frame_from_text(channel, m->message, m->offset, m->epoch));
  auto tally = std::make_shared<Tally>();
  tally->loops_left = static_cast<size_t>(std::count_if(route_->instances.begin(), route_->instances.end(), [](auto* i) { return i != nullptr; }));
  if (m->request && m->origin == cluster()->node_id() && (m->request >> 48) < route_->instances.size()) {
    tally->origin = route_->instances[m->request >> 48];
    tally->request = m->request;
  }
  const uint64_t offset = m->offset;
  for (PubsubComponent* instance : route_->instances) {
    if (!instance) continue;
    if (instance == this) deliver_numbered(channel, frame, offset, tally);
    else instance->loop().post([instance, channel, frame, offset, tally] { instance->deliver_numbered(channel, frame, offset, tally); });
  }
}

void PubsubComponent::deliver_numbered(const std::string& channel, const std::shared_ptr<const std::string>& frame, uint64_t offset,
                                       const std::shared_ptr<Tally>& tally) {
  // Every node got it from Redis: this loop's subscribers only.
  tally->delivered += topics().publish_here(topic(channel), *frame, Opcode::text, offset);
  if (tally->loops_left.fetch_sub(1) != 1 || !tally->origin) return;
  PubsubComponent* origin = tally->origin;
  const uint64_t request = tally->request;
  const size_t delivered = tally->delivered.load();
  origin->loop().post([origin, request, delivered] {
    auto it = origin->api_waiting_.find(request);
    if (it == origin->api_waiting_.end()) return;
    PublishDone done = std::move(it->second);
    origin->api_waiting_.erase(it);
    done(delivered);
  });
}

std::string PubsubComponent::frame_from_text(std::string_view channel, std::string_view message_json, uint64_t offset,
                                             std::string_view epoch) {
  Expected<Json> message = data_parser_.parse(message_json);
  return message_frame(channel, message ? *message : Json(), offset, epoch);
}

}  // namespace capstan::pubsub
