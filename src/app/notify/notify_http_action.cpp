// `kind = "http"` actions (SPEC 5a, the action proxy): the action, its data and the sender are
// POSTed to the web application on the loop's HTTP client, and its JSON answer is the reply.
// The connection is busy meanwhile, as with an sql action, so replies keep the order of the
// messages; other connections never wait.
#include "app/notify/action_json.hpp"
#include "app/notify/notify_component.hpp"
#include "capstan/backend.hpp"
#include "capstan/log.hpp"

namespace capstan::app {

namespace {

std::string action_body(const Connection& c, const ActionDef& def, const ActionMessage& m) {
  std::string out;
  capstan::JsonWriter w(out);  // the public writer (app::JsonWriter is notify's own)
  w.raw("{\"route\":").string(c.path()).raw(",\"action\":").string(def.name).raw(",\"data\":");
  w.value(JsonAccess::wrap(m.data));
  w.raw(",\"user\":");
  write_backend_user(w, c.user());
  w.raw(",\"connection\":").string(std::to_string(c.id())).raw("}");
  return out;
}

// What a client hears when the application did not answer with a reply.
std::string failure_message(const Error& e) {
  if (e == HttpClientError::too_many_in_flight) return "Backend busy";
  if (e == HttpClientError::timeout) return "Backend timeout";
  return "Backend failed";
}

}  // namespace

void NotifyComponent::run_http(Connection& c, Entry& entry, const ActionDef& def, const ActionMessage& m, Recipients to) {
  begin_job(c, entry);
  HttpClientRequest request = backend().request(def.url, action_body(c, def, m));
  http_client().request(
      std::move(request),
      [this, &def, ref = c.ref(), to = std::move(to)](Expected<HttpClientResponse> answer) mutable {
        route_->backend_metrics->count(answer);
        Connection* conn = ref.get();
        if (!conn) return;  // closed while the application was thinking
        answered(*conn, def, answer, std::move(to));
        run_held(*conn);
      },
      route_->backend_limit);
}

void NotifyComponent::answered(Connection& c, const ActionDef& def, const Expected<HttpClientResponse>& answer,
                               Recipients to) {
  if (!answer) {
    log::warn("http action failed", {{"action", def.name}, {"reason", answer.error().message()}});
    return send_error(c, failure_message(answer.error()));
  }
  JsonParser& parser = json_parser_;
  const int status = answer->status;
  Expected<Json> body = parser.parse(answer->body);
  if (status >= 400 && status < 500) {
    const std::optional<std::string_view> message = body ? (*body)["message"].as_string() : std::nullopt;
    return send_error(c, message ? std::string(*message) : "Request refused");
  }
  if (status < 200 || status >= 300 || !body || body->type() != Json::Type::object) {
    log::warn("http action failed", {{"action", def.name}, {"status", std::to_string(status)},
                                      {"reason", !body ? "the answer is not JSON" : "the answer is not a JSON object"}});
    return send_error(c, "Backend failed");
  }
  const std::string data = (*body)["data"].exists() ? (*body)["data"].dump() : "null";
  const Json target = (*body)["to"];
  Target where = def.to;
  if (const std::optional<std::string_view> named = target.as_string()) {
    if (*named == "sender") where = Target::sender;
    else if (*named == "all") where = Target::all;
    else if (*named == "self") where = Target::self;
  } else if (target["users"].exists()) {
    where = Target::users;
    to = recipients_from(target["users"]);
  } else if (const std::optional<std::string_view> channel = target["channel"].as_string()) {
    // The pubsub routes' channel of that name, as the publish API would deliver it.
    Publication p;
    p.action = def.name;
    p.data = data;
    p.channel = *channel;
    return publish_to_routes(p);
  } else if (target.exists() && target.type() != Json::Type::null) {
    log::warn("http action answer names a target this route does not have", {{"action", def.name}, {"to", target.dump()}});
    return send_error(c, "Backend failed");
  }
  deliver(c, where, to, def.name, data);
}

}  // namespace capstan::app
