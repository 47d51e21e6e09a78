#include "cluster/cluster_bus.hpp"

#include <openssl/rand.h>

#include <cstring>

#include "capstan/log.hpp"
#include "capstan/metrics.hpp"
#include "net/event_loop.hpp"

#include <hiredis/hiredis.h>

namespace capstan::cluster {

namespace {

struct Counters {
  Counter& sent = counter("capstan_cluster_messages_total", "messages exchanged with other nodes through Redis", {{"direction", "sent"}});
  Counter& received = counter("capstan_cluster_messages_total", "", {{"direction", "received"}});
  Counter& dropped = counter("capstan_cluster_dropped_total", "messages for other nodes dropped while Redis was unreachable");
  Counter& malformed = counter("capstan_cluster_malformed_total", "messages from Redis that were not a node's");
  Counter& lost = counter("capstan_cluster_disconnects_total", "times a link to Redis was lost or refused");
};

Counters& counters() {
  static Counters c;
  return c;
}

constexpr size_t kNodeIdSize = 16;

std::string new_node_id() {
  unsigned char b[kNodeIdSize / 2];
  if (RAND_bytes(b, sizeof b) != 1)
    for (size_t i = 0; i < sizeof b; ++i) b[i] = static_cast<unsigned char>(reinterpret_cast<uintptr_t>(&b) >> i);
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

// A message: kind ('T' topic, 'R' route), the node id, then fields, each a 4-byte
// little-endian length and its bytes.
void put(std::string& out, std::string_view field) {
  const uint32_t n = static_cast<uint32_t>(field.size());
  const char len[4] = {static_cast<char>(n), static_cast<char>(n >> 8), static_cast<char>(n >> 16), static_cast<char>(n >> 24)};
  out.append(len, 4).append(field);
}

bool take(std::string_view& in, std::string_view& field) {
  if (in.size() < 4) return false;
  const auto* b = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<size_t>(b[3]) << 24);
  if (in.size() - 4 < n) return false;
  field = in.substr(4, n);
  in.remove_prefix(4 + n);
  return true;
}

}  // namespace

ClusterBus::ClusterBus(std::string url, std::string channel)
    : url_(std::move(url)), channel_(std::move(channel)), node_(new_node_id()) {}

ClusterBus::~ClusterBus() = default;

void ClusterBus::attach(net::EventLoop& home, app::TopicRing& ring, FindRoute find_route) {
  home_ = &home;
  ring_ = &ring;
  find_route_ = std::move(find_route);
}

void ClusterBus::start() {
  counters();
  auto lost = [this](std::string_view) {
    counters().lost.add();
    connected_ = publisher_ && publisher_->connected() && subscriber_ && subscriber_->connected();
  };
  publisher_ = std::make_unique<RedisClient>(*home_, url_, "publish", [this] {
    connected_ = subscriber_->connected();
  }, lost);
  subscriber_ = std::make_unique<RedisClient>(*home_, url_, "subscribe", [this] {
    // Subscribed again after every reconnection.
    subscriber_->command({"SUBSCRIBE", channel_}, [this](redisReply* r) {
      if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3) return;
      const redisReply* kind = r->element[0];
      if (kind->type == REDIS_REPLY_STRING && std::string_view(kind->str, kind->len) == "subscribe") {
        connected_ = publisher_->connected();
        log::info("cluster: subscribed", {{"channel", channel_}, {"node", node_}});
        return;
      }
      const redisReply* payload = r->element[2];
      if (payload->type == REDIS_REPLY_STRING) received(std::string_view(payload->str, payload->len));
    });
  }, lost);
  publisher_->start();
  subscriber_->start();
}

void ClusterBus::stop() {
  connected_ = false;
  subscriber_.reset();
  publisher_.reset();
}

void ClusterBus::send(std::string message) {
  if (!home_) return;
  auto publish = [this](const std::string& m) {
    if (publisher_ && publisher_->command({"PUBLISH", channel_, m})) counters().sent.add();
    else counters().dropped.add();
  };
  if (home_->on_own_thread()) return publish(message);
  home_->post_task([publish, m = std::move(message)] { publish(m); });
}

void ClusterBus::relay_topic(std::string_view topic, std::string_view data, Opcode opcode) {
  std::string m = "T" + node_;
  put(m, topic);
  put(m, data);
  const char op = static_cast<char>(opcode);
  put(m, std::string_view(&op, 1));
  send(std::move(m));
}

void ClusterBus::publish_to_route(std::string_view route_path, const Publication& p) {
  std::string m = "R" + node_;
  for (std::string_view f : {route_path, p.action, p.data, p.channel, p.id, p.frame}) put(m, f);
  for (const std::string& u : p.users) put(m, u);
  send(std::move(m));
}

void ClusterBus::received(std::string_view in) {
  if (in.size() < 1 + kNodeIdSize) return counters().malformed.add();
  const char kind = in[0];
  if (in.substr(1, kNodeIdSize) == node_) return;  // our own, back from Redis
  in.remove_prefix(1 + kNodeIdSize);
  counters().received.add();
  if (kind == 'T') {
    std::string_view topic, data, op;
    if (!take(in, topic) || !take(in, data) || !take(in, op) || op.size() != 1) return counters().malformed.add();
    return deliver_topic(topic, data, static_cast<Opcode>(op[0]));
  }
  if (kind != 'R') return counters().malformed.add();
  std::string_view path, action, data, channel, id, frame;
  if (!take(in, path) || !take(in, action) || !take(in, data) || !take(in, channel) || !take(in, id) || !take(in, frame))
    return counters().malformed.add();
  std::vector<std::string> users;
  for (std::string_view u; take(in, u);) users.emplace_back(u);
  Component* component = find_route_ ? find_route_(path) : nullptr;
  if (!component) return;  // this node does not serve that route
  Publication p{action, data, users, channel, id, path, frame, true};
  // What it publishes stays on this node: the sender reached the others itself.
  app::LoopTopics::relay_suppressed = true;
  try {
    component->on_publish(p, [](Expected<size_t>) {});
  } catch (const std::exception& e) {
    log::error("cluster: on_publish threw", {{"path", path}, {"what", e.what()}});
  }
  app::LoopTopics::relay_suppressed = false;
}

void ClusterBus::deliver_topic(std::string_view topic, std::string_view data, Opcode opcode) {
  auto shared = std::make_shared<const app::LoopTopics::Remote>(std::string(topic), std::string(data), opcode);
  for (app::LoopTopics* loop : ring_->loops) loop->post_here(shared);
}

}  // namespace capstan::cluster
