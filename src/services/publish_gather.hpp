// Waits for every publication of one request to be delivered (each component answers through
// its PublishDone, from any loop), then answers once: the deliveries summed, or the first
// refusal.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "capstan/component.hpp"

namespace capstan::services {

class PublishGather {
 public:
  struct Outcome {
    size_t delivered = 0;  // summed over the publications that were taken
    size_t taken = 0;      // publications a component accepted
    std::string error;     // the first refusal, prefixed by its `where`
  };
  using Finish = std::function<void(Outcome outcome)>;
  PublishGather(size_t expected, Finish finish) : left_(expected), finish_(std::move(finish)) {}

  // The PublishDone of one publication; `where` prefixes its refusal. It keeps the gather.
  static PublishDone done_for(std::shared_ptr<PublishGather> gather, std::string where) {
    return [gather = std::move(gather), where = std::move(where)](Expected<size_t> result) { gather->add(where, result); };
  }

 private:
  void add(const std::string& where, const Expected<size_t>& result) {
    Finish finish;
    Outcome outcome;
    {
      std::lock_guard lock(mutex_);
      if (result) {
        outcome_.delivered += *result;
        ++outcome_.taken;
      } else if (outcome_.error.empty()) {
        outcome_.error = where + result.error().message();
      }
      if (--left_ != 0) return;
      finish = std::move(finish_);
      outcome = std::move(outcome_);
    }
    finish(std::move(outcome));
  }

  std::mutex mutex_;
  size_t left_;
  Outcome outcome_;
  Finish finish_;
};

}  // namespace capstan::services
