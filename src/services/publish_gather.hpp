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
  using Finish = std::function<void(size_t delivered, std::string error)>;
  PublishGather(size_t expected, Finish finish) : left_(expected), finish_(std::move(finish)) {}

  // The PublishDone of one publication; `where` prefixes its refusal. It keeps the gather.
  static PublishDone done_for(std::shared_ptr<PublishGather> gather, std::string where) {
    return [gather = std::move(gather), where = std::move(where)](Expected<size_t> result) { gather->add(where, result); };
  }

 private:
  void add(const std::string& where, const Expected<size_t>& result) {
    Finish finish;
    size_t delivered;
    std::string error;
    {
      std::lock_guard lock(mutex_);
      if (result) delivered_ += *result;
      else if (error_.empty()) error_ = where + result.error().message();
      if (--left_ != 0) return;
      finish = std::move(finish_);
      delivered = delivered_;
      error = error_;
    }
    finish(delivered, std::move(error));
  }

  std::mutex mutex_;
  size_t left_;
  size_t delivered_ = 0;
  std::string error_;
  Finish finish_;
};

}  // namespace capstan::services
