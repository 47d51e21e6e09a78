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
//
// A topic *family* is a set of topics whose subscribers a component already finds in an index
// of its own, so that being in one costs a connection nothing more: "every connection of user
// K", for any K, is found through the notify component's connections by user, where a topic
// per user would cost each connection a subscription (~190 bytes). Each loop's instance
// registers how to find a member's connections on that loop (add_family); a publication names
// the family and some members, and travels as a topic's does (copied once, posted once to each
// loop, relayed once to the other nodes), and each loop sends it with send_to_many to the union
// of what its lookup found: a connection found under two keys (a user named by id and by
// identity) gets it once. Family names share one space per server and node, apart from topic
// names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capstan/connection.hpp"
#include "capstan/types.hpp"

namespace capstan {

class Topics {
 public:
  Topics(const Topics&) = delete;
  Topics& operator=(const Topics&) = delete;

  // `c` (a connection of this loop) receives what is published to `topic` from now on, until
  // it unsubscribes or closes. False when it was subscribed already, or is not open.
  //
  // With `after` > 0 it skips publications whose sequence (see publish) is `after` or less
  // until the first one past it: a client that recovered a channel's history up to `after`
  // (read while no publication could be numbered) gets none of it twice, even if a
  // publication numbered before was still on its way to this loop.
  virtual bool subscribe(Connection& c, std::string_view topic, uint64_t after = 0) = 0;
  // False when it was not subscribed.
  virtual bool unsubscribe(Connection& c, std::string_view topic) = 0;
  // This loop's subscribers of `topic`, in no particular order; valid until the next
  // subscribe or unsubscribe on this loop (a close unsubscribes).
  virtual std::span<Connection* const> subscribers_here(std::string_view topic) const noexcept = 0;
  // Topics a connection of this loop is subscribed to (a component's limits per connection).
  virtual size_t subscriptions_of(const Connection& c) const noexcept = 0;

  // `data` as one message to every subscriber of `topic` on every loop. Returns how many
  // deliveries were queued on this loop (other loops count their own later). `sequence`, when
  // not 0, numbers the publication for subscribers that joined `after` a position; a topic's
  // sequenced publications must be published in increasing order (under the lock that numbers
  // them, when several loops publish). A numbered publication reaches this loop's subscribers
  // through the loop's queue too (0 is returned), so every loop sends a topic's numbers in
  // order even when another loop published the one before.
  virtual size_t publish(std::string_view topic, std::string_view data, Opcode opcode = Opcode::text, uint64_t sequence = 0) = 0;
  // The same, to this loop's subscribers only: for what already reached every loop another
  // way (a message from another node, fanned out by a loop of its own).
  virtual size_t publish_here(std::string_view topic, std::string_view data, Opcode opcode = Opcode::text,
                              uint64_t sequence = 0) = 0;
  // publish, then `delivered` (on the last loop to send, any thread) with the deliveries of
  // every loop: what a publisher waiting for a count needs.
  virtual void publish_counted(std::string_view topic, std::string_view data, Opcode opcode, uint64_t sequence,
                               std::function<void(size_t delivered)> delivered) = 0;

  // ---- topic families ----
  // Appends this loop's connections of member `key` to `found`, each once (a connection found
  // under two of a publication's keys is sent it once all the same).
  using MemberLookup = std::function<void(std::string_view key, std::vector<Connection*>& found)>;
  // From now on, publications to `family` reach this loop's connections that `lookup` finds;
  // call it on every loop the family has members on (in on_start). A family without a lookup
  // on a loop has no members there. Registering a name again replaces its lookup.
  virtual void add_family(std::string_view family, MemberLookup lookup) = 0;
  // `data` as one message to the connections of the members `keys` of `family`, on every loop
  // and node, each connection once. Returns the deliveries queued on this loop; publications
  // from one loop keep their order on each loop, topics' and families' alike.
  virtual size_t publish_to_members(std::string_view family, std::span<const std::string> keys, std::string_view data,
                                    Opcode opcode = Opcode::text) = 0;
  // publish_to_members, then `delivered` with the deliveries of every loop of this server.
  virtual void publish_to_members_counted(std::string_view family, std::span<const std::string> keys,
                                          std::string_view data, Opcode opcode,
                                          std::function<void(size_t delivered)> delivered) = 0;

 protected:
  Topics() = default;
  ~Topics() = default;
};

}  // namespace capstan
