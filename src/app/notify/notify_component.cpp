#include "app/notify/notify_component.hpp"

#include <algorithm>
#include <charconv>

#include "app/notify/action_json.hpp"
#include "capstan/database.hpp"
#include "capstan/log.hpp"

namespace capstan::app {

namespace {

template <class Map, class Key>
void erase_pair(Map& map, const Key& key, Connection* c) {
  auto [first, last] = map.equal_range(key);
  for (auto it = first; it != last; ++it) {
    if (it->second == c) {
      map.erase(it);
      return;
    }
  }
}

}  // namespace

std::string id_key(int64_t id) { return 'i' + std::to_string(id); }

std::string identity_key(std::string_view identity) {
  std::string key;
  key.reserve(1 + identity.size());
  key += 'u';
  key += identity;
  return key;
}

Recipients recipients_from(const Json& to) {
  Recipients r;
  auto add = [&r](const Json& v) {
    if (auto id = v.as_int()) {
      r.push_back(id_key(*id));
    } else if (auto identity = v.as_string()) {
      r.push_back(identity_key(*identity));
      // Ids often arrive as strings (form values, PHP): "2" also means user 2.
      if (int64_t numeric = Users::id_from_identity(*identity)) r.push_back(id_key(numeric));
    }
  };
  if (to.type() == Json::Type::array) {
    for (size_t i = 0; i < to.size(); ++i) add(to[i]);
  } else {
    add(to);
  }
  return r;
}

// ---- connections of this loop ----------------------------------------------------------------

void NotifyComponent::on_start() {
  // Every loop's instance answers for its own connections; the family is named by the route's
  // path, so the same route on another node answers too.
  topics().add_family(route_->users_family,
                      [this](std::string_view key, std::vector<Connection*>& found) { find_members(key, found); });
  const bool calls_backend = std::any_of(route_->actions.begin(), route_->actions.end(),
                                         [](const auto& named) { return named.second.kind == ActionDef::Kind::http; });
  if (calls_backend)
    std::call_once(route_->backend_once, [this] {
      route_->backend_limit = backend().new_limit();
      route_->backend_metrics = std::make_unique<BackendMetrics>(route_->path);
    });
  // A timer through the component API, like any component's: users deleted or banned in the
  // application lose their connections within one interval, without having to speak first.
  const Users* u = users();
  if (u && u->recheck_interval().count() > 0) loop().every(u->recheck_interval(), [this] { recheck_everyone(); });
}

void NotifyComponent::recheck_everyone() {
  if (recheck_in_flight_) return;  // a slow database: the next tick waits for this one
  std::vector<std::string> identities;
  for (const auto& [identity, connection] : by_identity_) identities.emplace_back(identity);
  std::sort(identities.begin(), identities.end());
  identities.erase(std::unique(identities.begin(), identities.end()), identities.end());
  if (identities.empty()) return;
  const Users* u = users();
  recheck_in_flight_ = offload([this, u, identities = std::move(identities)](db::Database* db, const Error& open_error) {
    std::vector<std::string> gone;
    for (const std::string& identity : identities) {
      const Expected<int64_t> found = u->lookup(db, open_error, identity);
      if (found) continue;
      if (found.error() != AuthError::unknown_user) {
        log::error("user recheck failed", {{"reason", found.error().message()}});
        break;  // a database that fails ends nobody
      }
      gone.push_back(identity);
    }
    return std::function<void()>([this, gone = std::move(gone)] {
      recheck_in_flight_ = false;
      end_users(gone);
    });
  });
}

void NotifyComponent::end_users(const std::vector<std::string>& gone) {
  std::vector<Connection*> ending;
  for (const std::string& identity : gone) {
    auto [first, last] = by_identity_.equal_range(identity);
    for (auto it = first; it != last; ++it) ending.push_back(it->second);
  }
  for (Connection* c : ending) fatal(*c, "Invalid request", "user no longer exists");
}

void NotifyComponent::on_open(Connection& c) {
  entries_.try_emplace(&c);
  topics().subscribe(c, route_->topic);  // left when it closes
  if (const User* u = c.user()) {
    if (u->id != 0) by_id_.emplace(u->id, &c);
    if (!u->identity.empty()) by_identity_.emplace(u->identity, &c);
  }
}

void NotifyComponent::on_close(Connection& c, CloseInfo) {
  entries_.erase(&c);
  if (const User* u = c.user()) {
    erase_pair(by_id_, u->id, &c);
    erase_pair(by_identity_, std::string_view(u->identity), &c);
  }
}

void NotifyComponent::on_refused(Connection& c, uint16_t code, std::string_view reason) {
  if (code == close_code::internal_error) fatal(c, "Service unavailable", reason, code);
  else fatal(c, "Invalid request", reason);
}

void NotifyComponent::on_rate_limited(Connection& c, Message) {
  auto it = entries_.find(&c);
  if (it == entries_.end()) return;
  Entry& entry = it->second;
  if (entry.busy || entry.has_held()) entry.hold({{}, true, true});  // answered in its turn
  else send_rate_limited(c);
}

void NotifyComponent::send_rate_limited(Connection& c) { send_error(c, "Rate limit exceeded: too many messages"); }

// ---- messages --------------------------------------------------------------------------------

void NotifyComponent::on_message(Connection& c, Message message) {
  // Ratchet hands a binary payload to onMessage as a string, so JSON sent as a Blob works.
  if (message.binary && !route_->binary_messages) return fatal(c, "Invalid request", "binary message");
  auto it = entries_.find(&c);
  if (it == entries_.end()) return;
  Entry& entry = it->second;
  if (entry.busy || entry.has_held()) return entry.hold({std::string(message.data), false, false});
  process(c, entry, message.data, false);
}

void NotifyComponent::process(Connection& c, Entry& entry, std::string_view text, bool checked) {
  const Users* u = users();
  if (!checked && u && u->recheck_each_message() && c.user()) return recheck_user(c, entry, text);
  handle(c, entry, text);
}

void NotifyComponent::begin_job(Connection& c, Entry& entry) {
  entry.busy = true;
  c.pause_reading();
}

void NotifyComponent::run_held(Connection& c) {
  auto it = entries_.find(&c);
  if (it == entries_.end()) return;
  Entry& entry = it->second;
  entry.busy = false;
  while (!entry.busy && entry.has_held() && c.is_open()) {
    Entry::Held h = std::move(entry.held->front());
    entry.held->pop_front();
    if (h.rate_limited) send_rate_limited(c);
    else process(c, entry, h.text, h.checked);
  }
  if (!entry.busy) {
    entry.held.reset();
    c.resume_reading();
  }
}

void NotifyComponent::recheck_user(Connection& c, Entry& entry, std::string_view text) {
  // The message waits, first in line, for a lookup made after it arrived; so do the ones its
  // read held behind it (reading is paused), and that one lookup clears them all.
  entry.hold({std::string(text), false, false}, true);
  begin_job(c, entry);
  const Users* u = users();
  const bool offloaded = c.offload([this, u, identity = c.user()->identity](db::Database* db, const Error& open_error) {
    return std::function<void(Connection&)>([this, found = u->lookup(db, open_error, identity)](Connection& conn) {
      auto it = entries_.find(&conn);
      if (it == entries_.end()) return;
      if (found) {
        for (Entry::Held& h : *it->second.held) h.checked = true;
        return run_held(conn);
      }
      // The held messages die with the connection; reading resumes for the peer's close frame.
      it->second.held.reset();
      run_held(conn);
      if (found.error() == AuthError::unknown_user) return fatal(conn, "Invalid request", "user no longer exists");
      log::error("user lookup failed", {{"reason", found.error().message()}});
      fatal(conn, "Service unavailable", "user database unavailable", close_code::internal_error);
    });
  });
  if (!offloaded) {
    entry.held.reset();
    run_held(c);
    fatal(c, "Service unavailable", "no user database", close_code::internal_error);
  }
}

void NotifyComponent::handle(Connection& c, Entry& entry, std::string_view text) {
  const ActionMessage m = parse_action_message(text);
  if (m.status != ActionMessage::Status::ok) return fatal(c, "Invalid request", describe(m.status));
  // An action that is set but names nothing ("", 5, false) is the tutorial's switch default.
  auto it = m.action.empty() ? route_->actions.end() : route_->actions.find(m.action);
  if (it == route_->actions.end()) return send_error(c, route_->unknown_action_message);
  const ActionDef& def = it->second;
  Recipients to;
  if (def.to == Target::users) to = recipients_from(JsonAccess::wrap(m.data)["to"]);
  switch (def.kind) {
    case ActionDef::Kind::relay: return run_relay(c, def, m, to);
    case ActionDef::Kind::sql: return run_sql(c, entry, def, m, std::move(to));
    case ActionDef::Kind::http: return run_http(c, entry, def, m, std::move(to));
    case ActionDef::Kind::handler: return run_handler(c, def, m, std::move(to));
  }
}

void NotifyComponent::run_relay(Connection& c, const ActionDef& def, const ActionMessage& m, const Recipients& to) {
  // The client's data goes straight from the parsed message into the reply, escaped for the
  // string that holds it when data_as_string: serialized once, into a reused buffer.
  util::ByteBuffer& reply = relay_reply_;
  reply.clear();
  const bool as_string = route_->data_as_string;
  begin_reply(reply, def.name, as_string);
  BasicJsonWriter<util::ByteBuffer> json(reply, as_string);
  const User* u = c.user();
  if (!def.from_field.empty() && m.data.is_object()) {
    // The client's object with the sender added (replacing a field of that name it sent).
    json.raw("{");
    for (simdjson::dom::key_value_pair field : simdjson::dom::object(m.data)) {
      if (field.key == def.from_field) continue;
      json.string(field.key);
      json.raw(":");
      json.value(field.value);
      json.raw(",");
    }
    json.string(def.from_field);
    json.raw(":{");
    json.string("id");
    json.raw(":");
    if (u) json.integer(u->id);
    else json.raw("null");
    json.raw(",");
    json.string("identity");
    json.raw(":");
    if (u) json.string(u->identity);
    else json.raw("null");
    json.raw("}}");
  } else {
    json.value(m.data);
  }
  end_reply(reply, as_string);
  deliver_reply(c, def.to, to, reply.view());
}

// ---- replies ---------------------------------------------------------------------------------

void NotifyComponent::send_reply(Connection& to, std::string_view action, std::string_view data_json) {
  scratch_.clear();
  append_reply(scratch_, action, data_json, route_->data_as_string);
  to.send_text(scratch_);
}

void NotifyComponent::send_error(Connection& to, std::string_view message) {
  std::string data = "{\"message\":";
  append_quoted(data, message);
  data += '}';
  send_reply(to, "error", data);
}

void NotifyComponent::send_validation_errors(Connection& to, const std::vector<std::string>& messages) {
  std::string data = "[";
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i) data += ',';
    append_quoted(data, messages[i]);
  }
  data += ']';
  send_reply(to, "error", data);
}

void NotifyComponent::fatal(Connection& to, std::string_view message, std::string_view why, uint16_t code) {
  if (code == 0) code = route_->fatal_close_code;
  std::string data = "{\"message\":";
  append_quoted(data, message);
  data += '}';
  send_reply(to, "fatalError", data);
  log::info("fatalError", {{"reason", why}, {"remote", to.remote_address()}});
  // The close reason tells a developer why; clients read the fatalError message.
  to.close(code, why.substr(0, 120));
}

void NotifyComponent::deliver(Connection& sender, Target target, const Recipients& recipients, std::string_view action,
                              std::string_view data_json) {
  scratch_.clear();
  append_reply(scratch_, action, data_json, route_->data_as_string);
  deliver_reply(sender, target, recipients, scratch_);
}

void NotifyComponent::deliver_reply(Connection& sender, Target target, const Recipients& recipients,
                                    std::string_view reply) {
  Recipients self;
  const Recipients* who = &recipients;
  switch (target) {
    case Target::none: return;
    case Target::sender:
      sender.send_text(reply);
      return;
    case Target::self:
      if (!sender.user()) {
        sender.send_text(reply);
        return;
      }
      self.push_back(identity_key(sender.user()->identity));
      who = &self;
      break;
    case Target::all:
      topics().publish(route_->topic, reply);  // every loop, every node
      return;
    case Target::users: break;
  }
  topics().publish_to_members(route_->users_family, *who, reply);  // every loop, every node
}

void NotifyComponent::on_publish(const Publication& p, PublishDone done) {
  if (!p.channel.empty()) return done(Error(std::make_error_code(std::errc::invalid_argument), "a notify route has no channels"));
  if (p.action.empty()) return done(Error(std::make_error_code(std::errc::invalid_argument), "action: a non-empty string is required"));
  std::string reply;
  append_reply(reply, p.action, p.data, route_->data_as_string);
  if (p.users.empty()) {  // the route's topic, and its users family, cross loops and nodes by themselves
    topics().publish_counted(route_->topic, reply, Opcode::text, 0, [done = std::move(done)](size_t n) { done(n); });
    return;
  }
  Recipients r;
  for (const std::string& user : p.users) {
    r.push_back(identity_key(user));
    if (int64_t id = Users::id_from_identity(user)) r.push_back(id_key(id));
  }
  topics().publish_to_members_counted(route_->users_family, r, reply, Opcode::text,
                                      [done = std::move(done)](size_t n) { done(n); });
}

void NotifyComponent::find_members(std::string_view key, std::vector<Connection*>& found) const {
  if (key.empty()) return;
  if (key[0] == 'i') {
    int64_t id = 0;
    const char* end = key.data() + key.size();
    if (std::from_chars(key.data() + 1, end, id).ptr != end) return;
    auto [first, last] = by_id_.equal_range(id);
    for (auto it = first; it != last; ++it) found.push_back(it->second);
  } else if (key[0] == 'u') {
    auto [first, last] = by_identity_.equal_range(key.substr(1));
    for (auto it = first; it != last; ++it) found.push_back(it->second);
  }
}

}  // namespace capstan::app
