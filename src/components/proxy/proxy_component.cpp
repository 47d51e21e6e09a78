#include "components/proxy/proxy_component.hpp"

#include "capstan/log.hpp"
#include "capstan/users.hpp"

namespace capstan::proxy {

namespace {

// More events waiting than this and the connection is read no further until they drain: a
// client cannot make the server queue without bound for an application that is behind.
constexpr size_t kPauseAt = 16;
constexpr size_t kResumeAt = 4;

std::string user_topic(const std::string& prefix, std::string_view identity) { return prefix + "u:" + std::string(identity); }
std::string id_topic(const std::string& prefix, int64_t id) { return prefix + "i:" + std::to_string(id); }

}  // namespace

void ProxyComponent::on_start() {
  std::call_once(route_->backend_once, [this] {
    route_->limit = backend().new_limit();
    route_->metrics = std::make_unique<BackendMetrics>(route_->path);
  });
  // Once per route, not per loop: the first loop keeps the timer.
  if (route_->timer_interval > Duration::zero() && loop().index() == 0) loop().every(route_->timer_interval, [this] { tick(); });
}

std::string ProxyComponent::event(std::string_view name, const Connection& c) const {
  std::string out;
  JsonWriter w(out);
  w.raw("{\"event\":").string(name).raw(",\"route\":").string(route_->path);
  w.raw(",\"connection\":").string(std::to_string(c.id())).raw(",\"user\":");
  write_backend_user(w, c.user());
  return out;  // the caller adds its fields and the closing brace
}

void ProxyComponent::on_open(Connection& c) {
  topics().subscribe(c, route_->topic);
  if (const User* u = c.user()) {
    topics().subscribe(c, user_topic(route_->topic, u->identity));
    if (u->id != 0) topics().subscribe(c, id_topic(route_->topic, u->id));
  }
  Queue& q = queues_[c.id()];
  q.ref = c.ref();
  enqueue(c, event("open", c) + "}");
}

void ProxyComponent::on_message(Connection& c, Message m) {
  if (m.binary) {  // a PHP component's onMessage gets text; JSON cannot carry arbitrary bytes
    c.close(close_code::unsupported_data, "binary messages are not supported");
    return;
  }
  std::string body = event("message", c);
  JsonWriter(body).raw(",\"message\":").string(m.data).raw("}");
  enqueue(c, std::move(body));
}

void ProxyComponent::on_close(Connection& c, CloseInfo info) {
  std::string body = event("close", c);
  JsonWriter(body).raw(",\"code\":").integer(info.code).raw("}");
  enqueue(c, std::move(body));
  queues_[c.id()].closed = true;
}

void ProxyComponent::enqueue(Connection& c, std::string body) {
  Queue& q = queues_[c.id()];
  q.events.push_back(std::move(body));
  if (!q.paused && q.events.size() > kPauseAt && c.is_open()) {
    q.paused = true;
    c.pause_reading();
  }
  pump(c.id());
}

void ProxyComponent::pump(uint64_t id) {
  auto it = queues_.find(id);
  if (it == queues_.end()) return;
  Queue& q = it->second;
  if (q.in_flight) return;
  if (q.events.empty()) {
    if (q.closed) queues_.erase(it);
    return;
  }
  q.in_flight = true;
  HttpClientRequest request = backend().request(route_->url, std::move(q.events.front()));
  q.events.pop_front();
  if (q.paused && q.events.size() < kResumeAt) {
    q.paused = false;
    if (Connection* c = q.ref.get()) c->resume_reading();
  }
  http_client().request(std::move(request), [this, id](Expected<HttpClientResponse> answer) { answered(id, answer); },
                        route_->limit);
}

void ProxyComponent::answered(uint64_t id, const Expected<HttpClientResponse>& answer) {
  auto it = queues_.find(id);
  if (it == queues_.end()) {
    route_->metrics->count(answer);
    return;
  }
  it->second.in_flight = false;
  run_commands(it->second.ref, answer);
  pump(id);  // the next event of this connection, now that this one is answered
}

void ProxyComponent::run_commands(const ConnectionRef& self, const Expected<HttpClientResponse>& answer) {
  route_->metrics->count(answer);
  if (!answer) {
    log::warn("proxy event failed", {{"route", route_->path}, {"reason", answer.error().message()}});
  } else if (answer->status < 200 || answer->status >= 300) {
    log::warn("proxy event refused", {{"route", route_->path}, {"status", std::to_string(answer->status)}});
  } else if (Expected<Json> body = parser_.parse(answer->body); !body || body->type() != Json::Type::object) {
    log::warn("proxy event answer is not a JSON object", {{"route", route_->path}});
  } else {
    run_commands(self, (*body)["commands"]);
  }
}

void ProxyComponent::run_commands(const ConnectionRef& self, const Json& commands) {
  for (size_t i = 0; i < commands.size(); ++i) {
    const Json command = commands[i];
    if (const Json send = command["send"]; send.exists()) {
      const std::optional<std::string_view> text = send.as_string();
      send_to(self, command["to"], text ? *text : std::string_view(send.dump()));
    } else if (const Json close = command["close"]; close.exists()) {
      const int64_t code = close["code"].as_int().value_or(close_code::normal);
      const std::string reason(close["reason"].as_string().value_or(""));
      Connection* c = self.get();
      if (!c) continue;
      if (code < 0 || code > 0xFFFF || !close_code::may_send(static_cast<uint16_t>(code))) {
        log::warn("proxy close command with a code that may not be sent", {{"route", route_->path}, {"code", std::to_string(code)}});
        c->close();
      } else {
        c->close(static_cast<uint16_t>(code), reason);
      }
    } else {
      log::warn("proxy answer has an unknown command", {{"route", route_->path}, {"command", command.dump()}});
    }
  }
}

void ProxyComponent::send_to(const ConnectionRef& self, const Json& to, std::string_view text) {
  const std::optional<std::string_view> named = to.as_string();
  if (!to.exists() || (named && *named == "self")) {
    if (Connection* c = self.get()) c->send_text(text);
  } else if (named && *named == "route") {
    topics().publish(route_->topic, text);
  } else if (const Json users = to["users"]; users.exists()) {
    for (size_t i = 0; i < users.size(); ++i) {
      if (std::optional<int64_t> id = users[i].as_int()) topics().publish(id_topic(route_->topic, *id), text);
      else if (std::optional<std::string_view> identity = users[i].as_string()) topics().publish(user_topic(route_->topic, *identity), text);
    }
  } else if (const std::optional<std::string_view> channel = to["channel"].as_string()) {
    // A channel is the pubsub routes': each takes the publication as its publish API would.
    Publication p;
    p.action = "message";
    std::string message;
    JsonWriter(message).string(text);
    p.data = message;
    p.channel = *channel;
    publish_to_routes(p);
  } else {
    log::warn("proxy send command to a target this route does not have", {{"route", route_->path}, {"to", to.dump()}});
  }
}

void ProxyComponent::tick() {
  if (timer_in_flight_) return;  // an application slower than the interval: this tick is skipped
  timer_in_flight_ = true;
  std::string body;
  JsonWriter(body).raw("{\"event\":\"timer\",\"route\":").string(route_->path).raw("}");
  http_client().request(backend().request(route_->url, std::move(body)),
                        [this](Expected<HttpClientResponse> answer) {
                          timer_in_flight_ = false;
                          run_commands(ConnectionRef(), answer);  // no connection: "self" reaches nobody
                        },
                        route_->limit);
}

}  // namespace capstan::proxy
