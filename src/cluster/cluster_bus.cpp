#include "cluster/cluster_bus.hpp"

#include <hiredis/hiredis.h>
#include <openssl/rand.h>

#include "capstan/log.hpp"
#include "capstan/metrics.hpp"
#include "cluster/cluster_message.hpp"
#include "net/event_loop.hpp"

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

std::string new_node_id() {
  unsigned char b[kNodeIdSize / 2];  // hex: two characters a byte
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

}  // namespace

ClusterBus::ClusterBus(std::string url, std::string channel)
    : url_(std::move(url)), channel_(std::move(channel)), node_(new_node_id()) {}

ClusterBus::~ClusterBus() = default;

void ClusterBus::attach(net::EventLoop& home, app::TopicRing& ring) {
  home_ = &home;
  ring_ = &ring;
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
  const char op = static_cast<char>(opcode);
  send(encode_message('T', node_, {topic, data, std::string_view(&op, 1)}));
}

void ClusterBus::relay_members(std::string_view family, std::span<const std::string> keys, std::string_view data,
                               Opcode opcode) {
  const char op = static_cast<char>(opcode);
  std::vector<std::string_view> fields = {family, data, std::string_view(&op, 1)};
  fields.insert(fields.end(), keys.begin(), keys.end());
  send(encode_message('M', node_, fields));
}

void ClusterBus::received(std::string_view in) {
  const std::optional<ClusterMessage> m = decode_message(in);
  if (!m) return counters().malformed.add();
  if (m->node == node_) return;  // our own, back from Redis
  counters().received.add();
  const Opcode opcode = static_cast<Opcode>(m->fields[2][0]);
  if (m->kind == 'T') return deliver_topic(m->fields[0], m->fields[1], opcode);
  deliver_members(m->fields[0], std::span(m->fields).subspan(3), m->fields[1], opcode);
}

void ClusterBus::deliver_topic(std::string_view topic, std::string_view data, Opcode opcode) {
  auto shared = std::make_shared<const app::LoopTopics::Posted>(app::LoopTopics::Posted{std::string(topic), std::string(data), opcode, 0});
  for (app::LoopTopics* loop : ring_->loops) loop->post_here(shared);
}

void ClusterBus::deliver_members(std::string_view family, std::span<const std::string_view> keys,
                                 std::string_view data, Opcode opcode) {
  auto shared = std::make_shared<app::LoopTopics::PostedToMembers>();
  shared->family = family;
  shared->keys.assign(keys.begin(), keys.end());
  shared->data = data;
  shared->opcode = opcode;
  for (app::LoopTopics* loop : ring_->loops) loop->post_members_here(shared);
}

}  // namespace capstan::cluster
