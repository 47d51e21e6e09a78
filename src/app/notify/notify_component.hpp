// The `notify` component (SPEC section 3): one instance per loop, holding that loop's
// connections of the route, indexed by user. It parses {"action", "data"}, enforces the
// tutorial's fatal/non-fatal rules, runs the action (relay, sql on a worker, or a C++
// handler) and delivers the reply to its targets: everyone through the route's topic, users
// through the route's topic family, whose members each loop finds in its index by user
// (capstan/topics.hpp), so a connection pays no subscription for being someone's.
#pragma once

#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "app/notify/notify_route.hpp"
#include "capstan/component.hpp"
#include "capstan/json.hpp"
#include "util/byte_buffer.hpp"

namespace capstan::app {

struct ActionMessage;

// The users a reply goes to, as keys of the route's users family: 'i' and a user id, or 'u'
// and an identity (an integer in `to` names an id only, a string an identity, and an id too
// when it is a number). Resolved once, carried to every loop and node.
using Recipients = std::vector<std::string>;
std::string id_key(int64_t id);
std::string identity_key(std::string_view identity);

class NotifyComponent final : public Component {
 public:
  explicit NotifyComponent(std::shared_ptr<NotifyRoute> route) : route_(std::move(route)) {}

  void on_start() override;
  void on_open(Connection& c) override;
  void on_message(Connection& c, Message message) override;
  void on_close(Connection& c, CloseInfo) override;
  void on_refused(Connection& c, uint16_t code, std::string_view reason) override;
  void on_rate_limited(Connection& c, Message message) override;
  // The publish API's publication: the action's reply to everyone on the route, or to the
  // users named (ids or identities), on every loop; `done` gets the deliveries counted there.
  void on_publish(const Publication& publication, PublishDone done) override;

  const NotifyRoute& route() const noexcept { return *route_; }

  // Replies and refusals (also used by the C++ handler context and sql continuations).
  void send_reply(Connection& to, std::string_view action, std::string_view data_json);
  void send_error(Connection& to, std::string_view message);
  void send_rate_limited(Connection& to);
  void send_validation_errors(Connection& to, const std::vector<std::string>& messages);
  // fatalError, then the close: the route's fatal_close_code (Ratchet's 1000) unless `code`.
  void fatal(Connection& to, std::string_view message, std::string_view why, uint16_t code = 0);
  // `data_json` under `action` to `target` (users: `recipients`), on every loop.
  void deliver(Connection& sender, Target target, const Recipients& recipients, std::string_view action,
               std::string_view data_json);
  // A complete reply message to `target`.
  void deliver_reply(Connection& sender, Target target, const Recipients& recipients, std::string_view reply);

 private:
  // Replies to one connection's messages leave in the order the messages arrived, as with
  // Ratchet. A message whose work runs on a worker (an sql action, a user recheck) makes the
  // connection `busy`: reading pauses, and the messages its last read already held wait here,
  // in order, until the work is done. Other connections never wait on it.
  struct Entry {
    struct Held {
      std::string text;
      bool rate_limited;  // answered `error` in its turn
      bool checked;       // users.recheck = "message": covered by a lookup made after it arrived
    };
    std::unique_ptr<std::deque<Held>> held;
    bool busy = false;
    bool has_held() const noexcept { return held && !held->empty(); }
    // Behind what is held; `first`: in front of it (a message whose own turn has come).
    void hold(Held h, bool first = false) {
      if (!held) held = std::make_unique<std::deque<Held>>();
      if (first) held->push_front(std::move(h));
      else held->push_back(std::move(h));
    }
  };

  // A message whose turn has come: rechecks the user first when configured, then handles it.
  void process(Connection& c, Entry& entry, std::string_view text, bool checked);
  void handle(Connection& c, Entry& entry, std::string_view text);
  // The worker's job for `c` is done: `entry` runs what was held until the next job, or all of
  // it and reading resumes.
  void run_held(Connection& c);
  void begin_job(Connection& c, Entry& entry);
  void run_relay(Connection& c, const ActionDef& def, const ActionMessage& m, const Recipients& to);
  void run_sql(Connection& c, Entry& entry, const ActionDef& def, const ActionMessage& m, Recipients to);
  void run_handler(Connection& c, const ActionDef& def, const ActionMessage& m, Recipients to);
  // http actions (notify_http_action.cpp): the request, then its answer as the reply.
  void run_http(Connection& c, Entry& entry, const ActionDef& def, const ActionMessage& m, Recipients to);
  void answered(Connection& c, const ActionDef& def, const Expected<HttpClientResponse>& answer, Recipients to);
  void recheck_user(Connection& c, Entry& entry, std::string_view text);
  // The users family's lookup: this loop's connections of one key.
  void find_members(std::string_view key, std::vector<Connection*>& found) const;
  // users.recheck as a duration: every connected user of this loop looked up in one job.
  void recheck_everyone();
  void end_users(const std::vector<std::string>& gone);

  std::shared_ptr<NotifyRoute> route_;
  std::unordered_map<Connection*, Entry> entries_;
  std::unordered_multimap<int64_t, Connection*> by_id_;
  std::unordered_multimap<std::string_view, Connection*> by_identity_;  // views into User::identity
  bool recheck_in_flight_ = false;
  std::string scratch_;     // replies are built here
  util::ByteBuffer relay_reply_{256};  // a relayed message's reply, data included
  JsonParser json_parser_;             // http actions' answers
};

// Recipients of a `users` target: data.to, a user id or identity, or a list of them.
Recipients recipients_from(const Json& to);

}  // namespace capstan::app
