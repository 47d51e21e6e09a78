#include "app/topics/loop_topics.hpp"

#include <algorithm>
#include <cstdlib>

#include "app/connection_impl.hpp"
#include "net/event_loop.hpp"

namespace capstan::app {

LoopTopics::LoopTopics(net::EventLoop& loop, TopicRing& ring) : loop_(loop), ring_(ring) { ring_.loops.push_back(this); }

LoopTopics::~LoopTopics() { std::erase(ring_.loops, this); }

TopicLink* LoopTopics::new_link() {
  if (!free_links_) {
    constexpr size_t kBlock = 256;
    link_blocks_.push_back(std::make_unique<TopicLink[]>(kBlock));
    TopicLink* block = link_blocks_.back().get();
    for (size_t i = 0; i < kBlock; ++i) block[i].next = i + 1 < kBlock ? &block[i + 1] : nullptr;
    free_links_ = block;
  }
  TopicLink* link = free_links_;
  free_links_ = link->next;
  return link;
}

void LoopTopics::free_link(TopicLink* link) noexcept {
  link->next = free_links_;
  free_links_ = link;
}

namespace {

TopicLink*& links_of(Connection& c) noexcept { return static_cast<ConnectionImpl&>(c).topic_links; }

TopicLink& link_to(Connection* c, const TopicState& topic) {
  for (TopicLink* l = links_of(*c); l; l = l->next)
    if (l->topic == &topic) return *l;
  std::abort();  // every subscriber has its link: a broken invariant, not input
}

}  // namespace

bool LoopTopics::subscribe(Connection& c, std::string_view name, uint64_t after) {
  if (!c.is_open()) return false;
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    it = topics_.emplace(std::string(name), TopicState{}).first;
    it->second.name = &it->first;
  }
  TopicState& topic = it->second;
  TopicLink*& head = links_of(c);
  for (const TopicLink* l = head; l; l = l->next)
    if (l->topic == &topic) return false;
  TopicLink* link = new_link();
  link->topic = &topic;
  link->next = head;
  link->joining = after != 0;
  if (after) {
    link->position = static_cast<uint32_t>(topic.joining.size());
    topic.joining.push_back({&c, after});
  } else {
    link->position = static_cast<uint32_t>(topic.subscribers.size());
    topic.subscribers.push_back(&c);
  }
  head = link;
  return true;
}

bool LoopTopics::unsubscribe(Connection& c, std::string_view name) {
  auto it = topics_.find(name);
  if (it == topics_.end()) return false;
  for (TopicLink** at = &links_of(c); *at; at = &(*at)->next) {
    TopicLink* link = *at;
    if (link->topic != &it->second) continue;
    *at = link->next;
    remove(*link);
    free_link(link);
    drop_if_empty(it->second);
    return true;
  }
  return false;
}

void LoopTopics::forget(const Connection& c) noexcept {
  TopicLink*& head = links_of(const_cast<Connection&>(c));
  TopicLink* link = head;
  head = nullptr;  // `remove` below finds the moved subscribers' links, never this one's
  while (link) {
    TopicLink* next = link->next;
    remove(*link);
    drop_if_empty(*link->topic);
    free_link(link);
    link = next;
  }
}

void LoopTopics::remove(const TopicLink& link) {
  TopicState& topic = *link.topic;
  const size_t position = link.position;
  if (link.joining) {
    const size_t last = topic.joining.size() - 1;
    if (position != last) {
      topic.joining[position] = topic.joining[last];
      link_to(topic.joining[position].connection, topic).position = static_cast<uint32_t>(position);
    }
    topic.joining.pop_back();
    return;
  }
  std::vector<Connection*>& subscribers = topic.subscribers;
  const size_t last = subscribers.size() - 1;
  if (position != last) {
    Connection* moved = subscribers[last];
    subscribers[position] = moved;
    link_to(moved, topic).position = static_cast<uint32_t>(position);
  }
  subscribers.pop_back();
}

void LoopTopics::drop_if_empty(const TopicState& topic) {
  if (topic.subscribers.empty() && topic.joining.empty()) topics_.erase(topics_.find(*topic.name));  // not by the key it holds
}

std::span<Connection* const> LoopTopics::subscribers_here(std::string_view name) const noexcept {
  auto it = topics_.find(name);
  if (it == topics_.end()) return {};
  return it->second.subscribers;
}

size_t LoopTopics::subscriptions_of(const Connection& c) const noexcept {
  size_t n = 0;
  for (const TopicLink* l = links_of(const_cast<Connection&>(c)); l; l = l->next) ++n;
  return n;
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

std::shared_ptr<LoopTopics::Tally> LoopTopics::new_tally(std::function<void(size_t)> delivered) const {
  auto tally = std::make_shared<Tally>();
  tally->loops_left = ring_.loops.size();
  tally->done = std::move(delivered);
  return tally;
}

size_t LoopTopics::publish(std::string_view name, std::string_view data, Opcode opcode, uint64_t sequence) {
  if (ring_.relay) ring_.relay->relay_topic(name, data, opcode);
  post_to_loops(name, data, opcode, sequence, nullptr);
  return sequence ? 0 : publish_here(name, data, opcode, sequence);
}

void LoopTopics::publish_counted(std::string_view name, std::string_view data, Opcode opcode, uint64_t sequence,
                                 std::function<void(size_t)> delivered) {
  if (ring_.relay) ring_.relay->relay_topic(name, data, opcode);
  std::shared_ptr<Tally> tally = new_tally(std::move(delivered));
  post_to_loops(name, data, opcode, sequence, tally);
  if (!sequence) tally->add(publish_here(name, data, opcode, sequence));
}

size_t LoopTopics::publish_here(std::string_view name, std::string_view data, Opcode opcode, uint64_t sequence) {
  auto it = topics_.find(name);
  if (it == topics_.end() || (opcode != Opcode::text && opcode != Opcode::binary)) return 0;
  TopicState& topic = it->second;
  size_t sent = Connection::send_to_many(topic.subscribers, data, opcode);
  if (!topic.joining.empty()) sent += deliver_to_joining(topic, data, opcode, sequence);
  return sent;
}

size_t LoopTopics::deliver_to_joining(TopicState& topic, std::string_view data, Opcode opcode, uint64_t sequence) {
  size_t sent = 0;
  for (size_t i = 0; i < topic.joining.size();) {
    const JoiningSubscriber j = topic.joining[i];
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
    TopicLink& link = link_to(j.connection, topic);
    remove(link);  // moves another joining one into `i`
    link.joining = false;
    link.position = static_cast<uint32_t>(topic.subscribers.size());
    topic.subscribers.push_back(j.connection);
  }
  return sent;
}

}  // namespace capstan::app
