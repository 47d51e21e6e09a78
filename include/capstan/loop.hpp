// The event loop a component runs on: timers and cross-thread posting.
//
// Capstan runs one loop per thread. Each loop owns its connections and its own instance of
// every component, so component code never needs locks for its own state. `post` is the one
// member that may be called from any thread; everything else belongs to the loop's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "capstan/types.hpp"

namespace capstan {

using TimerId = uint64_t;

class Loop {
 public:
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Runs `fn` once after `delay`; returns an id for cancel().
  TimerId after(Duration delay, std::function<void()> fn);
  // Runs `fn` every `interval` until cancelled.
  TimerId every(Duration interval, std::function<void()> fn);
  // Cancels a pending timer; unknown or fired ids are ignored.
  void cancel(TimerId id);

  // Runs `fn` on this loop's thread during its next turn. Thread-safe.
  void post(std::function<void()> fn);

  // The loop's clock, read once per turn.
  std::chrono::steady_clock::time_point now() const noexcept;
  // 0 .. threads-1.
  unsigned index() const noexcept;

 protected:
  Loop() = default;
  ~Loop() = default;
};

}  // namespace capstan
