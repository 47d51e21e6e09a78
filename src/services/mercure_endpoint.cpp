// Publishing as a Mercure hub accepts it (the Mercure protocol, "Publication"): what Symfony's
// Mercure component sends when an application calls HubInterface::publish(new Update(...)).
// A form-encoded POST of `topic` (one or more), `data`, `private`, `id`, `type` and `retry`,
// authorized by a JWT whose `mercure.publish` claim lists the topics it may publish to ("*",
// a topic, or a URI template such as "https://example.com/books/{id}"). Each topic is the
// channel of the same name on every route that has channels; the answer is the update's id
// as text/plain, generated ("urn:uuid:...") when the publisher gave none.
#include <openssl/rand.h>

#include <chrono>
#include <cstdlib>

#include "auth/jwt.hpp"
#include "capstan/component.hpp"
#include "capstan/form_urlencoded.hpp"
#include "capstan/json.hpp"
#include "components/pubsub/channel_names.hpp"  // a topic is a channel: the same rule of names
#include "services/publish_gather.hpp"
#include "services/service_endpoints.hpp"

namespace capstan::services {

namespace {

// A selector of mercure.publish against a topic: "*", the topic itself, or a URI template
// whose {expressions} each stand for a run of characters without '/' (RFC 6570 level 1, as
// topic selectors use it).
bool selector_matches(std::string_view selector, std::string_view topic) {
  if (selector == "*" || selector == topic) return true;
  size_t s = 0, t = 0;
  while (s < selector.size()) {
    if (selector[s] == '{') {
      const size_t close = selector.find('}', s);
      if (close == std::string_view::npos) return false;
      s = close + 1;
      const char next = s < selector.size() ? selector[s] : '\0';
      const size_t start = t;
      while (t < topic.size() && topic[t] != '/' && topic[t] != next) ++t;
      if (t == start) return false;
      continue;
    }
    if (t >= topic.size() || topic[t] != selector[s]) return false;
    ++s;
    ++t;
  }
  return t == topic.size();
}

bool is_hex(char c) noexcept { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

// Every '%' escapes a byte with two hex digits, as Go's url.ParseQuery (the reference hub's)
// insists.
bool well_formed_form(std::string_view body) noexcept {
  for (size_t i = 0; i < body.size(); ++i)
    if (body[i] == '%' && (i + 2 >= body.size() || !is_hex(body[i + 1]) || !is_hex(body[i + 2]))) return false;
  return true;
}

bool all_digits(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

std::string new_update_id() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    for (size_t i = 0; i < sizeof b; ++i) b[i] = static_cast<unsigned char>(now >> ((i % 8) * 8));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // variant 10
  static const char hex[] = "0123456789abcdef";
  std::string out = "urn:uuid:";
  for (size_t i = 0; i < sizeof b; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += hex[b[i] >> 4];
    out += hex[b[i] & 15];
  }
  return out;
}

class MercureHandler final : public HttpHandler {
 public:
  explicit MercureHandler(std::shared_ptr<const auth::Verifier> verifier) : verifier_(std::move(verifier)) {}

  void on_request(const HttpRequest& request, HttpResponse response) override {
    std::string_view token;
    if (std::string_view h = request.header("Authorization"); h.starts_with("Bearer ")) token = h.substr(7);
    if (token.empty()) return response.send(401, "a publisher JWT is required (Authorization: Bearer)\n", "text/plain; charset=utf-8", {{"WWW-Authenticate", "Bearer"}});
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    Expected<auth::VerifiedToken> verified = verifier_->verify(token, now);
    if (!verified) return response.send(401, "publisher JWT refused: " + verified.error().message() + "\n", "text/plain; charset=utf-8");
    Expected<Json> claims = parser_.parse(verified->claims);
    Json selectors = claims ? (*claims)["mercure"]["publish"] : Json();
    if (selectors.type() != Json::Type::array)
      return response.send(403, "the JWT has no mercure.publish claim\n", "text/plain; charset=utf-8");

    if (!request.header("Content-Type").starts_with("application/x-www-form-urlencoded"))
      return response.send(415, "a form-encoded body is expected\n", "text/plain; charset=utf-8");
    if (!well_formed_form(request.body)) return response.send(400, "malformed form body (a % not followed by two hex digits)\n", "text/plain; charset=utf-8");
    const std::vector<std::string> topics = form::find_all(request.body, "topic");
    if (topics.empty()) return response.send(400, "missing topic\n", "text/plain; charset=utf-8");
    if (auto retry = form::find(request.body, "retry"); retry && !all_digits(*retry))
      return response.send(400, "retry: a number of milliseconds\n", "text/plain; charset=utf-8");
    for (const std::string& topic : topics) {
      // Each topic is a channel: one that cannot be is refused, not dropped in silence.
      if (std::string_view why = pubsub::channel_name_fault(topic); !why.empty())
        return response.send(400, "topic " + topic + " cannot be a channel: " + std::string(why) + "\n", "text/plain; charset=utf-8");
      bool allowed = false;
      for (size_t i = 0; i < selectors.size() && !allowed; ++i)
        if (auto s = selectors[i].as_string()) allowed = selector_matches(*s, topic);
      if (!allowed) return response.send(403, "not allowed to publish to " + topic + "\n", "text/plain; charset=utf-8");
    }
    const std::string data = form::find(request.body, "data").value_or("");
    const bool restricted = form::find(request.body, "private").has_value();
    std::string id = form::find(request.body, "id").value_or("");
    if (id.empty()) id = new_update_id();
    // The update's data is a string: subscribers receive it as the message, as text.
    std::string message;
    JsonWriter(message).string(data);

    const std::vector<Component*> routes = route_components();
    const size_t expected = topics.size();
    auto gather = std::make_shared<PublishGather>(topics.size() * routes.size(), [response, id, expected, restricted](PublishGather::Outcome o) mutable {
      // Routes without channels refuse every topic; an update no route took is an error, as
      // silence would tell the publisher it went out.
      if (o.taken < expected)
        return response.send(400, restricted ? "a private update needs a pubsub route with channels_claim: none would keep it private\n"
                                             : "no route has channels (component = \"pubsub\")\n",
                             "text/plain; charset=utf-8");
      response.send(200, id, "text/plain; charset=utf-8");
    });
    for (const std::string& topic : topics) {
      Publication publication;
      publication.action = "message";
      publication.data = message;
      publication.channel = topic;
      publication.id = id;
      publication.restricted = restricted;
      // Routes without channels refuse it; the topic is delivered where channels exist.
      for (Component* c : routes) c->on_publish(publication, PublishGather::done_for(gather, {}));
    }
  }

 private:
  std::shared_ptr<const auth::Verifier> verifier_;
  JsonParser parser_;
};

}  // namespace

Expected<Endpoint> mercure_endpoint(const Config& config) {
  const MercureConfig& m = config.mercure;
  if (m.path.empty() || m.path[0] != '/') return Error(ConfigError::invalid, "mercure.path: a path starting with /");
  std::string key = m.publisher_jwt_key;
  if (key.empty())
    if (const char* env = std::getenv("CAPSTAN_MERCURE_PUBLISHER_JWT_KEY")) key = env;
  if (key.empty()) return Error(ConfigError::missing, "mercure.publisher_jwt_key (or CAPSTAN_MERCURE_PUBLISHER_JWT_KEY) is required with mercure.path");
  AuthConfig rules;
  rules.algorithms = {m.publisher_jwt_alg};
  rules.identity_claim = "";  // a publisher's token names no user
  rules.require_exp = false;  // Mercure's publisher tokens often have none
  rules.jwks.clear();
  if (m.publisher_jwt_alg.starts_with("HS")) {
    rules.secret = key;
    rules.public_key.clear();
  } else {
    rules.secret.clear();
    rules.public_key = key;
  }
  Expected<std::unique_ptr<auth::Verifier>> verifier = auth::Verifier::create(rules, config.base_dir);
  if (!verifier) return verifier.error().prefixed("mercure.publisher_jwt_key: ");
  std::shared_ptr<const auth::Verifier> shared = *std::move(verifier);
  EndpointOptions options;
  options.methods = {"POST"};
  options.max_body = config.publish.max_body;
  return Endpoint{m.path, [shared] { return std::make_unique<MercureHandler>(shared); }, std::move(options)};
}

}  // namespace capstan::services
