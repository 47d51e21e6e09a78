#include "app/topics/loop_topics.hpp"

#include <algorithm>

#include "app/connection_impl.hpp"
#include "net/event_loop.hpp"

namespace capstan::app {

namespace {

// A publication on its way to the other loops: copied once, shared by all of them.
struct Publication {
  std::string topic;
  std::string data;
  Opcode opcode;
};

}  // namespace

LoopTopics::LoopTopics(net::EventLoop& loop, TopicRing& ring) : loop_(loop), ring_(ring) { ring_.loops.push_back(this); }

LoopTopics::~LoopTopics() { std::erase(ring_.loops, this); }

bool LoopTopics::subscribe(Connection& c, std::string_view name) {
  if (!c.is_open()) return false;
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    it = topics_.emplace(std::string(name), Topic{}).first;
    it->second.name = &it->first;
  }
  Topic& topic = it->second;
  std::vector<Subscription>& mine = by_connection_[&c];
  if (std::any_of(mine.begin(), mine.end(), [&](const Subscription& s) { return s.topic == &topic; })) return false;
  mine.push_back({&topic, topic.subscribers.size()});
  topic.subscribers.push_back(&c);
  return true;
}

bool LoopTopics::unsubscribe(Connection& c, std::string_view name) {
  auto it = topics_.find(name);
  auto mine = by_connection_.find(&c);
  if (it == topics_.end() || mine == by_connection_.end()) return false;
  std::vector<Subscription>& subs = mine->second;
  auto sub = std::find_if(subs.begin(), subs.end(), [&](const Subscription& s) { return s.topic == &it->second; });
  if (sub == subs.end()) return false;
  remove(it->second, sub->position);
  subs.erase(sub);
  if (subs.empty()) by_connection_.erase(mine);
  drop_if_empty(it->second);
  return true;
}

void LoopTopics::forget(const Connection& c) noexcept {
  auto mine = by_connection_.find(&c);
  if (mine == by_connection_.end()) return;
  std::vector<Subscription> subs = std::move(mine->second);
  by_connection_.erase(mine);
  for (const Subscription& s : subs) {
    remove(*s.topic, s.position);
    drop_if_empty(*s.topic);
  }
}

void LoopTopics::remove(Topic& topic, size_t position) {
  std::vector<Connection*>& subscribers = topic.subscribers;
  const size_t last = subscribers.size() - 1;
  if (position != last) {
    Connection* moved = subscribers[last];
    subscribers[position] = moved;
    for (Subscription& s : by_connection_[moved]) {
      if (s.topic == &topic) {
        s.position = position;
        break;
      }
    }
  }
  subscribers.pop_back();
}

void LoopTopics::drop_if_empty(const Topic& topic) {
  if (topic.subscribers.empty()) topics_.erase(topics_.find(*topic.name));  // not by the key it holds
}

std::span<Connection* const> LoopTopics::subscribers_here(std::string_view name) const noexcept {
  auto it = topics_.find(name);
  if (it == topics_.end()) return {};
  return it->second.subscribers;
}

size_t LoopTopics::subscriptions_of(const Connection& c) const noexcept {
  auto mine = by_connection_.find(&c);
  return mine == by_connection_.end() ? 0 : mine->second.size();
}

size_t LoopTopics::publish(std::string_view name, std::string_view data, Opcode opcode) {
  if (ring_.loops.size() > 1) {
    auto publication = std::make_shared<const Publication>(Publication{std::string(name), std::string(data), opcode});
    for (LoopTopics* other : ring_.loops) {
      if (other == this) continue;
      other->loop_.post_task([other, publication] { other->publish_here(publication->topic, publication->data, publication->opcode); });
    }
  }
  return publish_here(name, data, opcode);
}

size_t LoopTopics::publish_here(std::string_view name, std::string_view data, Opcode opcode) {
  auto it = topics_.find(name);
  if (it == topics_.end() || (opcode != Opcode::text && opcode != Opcode::binary)) return 0;
  return Connection::send_to_many(it->second.subscribers, data, opcode);
}

}  // namespace capstan::app
