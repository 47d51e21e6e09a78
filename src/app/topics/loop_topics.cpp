#include "app/topics/loop_topics.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>

#include "app/connection_impl.hpp"
#include "net/event_loop.hpp"

namespace capstan::app {

struct LoopTopics::Tally {
  std::atomic<size_t> delivered{0};
  std::atomic<size_t> loops_left;
  std::function<void(size_t)> done;
  void add(size_t n) {
    delivered.fetch_add(n, std::memory_order_relaxed);
    if (loops_left.fetch_sub(1, std::memory_order_acq_rel) == 1) done(delivered.load(std::memory_order_relaxed));
  }
};

LoopTopics::LoopTopics(net::EventLoop& loop, TopicRing& ring) : loop_(loop), ring_(ring) { ring_.loops.push_back(this); }

LoopTopics::~LoopTopics() { std::erase(ring_.loops, this); }

bool LoopTopics::subscribe(Connection& c, std::string_view name, uint64_t after) {
  if (!c.is_open()) return false;
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    it = topics_.emplace(std::string(name), Topic{}).first;
    it->second.name = &it->first;
  }
  Topic& topic = it->second;
  std::vector<Subscription>& mine = by_connection_[&c];
  if (std::any_of(mine.begin(), mine.end(), [&](const Subscription& s) { return s.topic == &topic; })) return false;
  if (after) {
    mine.push_back({&topic, topic.joining.size(), true});
    topic.joining.push_back({&c, after});
  } else {
    mine.push_back({&topic, topic.subscribers.size(), false});
    topic.subscribers.push_back(&c);
  }
  return true;
}

bool LoopTopics::unsubscribe(Connection& c, std::string_view name) {
  auto it = topics_.find(name);
  auto mine = by_connection_.find(&c);
  if (it == topics_.end() || mine == by_connection_.end()) return false;
  std::vector<Subscription>& subs = mine->second;
  auto sub = std::find_if(subs.begin(), subs.end(), [&](const Subscription& s) { return s.topic == &it->second; });
  if (sub == subs.end()) return false;
  remove(it->second, sub->position, sub->joining);
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
    remove(*s.topic, s.position, s.joining);
    drop_if_empty(*s.topic);
  }
}

LoopTopics::Subscription& LoopTopics::subscription_of(Connection* c, const Topic& topic) {
  for (Subscription& s : by_connection_[c])
    if (s.topic == &topic) return s;
  std::abort();  // every subscriber has its subscription: a broken invariant, not input
}

void LoopTopics::remove(Topic& topic, size_t position, bool joining) {
  if (joining) {
    const size_t last = topic.joining.size() - 1;
    if (position != last) {
      topic.joining[position] = topic.joining[last];
      subscription_of(topic.joining[position].connection, topic).position = position;
    }
    topic.joining.pop_back();
    return;
  }
  std::vector<Connection*>& subscribers = topic.subscribers;
  const size_t last = subscribers.size() - 1;
  if (position != last) {
    Connection* moved = subscribers[last];
    subscribers[position] = moved;
    subscription_of(moved, topic).position = position;
  }
  subscribers.pop_back();
}

void LoopTopics::drop_if_empty(const Topic& topic) {
  if (topic.subscribers.empty() && topic.joining.empty()) topics_.erase(topics_.find(*topic.name));  // not by the key it holds
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

void LoopTopics::post_to_loops(std::string_view name, std::string_view data, Opcode opcode, uint64_t sequence,
                               const std::shared_ptr<Tally>& tally) {
  // A numbered publication reaches this loop through its queue too: a number published on
  // another loop just before may still wait there, and must go out first.
  if (ring_.loops.size() == 1 && !sequence) return;
  auto posted = std::make_shared<const Posted>(Posted{std::string(name), std::string(data), opcode, sequence});
  for (LoopTopics* loop : ring_.loops)
    if (loop != this || sequence) loop->post_here(posted, tally);
}

void LoopTopics::post_here(std::shared_ptr<const Posted> p, std::shared_ptr<Tally> tally) {
  loop_.post_task([this, p = std::move(p), tally = std::move(tally)] {
    const size_t sent = publish_here(p->topic, p->data, p->opcode, p->sequence);
    if (tally) tally->add(sent);
  });
}

size_t LoopTopics::publish(std::string_view name, std::string_view data, Opcode opcode, uint64_t sequence) {
  if (ring_.relay && !relay_suppressed) ring_.relay->relay_topic(name, data, opcode);
  post_to_loops(name, data, opcode, sequence, nullptr);
  return sequence ? 0 : publish_here(name, data, opcode, sequence);
}

void LoopTopics::publish_counted(std::string_view name, std::string_view data, Opcode opcode, uint64_t sequence,
                                 std::function<void(size_t)> delivered) {
  if (ring_.relay && !relay_suppressed) ring_.relay->relay_topic(name, data, opcode);
  auto tally = std::make_shared<Tally>();
  tally->loops_left = ring_.loops.size();
  tally->done = std::move(delivered);
  post_to_loops(name, data, opcode, sequence, tally);
  if (!sequence) tally->add(publish_here(name, data, opcode, sequence));
}

size_t LoopTopics::publish_here(std::string_view name, std::string_view data, Opcode opcode, uint64_t sequence) {
  auto it = topics_.find(name);
  if (it == topics_.end() || (opcode != Opcode::text && opcode != Opcode::binary)) return 0;
  Topic& topic = it->second;
  size_t sent = Connection::send_to_many(topic.subscribers, data, opcode);
  if (!topic.joining.empty()) sent += deliver_to_joining(topic, data, opcode, sequence);
  return sent;
}

size_t LoopTopics::deliver_to_joining(Topic& topic, std::string_view data, Opcode opcode, uint64_t sequence) {
  size_t sent = 0;
  for (size_t i = 0; i < topic.joining.size();) {
    const Joining j = topic.joining[i];
    if (sequence && sequence <= j.after) {  // recovered already
      ++i;
      continue;
    }
    if (j.connection->send(data, opcode) != SendStatus::dropped) ++sent;
    if (!sequence) {
      ++i;  // unnumbered: it tells nothing about where the history stands
      continue;
    }
    // Past its position: an ordinary subscriber from now on.
    Subscription& s = subscription_of(j.connection, topic);
    remove(topic, i, true);  // moves another joining one into `i`
    s.joining = false;
    s.position = topic.subscribers.size();
    topic.subscribers.push_back(j.connection);
  }
  return sent;
}

}  // namespace capstan::app
