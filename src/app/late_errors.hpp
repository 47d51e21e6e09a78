// Faults found while a component was sending (a send buffer over its cap): the connection is
// failed at once (close frame, draining), and the component's on_error is told at the end of
// the turn, once its own call has returned. So a send never calls the component back, and a
// set of recipients it iterates (send_to_many, a channel's subscribers) cannot change under it.
#pragma once

#include <utility>
#include <vector>

#include "capstan/error.hpp"

namespace capstan::app {

class ConnectionImpl;

class LateErrors {
 public:
  // `c` stays alive until delivery: connections are only reaped after it (end of the turn).
  void add(ConnectionImpl* c, WsError error) { pending_.emplace_back(c, error); }
  bool empty() const noexcept { return pending_.empty(); }
  // Tells each component of its connection's fault, in the order they were found, those
  // found meanwhile too.
  void deliver();

 private:
  std::vector<std::pair<ConnectionImpl*, WsError>> pending_;
  std::vector<std::pair<ConnectionImpl*, WsError>> delivering_;
};

}  // namespace capstan::app
