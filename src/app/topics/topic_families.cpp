// Topic families (capstan/topics.hpp): publications to some members of a family, whose
// connections each loop finds through the lookup its component registered. They travel as a
// topic's publications do (loop_topics.cpp): relayed once to the other nodes, copied once,
// posted once to each other loop through the same queue (so a loop's topic and family
// publications keep their order), and sent on each loop with send_to_many.
#include <algorithm>

#include "app/topics/loop_topics.hpp"
#include "net/event_loop.hpp"

namespace capstan::app {

void LoopTopics::add_family(std::string_view family, MemberLookup lookup) {
  auto it = families_.find(family);
  if (it == families_.end()) families_.emplace(std::string(family), std::move(lookup));
  else it->second = std::move(lookup);
}

size_t LoopTopics::publish_to_members(std::string_view family, std::span<const std::string> keys, std::string_view data,
                                      Opcode opcode) {
  if (keys.empty()) return 0;
  if (ring_.relay) ring_.relay->relay_members(family, keys, data, opcode);
  post_members_to_loops(family, keys, data, opcode, nullptr);
  return publish_to_members_here(family, keys, data, opcode);
}

void LoopTopics::publish_to_members_counted(std::string_view family, std::span<const std::string> keys,
                                            std::string_view data, Opcode opcode,
                                            std::function<void(size_t)> delivered) {
  if (keys.empty()) return delivered(0);
  if (ring_.relay) ring_.relay->relay_members(family, keys, data, opcode);
  std::shared_ptr<Tally> tally = new_tally(std::move(delivered));
  post_members_to_loops(family, keys, data, opcode, tally);
  tally->add(publish_to_members_here(family, keys, data, opcode));
}

void LoopTopics::post_members_to_loops(std::string_view family, std::span<const std::string> keys,
                                       std::string_view data, Opcode opcode, const std::shared_ptr<Tally>& tally) {
  if (ring_.loops.size() == 1) return;
  auto posted = std::make_shared<PostedToMembers>();
  posted->family = family;
  posted->keys.assign(keys.begin(), keys.end());
  posted->data = data;
  posted->opcode = opcode;
  std::shared_ptr<const PostedToMembers> shared = std::move(posted);
  for (LoopTopics* loop : ring_.loops)
    if (loop != this) loop->post_members_here(shared, tally);
}

void LoopTopics::post_members_here(std::shared_ptr<const PostedToMembers> p, std::shared_ptr<Tally> tally) {
  loop_.post_task([this, p = std::move(p), tally = std::move(tally)] {
    const size_t sent = publish_to_members_here(p->family, p->keys, p->data, p->opcode);
    if (tally) tally->add(sent);
  });
}

size_t LoopTopics::publish_to_members_here(std::string_view family, std::span<const std::string> keys,
                                           std::string_view data, Opcode opcode) {
  auto it = families_.find(family);
  if (it == families_.end() || (opcode != Opcode::text && opcode != Opcode::binary)) return 0;
  // A local vector, not a member: a lookup is the component's code and could publish itself.
  std::vector<Connection*> found;
  for (const std::string& key : keys) it->second(key, found);
  // One key finds each connection once (the lookup's duty); several can find one twice (a
  // user named by id and by identity): sorted and made unique only then, so a publication to
  // one user with many connections pays nothing for it.
  if (keys.size() > 1 && found.size() > 1) {
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
  }
  return Connection::send_to_many(found, data, opcode);
}

}  // namespace capstan::app
