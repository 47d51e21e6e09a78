// What one pubsub route knows of its channels across every loop: how many subscribers each
// has (the per-channel limit), who is present, and the history with its offset and epoch.
// Shared by the route's instances under one lock, taken per subscribe, unsubscribe and
// numbered publication, never per delivery: deliveries go through the loops' Topics.
//
// A numbered publication (a channel with history) is published to the Topics while the lock
// is held, so every loop receives a channel's publications in offset order; a subscriber
// that recovers reads the history under the same lock and joins its topic after that offset
// (Topics::subscribe's `after`), so nothing is missed or received twice.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "components/pubsub/pubsub_keys.hpp"

namespace capstan::pubsub {

using Clock = std::chrono::steady_clock;

// A new epoch: 12 random hex digits.
std::string new_epoch();

struct Since {
  uint64_t offset = 0;
  std::string epoch;
};

struct Joined {
  std::string_view refusal;       // non-empty: not subscribed (a limit)
  bool first_of_user = false;     // presence: announce `joined`
  bool history = false;           // the channel keeps history: offset, epoch, recovered apply
  uint64_t offset = 0;            // the channel's last offset
  std::string epoch;
  bool recovered = false;
  std::vector<std::string> missed;  // frames after `since`, in order
};

struct Present {
  std::string user_id;
  std::string identity;
  uint32_t connections = 0;
};

class ChannelRegistry {
 public:
  explicit ChannelRegistry(const PubsubOptions& options) : options_(options) {}

  // `user_key` names the user for presence ("" for an anonymous connection: not listed).
  Joined join(std::string_view channel, std::string_view user_key, std::string_view identity,
              const std::optional<Since>& since, Clock::time_point now);
  // True when it was the user's last connection in the channel (presence: announce `left`).
  bool leave(std::string_view channel, std::string_view user_key);

  // Runs `publish(frame_for(offset, epoch), offset)` for a channel with history, under the
  // lock, keeping the frame; for any other channel without the lock, offset 0.
  using FrameFor = std::function<std::string(uint64_t offset, std::string_view epoch)>;
  using Publish = std::function<void(const std::string& frame, uint64_t offset)>;
  void publish(std::string_view channel, const FrameFor& frame_for, const Publish& publish, Clock::time_point now);

  std::vector<Present> presence(std::string_view channel);
  // Forgets channels with neither subscribers nor living history.
  void sweep(Clock::time_point now);
  size_t channel_count();

 private:
  struct Kept {
    uint64_t offset;
    Clock::time_point at;
    std::string frame;
  };
  struct Channel {
    uint32_t subscribers = 0;
    uint64_t offset = 0;
    std::string epoch;
    // Made when first used: an empty deque alone costs ~500 bytes, and most channels keep no
    // history and list no one.
    std::unique_ptr<std::unordered_map<std::string, Present>> users;  // by user key
    std::unique_ptr<std::deque<Kept>> history;
    bool history_empty() const noexcept { return !history || history->empty(); }
  };

  Channel& channel_of(std::string_view name);
  void expire(Channel& c, const ChannelRule& rule, Clock::time_point now);

  const PubsubOptions& options_;
  std::mutex mutex_;
  std::unordered_map<std::string, Channel> channels_;
};

}  // namespace capstan::pubsub
