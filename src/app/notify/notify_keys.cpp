// notify's route keys, declared the way any component type declares its own
// (capstan/route_keys.hpp), and read back from the checked values in for_route.
#include "app/notify/notify_keys.hpp"

#include <cstdlib>
#include <string>

#include "capstan/database.hpp"

namespace capstan::app {

namespace {

// In the order of ActionDef::Kind and of Target, which the loader's choice index maps to.
const std::vector<std::string> kKinds = {"relay", "sql", "http"};
const std::vector<std::string> kTargets = {"all", "sender", "self", "users", "none"};

std::string quoted_choices(const std::vector<std::string>& choices) {
  std::string out;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i) out += i + 1 == choices.size() ? " or " : ", ";
    out += '"' + choices[i] + '"';
  }
  return out;
}

std::vector<KeyDecl> action_keys() {
  return {
      {.name = "name", .default_text = "(required)", .help = "the action's name, as clients send it"},
      {.name = "kind", .type = KeyType::choice, .default_text = "(required)",
       .help = "relay: forward the client's data; sql: answer from the user database; http: answer from the web application (SPEC 5a)",
       .choices = kKinds},
      {.name = "to", .type = KeyType::choice, .default_text = "\"all\"",
       .help = "who gets the reply: every client of the route, the sender, the sender's user on all connections, the users in data.to, nobody",
       .choices = kTargets},
      {.name = "from_field", .default_text = "\"\"", .help = "relay: add the sender {id, identity} under this key"},
      {.name = "query", .default_text = "(required for sql)", .help = "sql: the query; :name binds data.name"},
      {.name = "one", .type = KeyType::boolean, .default_text = "true", .help = "sql: one row (else a list)"},
      {.name = "not_found", .default_text = "\"Not found\"", .help = "sql: the error when no row matches"},
      {.name = "url", .default_text = "(required for http)", .help = "http: where the action is POSTed"},
      {.name = "relative_dates", .type = KeyType::string_list, .default_text = "[]",
       .help = "sql: columns rendered as \"5 minutes ago\""},
  };
}

}  // namespace

std::vector<KeyDecl> notify_keys() {
  return {
      {.name = "data_as_string", .type = KeyType::boolean, .default_text = "true",
       .help = "`data` sent as a string holding JSON (the tutorial's client)"},
      {.name = "fatal_close_code", .type = KeyType::integer, .default_text = "1000",
       .help = "close code after a fatalError; default 1000, as Ratchet's $conn->close()"},
      {.name = "binary_messages", .type = KeyType::boolean, .default_text = "true",
       .help = "a binary frame carries the action JSON like text (as Ratchet); false: fatal"},
      {.name = "unknown_action_message", .default_text = "\"Invalid request\"",
       .help = "the error message for an unknown action; default \"Invalid request\""},
      {.name = "actions", .type = KeyType::tables, .default_text = "[]",
       .help = "Actions of a `notify` route (SPEC section 3).", .fields = action_keys()},
  };
}

std::vector<ConfigFault> check_notify_keys(const RouteKeys& keys, const Config& config) {
  std::vector<ConfigFault> faults;
  auto fault = [&faults](ConfigError code, std::string key, int line, std::string message) {
    faults.push_back({code, std::move(key), line, std::move(message)});
  };
  if (const KeyValue* code = keys.find("fatal_close_code");
      code && (code->integer > 0xFFFF || !close_code::may_send(static_cast<uint16_t>(code->integer))))
    fault(ConfigError::invalid, "fatal_close_code", code->line, "must be a close code that may be sent: 1000-1003, 1007-1014 or 3000-4999");
  const auto actions = keys.tables("actions");
  for (size_t i = 0; i < actions.size(); ++i) {
    const RouteKeys& a = actions[i];
    const std::string at = "actions[" + std::to_string(i) + "]";
    if (!a.find("kind")) fault(ConfigError::missing, at + ".kind", a.line, "missing: " + quoted_choices(kKinds));
    const ActionDef::Kind kind = a.choice("kind", ActionDef::Kind::relay);
    const bool sql = kind == ActionDef::Kind::sql;
    const std::string query = a.text("query");
    const std::string url = a.text("url");
    if (kind == ActionDef::Kind::http && !url.starts_with("http://") && !url.starts_with("https://"))
      fault(ConfigError::missing, at + ".url", a.line, "an http action needs an http:// or https:// url");
    if (kind != ActionDef::Kind::http && !url.empty()) fault(ConfigError::invalid, at + ".url", a.line, "only http actions have a url");
    if (kind == ActionDef::Kind::http && config.backend.secret.empty() && !std::getenv("CAPSTAN_BACKEND_SECRET"))
      fault(ConfigError::missing, at + ".kind", a.line,
            "http actions are signed: set backend.secret (or CAPSTAN_BACKEND_SECRET) so the application can trust them");
    if (a.text("name").empty()) fault(ConfigError::missing, at + ".name", a.line, "missing: every action has a name");
    if (sql && query.empty()) fault(ConfigError::missing, at + ".query", a.line, "missing: an sql action needs a query");
    if (!sql && !query.empty()) fault(ConfigError::invalid, at + ".query", a.line, "only sql actions have a query");
  }
  // Across sections, so after the others; as before, without a line (the fault is the pair).
  for (size_t i = 0; i < actions.size(); ++i)
    if (actions[i].choice("kind", ActionDef::Kind::relay) == ActionDef::Kind::sql && config.users.provider == UserProvider::none)
      fault(ConfigError::invalid, "actions[" + std::to_string(i) + "].kind", 0,
            "sql actions run against the user database: set users.provider and users.database");
  return faults;
}

NotifyOptions notify_options(const RouteKeys& keys) {
  NotifyOptions o;
  o.data_as_string = keys.boolean("data_as_string", o.data_as_string);
  // check_notify_keys refused any code that does not fit.
  o.fatal_close_code = static_cast<uint16_t>(keys.integer("fatal_close_code", o.fatal_close_code));
  o.binary_messages = keys.boolean("binary_messages", o.binary_messages);
  o.unknown_action_message = keys.text("unknown_action_message", o.unknown_action_message);
  return o;
}

std::vector<ActionDef> configured_actions(const RouteKeys& keys) {
  std::vector<ActionDef> out;
  for (const RouteKeys& a : keys.tables("actions")) {
    ActionDef def;
    def.name = a.text("name");
    def.kind = a.choice("kind", ActionDef::Kind::relay);
    def.to = a.choice("to", Target::all);
    def.from_field = a.text("from_field");
    def.query = a.text("query");
    def.parameters = db::Database::named_parameters(def.query);
    def.one = a.boolean("one", true);
    def.not_found = a.text("not_found", "Not found");
    def.relative_dates = a.list("relative_dates");
    def.url = a.text("url");
    out.push_back(std::move(def));
  }
  return out;
}

}  // namespace capstan::app
