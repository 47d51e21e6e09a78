// One loop's topic table (capstan/topics.hpp): topic -> its subscribers on this loop, and, in
// each connection, the list of its subscriptions (links from a pool of the loop's), so a close
// leaves every topic without a search and a subscription costs an idle connection 24 bytes
// and its place in the topic's vector. The
// server's loops find one another through a TopicRing, filled while the loops are made and
// read-only once they run, so publishing reads it without a lock. Topic families (the
// members' connections found by a lookup their component registered, no link each) travel the
// same way; their part is topic_families.cpp.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "capstan/topics.hpp"

namespace capstan::net {
class EventLoop;
}

namespace capstan::app {

class LoopTopics;
struct TopicState;

// One subscription of a connection: where it sits in its topic's subscribers (or joining
// list), and the connection's next one (ConnectionImpl::topic_links heads the list).
struct TopicLink {
  TopicState* topic;
  TopicLink* next;
  uint32_t position;
  bool joining;
};

// Where a topic's publications go beyond this server's loops: the other nodes (cluster/).
class TopicRelay {
 public:
  virtual void relay_topic(std::string_view topic, std::string_view data, Opcode opcode) = 0;
  virtual void relay_members(std::string_view family, std::span<const std::string> keys, std::string_view data,
                             Opcode opcode) = 0;

 protected:
  ~TopicRelay() = default;
};

// Every loop's topics, in loop order, and the relay to other nodes (null: a node alone).
struct TopicRing {
  std::vector<LoopTopics*> loops;
  TopicRelay* relay = nullptr;
};

// A subscriber that skips sequenced publications up to `after` (subscribe's `after`).
struct JoiningSubscriber {
  Connection* connection;
  uint64_t after;
};

// One topic on one loop.
struct TopicState {
  const std::string* name = nullptr;  // its key in the map (nodes do not move)
  std::vector<Connection*> subscribers;
  std::vector<JoiningSubscriber> joining;  // usually empty: publishing checks it only when it is not
};

class LoopTopics final : public Topics {
 public:
  LoopTopics(net::EventLoop& loop, TopicRing& ring);
  ~LoopTopics();

  bool subscribe(Connection& c, std::string_view topic, uint64_t after) override;
  bool unsubscribe(Connection& c, std::string_view topic) override;
  std::span<Connection* const> subscribers_here(std::string_view topic) const noexcept override;
  size_t subscriptions_of(const Connection& c) const noexcept override;
  size_t publish(std::string_view topic, std::string_view data, Opcode opcode, uint64_t sequence) override;
  size_t publish_here(std::string_view topic, std::string_view data, Opcode opcode, uint64_t sequence) override;
  void publish_counted(std::string_view topic, std::string_view data, Opcode opcode, uint64_t sequence,
                       std::function<void(size_t)> delivered) override;
  void add_family(std::string_view family, MemberLookup lookup) override;
  size_t publish_to_members(std::string_view family, std::span<const std::string> keys, std::string_view data,
                            Opcode opcode) override;
  void publish_to_members_counted(std::string_view family, std::span<const std::string> keys, std::string_view data,
                                  Opcode opcode, std::function<void(size_t)> delivered) override;

  // A publication on its way to loops: copied once, shared by all of them.
  struct Posted {
    std::string topic;
    std::string data;
    Opcode opcode;
    uint64_t sequence;
  };
  // publish_counted's sum over the loops: the last loop to add calls `done`.
  struct Tally {
    std::atomic<size_t> delivered{0};
    std::atomic<size_t> loops_left;
    std::function<void(size_t)> done;
    void add(size_t n) {
      delivered.fetch_add(n, std::memory_order_relaxed);
      if (loops_left.fetch_sub(1, std::memory_order_acq_rel) == 1) done(delivered.load(std::memory_order_relaxed));
    }
  };
  // To this loop's subscribers through its queue (another loop's publication, another node's),
  // the count added to `tally` when there is one.
  void post_here(std::shared_ptr<const Posted> publication, std::shared_ptr<Tally> tally = {});

  // A family's publication on its way to loops, the same way.
  struct PostedToMembers {
    std::string family;
    std::vector<std::string> keys;
    std::string data;
    Opcode opcode;
  };
  void post_members_here(std::shared_ptr<const PostedToMembers> publication, std::shared_ptr<Tally> tally = {});
  // To this loop's members only (what reached every loop another way).
  size_t publish_to_members_here(std::string_view family, std::span<const std::string> keys, std::string_view data,
                                 Opcode opcode);

  // The connection is gone: it leaves every topic (the reaper calls this for every closed one).
  void forget(const Connection& c) noexcept;
  size_t topic_count() const noexcept { return topics_.size(); }

 private:
  // Heterogeneous lookup: a publish looks a topic up by string_view, with no copy.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  using TopicMap = std::unordered_map<std::string, TopicState, NameHash, std::equal_to<>>;

  // Posts to every other loop, and to this one too when the publication is numbered.
  void post_to_loops(std::string_view name, std::string_view data, Opcode opcode, uint64_t sequence,
                     const std::shared_ptr<Tally>& tally);
  void post_members_to_loops(std::string_view family, std::span<const std::string> keys, std::string_view data,
                             Opcode opcode, const std::shared_ptr<Tally>& tally);
  std::shared_ptr<Tally> new_tally(std::function<void(size_t)> delivered) const;
  // Takes the link out of its topic (the last subscriber moves into its place, O(1)).
  void remove(const TopicLink& link);
  // The joining subscribers a publication numbered `sequence` reaches get it, and become
  // ordinary subscribers.
  size_t deliver_to_joining(TopicState& topic, std::string_view data, Opcode opcode, uint64_t sequence);
  void drop_if_empty(const TopicState& topic);
  TopicLink* new_link();
  void free_link(TopicLink* link) noexcept;

  net::EventLoop& loop_;
  TopicRing& ring_;
  TopicMap topics_;
  // Links come from blocks of this loop's and go back to a free list: no malloc per subscription.
  std::vector<std::unique_ptr<TopicLink[]>> link_blocks_;
  TopicLink* free_links_ = nullptr;
  std::unordered_map<std::string, MemberLookup, NameHash, std::equal_to<>> families_;
};

}  // namespace capstan::app
