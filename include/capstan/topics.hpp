// Topics: named sets of connections across every loop of the server, and one call that sends
// a message to all of them. A channel, a room, "every connection of user 42": whatever a
// component groups connections by.
//
// A connection subscribes on its own loop (from its component's callbacks), and leaves every
// topic when it closes. A publish from any loop reaches the subscribers of every loop: on the
// publishing loop at once, as Connection::send_to_many sends (one frame stored once, each
// connection's share leaving with the rest of its output at the end of the turn); the payload
// is copied once into a shared buffer and posted once to each other loop, which sends it the
// same way. No lock is taken per delivery, and publications from one loop reach each loop in
// the order they were published.
//
// Each loop has its own Topics (Component::topics()); like the rest of a loop's state it is
// used on that loop's thread only. Topic names share one space per server: prefix them with
// something of your component's (a route path) when two components could pick the same name.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "capstan/connection.hpp"
#include "capstan/types.hpp"

namespace capstan {

class Topics {
 public:
  Topics(const Topics&) = delete;
  Topics& operator=(const Topics&) = delete;

  // `c` (a connection of this loop) receives what is published to `topic` from now on, until
  // it unsubscribes or closes. False when it was subscribed already, or is not open.
  virtual bool subscribe(Connection& c, std::string_view topic) = 0;
  // False when it was not subscribed.
  virtual bool unsubscribe(Connection& c, std::string_view topic) = 0;
  // This loop's subscribers of `topic`, in no particular order; valid until the next
  // subscribe or unsubscribe on this loop (a close unsubscribes).
  virtual std::span<Connection* const> subscribers_here(std::string_view topic) const noexcept = 0;
  // Topics a connection of this loop is subscribed to (a component's limits per connection).
  virtual size_t subscriptions_of(const Connection& c) const noexcept = 0;

  // `data` as one message to every subscriber of `topic` on every loop. Returns how many
  // deliveries were queued on this loop (other loops count their own later).
  virtual size_t publish(std::string_view topic, std::string_view data, Opcode opcode = Opcode::text) = 0;
  // The same, to this loop's subscribers only: for what already reached every loop another
  // way (a message from another node, fanned out by a loop of its own).
  virtual size_t publish_here(std::string_view topic, std::string_view data, Opcode opcode = Opcode::text) = 0;

 protected:
  Topics() = default;
  ~Topics() = default;
};

}  // namespace capstan
