#include "components/pubsub/channel_registry.hpp"

#include <openssl/rand.h>

namespace capstan::pubsub {

// A new epoch whenever a channel's history starts afresh (the server started, or the channel
// was forgotten): a client holding an older one cannot recover from this history.
std::string new_epoch() {
  unsigned char b[6];
  if (RAND_bytes(b, sizeof b) != 1) {
    const auto t = Clock::now().time_since_epoch().count();
    for (size_t i = 0; i < sizeof b; ++i) b[i] = static_cast<unsigned char>(t >> (i * 8));
  }
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

ChannelRegistry::Channel& ChannelRegistry::channel_of(std::string_view name) {
  auto it = channels_.find(std::string(name));
  if (it != channels_.end()) return it->second;
  Channel& c = channels_[std::string(name)];
  c.epoch = new_epoch();
  return c;
}

void ChannelRegistry::expire(Channel& c, const ChannelRule& rule, Clock::time_point now) {
  if (!c.history) return;
  std::deque<Kept>& h = *c.history;
  while (h.size() > rule.history_size) h.pop_front();
  if (rule.history_ttl.count() == 0) return;
  while (!h.empty() && now - h.front().at > rule.history_ttl) h.pop_front();
}

Joined ChannelRegistry::join(std::string_view name, std::string_view user_key, std::string_view identity,
                             const std::optional<Since>& since, Clock::time_point now) {
  Joined out;
  const ChannelRule* rule = options_.rule_for(name);
  std::lock_guard lock(mutex_);
  Channel& c = channel_of(name);
  if (options_.max_subscribers_per_channel && c.subscribers >= options_.max_subscribers_per_channel) {
    out.refusal = "the channel has as many subscribers as it may";
    return out;
  }
  ++c.subscribers;
  if (rule && rule->presence && !user_key.empty()) {
    if (!c.users) c.users = std::make_unique<std::unordered_map<std::string, Present>>();
    Present& p = (*c.users)[std::string(user_key)];
    if (p.connections++ == 0) {
      p.user_id = user_key;
      p.identity = identity;
      out.first_of_user = true;
    }
  }
  if (rule && rule->history_size) {
    expire(c, *rule, now);
    out.history = true;
    out.offset = c.offset;
    out.epoch = c.epoch;
    if (since) {
      // Recoverable when the epoch is this history's and it still holds everything after
      // since.offset (or nothing was published since).
      const uint64_t oldest = c.history_empty() ? c.offset + 1 : c.history->front().offset;
      out.recovered = since->epoch == c.epoch && since->offset <= c.offset && since->offset + 1 >= oldest;
      if (out.recovered && c.history)
        for (const Kept& k : *c.history)
          if (k.offset > since->offset) out.missed.push_back(k.frame);
    }
  }
  return out;
}

bool ChannelRegistry::leave(std::string_view name, std::string_view user_key) {
  std::lock_guard lock(mutex_);
  auto it = channels_.find(std::string(name));
  if (it == channels_.end()) return false;
  Channel& c = it->second;
  if (c.subscribers) --c.subscribers;
  bool last = false;
  if (!user_key.empty() && c.users) {
    auto u = c.users->find(std::string(user_key));
    if (u != c.users->end() && --u->second.connections == 0) {
      c.users->erase(u);
      last = true;
    }
  }
  if (c.subscribers == 0 && c.history_empty()) channels_.erase(it);
  return last;
}

void ChannelRegistry::publish(std::string_view name, const FrameFor& frame_for, const Publish& publish, Clock::time_point now) {
  const ChannelRule* rule = options_.rule_for(name);
  if (!rule || !rule->history_size) {
    publish(frame_for(0, {}), 0);
    return;
  }
  std::lock_guard lock(mutex_);
  Channel& c = channel_of(name);
  const uint64_t offset = ++c.offset;
  std::string frame = frame_for(offset, c.epoch);
  publish(frame, offset);  // under the lock: every loop gets this channel's offsets in order
  if (!c.history) c.history = std::make_unique<std::deque<Kept>>();
  c.history->push_back({offset, now, std::move(frame)});
  expire(c, *rule, now);
}

std::vector<Present> ChannelRegistry::presence(std::string_view name) {
  std::vector<Present> out;
  std::lock_guard lock(mutex_);
  auto it = channels_.find(std::string(name));
  if (it == channels_.end() || !it->second.users) return out;
  for (const auto& [key, p] : *it->second.users) out.push_back(p);
  return out;
}

void ChannelRegistry::sweep(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  for (auto it = channels_.begin(); it != channels_.end();) {
    if (const ChannelRule* rule = options_.rule_for(it->first)) expire(it->second, *rule, now);
    if (it->second.subscribers == 0 && it->second.history_empty()) it = channels_.erase(it);
    else ++it;
  }
}

size_t ChannelRegistry::channel_count() {
  std::lock_guard lock(mutex_);
  return channels_.size();
}

}  // namespace capstan::pubsub
