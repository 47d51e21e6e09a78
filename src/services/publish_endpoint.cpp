// POST /publish (SPEC section 4): the web application's backend delivers to everyone on a
// route, to some users, or to a channel, without being a WebSocket client. The body is one
// publication {"route","action","data","users"?,"channel"?} or an array of them; each is
// checked before any is delivered, then handed to its route's component on this loop, which
// reaches every loop and counts. The answer waits for the counts: 202 {"delivered": N}.
#include <openssl/crypto.h>

#include <cstdlib>

#include "capstan/component.hpp"
#include "capstan/json.hpp"
#include "services/publish_gather.hpp"
#include "services/service_endpoints.hpp"

namespace capstan::services {

namespace {

struct Parsed {
  std::string route;  // as the route serves it (the prefix applied)
  std::string action;
  std::string data;
  std::vector<std::string> users;
  std::string channel;
  Component* component = nullptr;  // the route's, on this loop
};

std::string json_error(std::string_view message) {
  std::string out = "{\"error\":";
  JsonWriter(out).string(message);
  out += "}";
  return out;
}

void refuse(HttpResponse& response, uint16_t status, std::string_view message, const HttpHeaders& headers = {}) {
  response.send(status, json_error(message), "application/json", headers);
}

// One publication's fields, or why it does not fit.
Expected<Parsed> read_publication(const Json& p) {
  auto bad = [](std::string message) { return Error(std::make_error_code(std::errc::invalid_argument), std::move(message)); };
  if (p.type() != Json::Type::object) return bad("a publication is a JSON object");
  Parsed out;
  auto route = p["route"].as_string();
  if (!route || route->empty()) return bad("route: a route's path is required");
  out.route = *route;
  if (p["action"].exists()) {
    auto action = p["action"].as_string();
    if (!action) return bad("action: must be a string");
    out.action = *action;
  }
  if (!p["data"].exists()) return bad("data: required (any JSON value)");
  out.data = p["data"].dump();
  if (Json users = p["users"]; users.exists()) {
    if (users.type() != Json::Type::array) return bad("users: a list of user ids or identities");
    for (size_t i = 0; i < users.size(); ++i) {
      if (auto id = users[i].as_int()) out.users.push_back(std::to_string(*id));
      else if (auto identity = users[i].as_string(); identity && !identity->empty()) out.users.emplace_back(*identity);
      else return bad("users[" + std::to_string(i) + "]: a user id or identity");
    }
    if (out.users.empty()) return bad("users: an empty list reaches nobody; leave it out to reach everyone");
  }
  if (Json channel = p["channel"]; channel.exists()) {
    auto name = channel.as_string();
    if (!name || name->empty()) return bad("channel: a non-empty string");
    out.channel = *name;
    if (!out.users.empty()) return bad("users and channel: one or the other");
  }
  return out;
}

class PublishHandler final : public HttpHandler {
 public:
  PublishHandler(std::string key, std::string prefix, unsigned max_batch)
      : key_(std::move(key)), prefix_(std::move(prefix)), max_batch_(max_batch) {}

  void on_request(const HttpRequest& request, HttpResponse response) override {
    if (!authorized(request.header("Authorization")))
      return refuse(response, 401, "a valid Authorization: Bearer <publish.api_key> is required", {{"WWW-Authenticate", "Bearer"}});
    Expected<Json> body = parser_.parse(request.body);
    if (!body) return refuse(response, 400, "the body is " + body.error().message());
    const bool batch = body->type() == Json::Type::array;
    const size_t count = batch ? body->size() : 1;
    if (batch && count > max_batch_)
      return refuse(response, 413, "a batch holds at most " + std::to_string(max_batch_) + " publications");
    if (batch && count == 0) return refuse(response, 400, "an empty batch");
    std::vector<Parsed> publications;
    publications.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      Expected<Parsed> p = read_publication(batch ? (*body)[i] : *body);
      const std::string where = batch ? "publications[" + std::to_string(i) + "]." : "";
      if (!p) return refuse(response, 400, where + p.error().message());
      p->component = route_component(p->route);
      if (!p->component && !prefix_.empty() && (p->component = route_component(prefix_ + p->route))) p->route = prefix_ + p->route;
      if (!p->component) return refuse(response, 400, where + "route: no route \"" + p->route + "\"");
      publications.push_back(*std::move(p));
    }
    auto gather = std::make_shared<PublishGather>(count, [response](PublishGather::Outcome outcome) mutable {
      if (!outcome.error.empty()) {
        std::string body = json_error(outcome.error);
        body.insert(body.size() - 1, ",\"delivered\":" + std::to_string(outcome.delivered));
        return response.send(400, body, "application/json");
      }
      response.send(202, "{\"delivered\":" + std::to_string(outcome.delivered) + "}", "application/json");
    });
    for (size_t i = 0; i < count; ++i) {
      const Parsed& p = publications[i];
      Publication publication;
      publication.action = p.action;
      publication.data = p.data;
      publication.users = p.users;
      publication.channel = p.channel;
      publication.route = p.route;
      const std::string where = batch ? "publications[" + std::to_string(i) + "]: " : "";
      p.component->on_publish(publication, PublishGather::done_for(gather, where));
    }
  }

 private:
  bool authorized(std::string_view header) const noexcept {
    constexpr std::string_view kScheme = "Bearer ";
    if (header.size() != kScheme.size() + key_.size() || !header.starts_with(kScheme)) return false;
    return CRYPTO_memcmp(header.data() + kScheme.size(), key_.data(), key_.size()) == 0;  // no timing to learn it by
  }

  std::string key_;
  std::string prefix_;
  unsigned max_batch_;
  JsonParser parser_;
};

}  // namespace

Endpoint publish_endpoint(const Config& config, std::string api_key) {
  EndpointOptions options;
  options.methods = {"POST"};
  options.max_body = config.publish.max_body;
  std::string prefix = config.server.prefix;
  unsigned max_batch = config.publish.max_batch;
  return {"/publish",
          [key = std::move(api_key), prefix, max_batch] { return std::make_unique<PublishHandler>(key, prefix, max_batch); },
          std::move(options)};
}

Expected<std::vector<Endpoint>> endpoints_for(const Config& config) {
  std::vector<Endpoint> out;
  std::string key = config.publish.api_key;
  if (key.empty())
    if (const char* env = std::getenv("CAPSTAN_PUBLISH_KEY")) key = env;
  if (!key.empty()) out.push_back(publish_endpoint(config, std::move(key)));
  if (!config.mercure.path.empty()) {
    Expected<Endpoint> mercure = mercure_endpoint(config);
    if (!mercure) return std::move(mercure).error();
    out.push_back(*std::move(mercure));
  }
  return out;
}

}  // namespace capstan::services
