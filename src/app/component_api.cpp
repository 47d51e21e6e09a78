// The public Component and HttpHandler members the library implements: the defaults (the
// refusal, the 426, no publications), and what reaches the server's services (the user
// provider, the worker pool, the topics, the HTTP client, the routes) through the loop context.
#include "app/component_attach.hpp"
#include "app/loop_context.hpp"

namespace capstan {

const Users* Component::users() const noexcept {
  return services_ ? services_->users : nullptr;
}

Topics& Component::topics() const noexcept { return *services_->topics; }

bool Component::offload(BlockingJob job) { return services_ && services_->context->jobs().offload(std::move(job)); }

void Component::on_http(const HttpRequest&, HttpResponse response) {
  response.send(426, std::string(describe(HttpError::websocket_only)) + "\n", "text/plain; charset=utf-8",
                {{"Sec-WebSocket-Version", "13"}});
}

void Component::on_publish(const Publication&, PublishDone done) {
  done(Error(std::make_error_code(std::errc::operation_not_supported), "the route's component takes no publications"));
}

HttpClient& Component::http_client() const { return services_->context->http_client(); }

const Backend& Component::backend() const {
  static const Backend unconfigured{BackendConfig{}};  // a loop made without a server (tests)
  return services_ && services_->backend ? *services_->backend : unconfigured;
}
HttpClient& HttpHandler::http_client() const { return services_->context->http_client(); }

Topics& HttpHandler::topics() const noexcept { return *services_->topics; }
Cluster* HttpHandler::cluster() const noexcept { return services_->cluster; }
Cluster* Component::cluster() const noexcept { return services_ ? services_->cluster : nullptr; }

Component* HttpHandler::route_component(std::string_view path) const noexcept {
  const app::Route* route = services_->context->find_route(path);
  return route ? route->component.get() : nullptr;
}

namespace {

std::vector<Component*> components_of(const app::LoopContext& context) {
  std::vector<Component*> out;
  for (const app::Route& r : context.routes()) out.push_back(r.component.get());
  return out;
}

}  // namespace

std::vector<Component*> HttpHandler::route_components() const { return components_of(*services_->context); }
std::vector<Component*> Component::route_components() const {
  return services_ ? components_of(*services_->context) : std::vector<Component*>{};
}

void Component::publish_to_routes(const Publication& p) const {
  for (Component* route : route_components())
    if (route != this) route->on_publish(p, [](Expected<size_t>) {});
}

void Component::on_refused(Connection& connection, uint16_t code, std::string_view) {
  connection.close(code, code == close_code::policy_violation ? "Invalid request" : "Internal error");
}

}  // namespace capstan
