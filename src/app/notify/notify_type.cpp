#include "app/notify/notify_type.hpp"

#include "app/notify/notify_component.hpp"
#include "app/notify/notify_keys.hpp"
#include "capstan/server.hpp"

namespace capstan::app {

namespace {

// One instance per loop. The route's topic and users family are named by its path, so the
// same route on another node shares them.
ComponentFactory factory_for(std::shared_ptr<NotifyRoute> route, std::string_view path) {
  route->topic = "notify:" + std::string(path);
  route->users_family = route->topic;  // families and topics are apart: the same name is no clash
  route->path = path;
  return [route]() -> std::unique_ptr<Component> { return std::make_unique<NotifyComponent>(route); };
}

}  // namespace

Expected<ComponentFactory> NotifyType::for_route(const RouteConfig& rc) {
  const std::string path = rc.path.empty() ? "/notify" : rc.path;  // before the prefix
  std::vector<Action> actions;
  if (auto it = code_routes_.find(path); it != code_routes_.end()) {
    actions = std::move(it->second.actions);
    code_routes_.erase(it);
  }
  return factory_for(make_notify_route(notify_options(rc.keys), configured_actions(rc.keys), std::move(actions)), path);
}

std::vector<KeyDecl> NotifyType::keys() const { return notify_keys(); }

std::vector<ConfigFault> NotifyType::check_keys(const RouteKeys& keys, const Config& config) const {
  return check_notify_keys(keys, config);
}

std::vector<ComponentType::ExtraRoute> NotifyType::extra_routes() {
  std::vector<ExtraRoute> routes;
  for (auto& [path, code] : code_routes_)
    routes.push_back({path, factory_for(make_notify_route(code.options, {}, std::move(code.actions)), path),
                      code.options.auth});
  code_routes_.clear();
  return routes;
}

void NotifyType::add_code_route(std::string path, std::vector<Action> actions, NotifyOptions options) {
  CodeRoute& route = code_routes_[std::move(path)];
  for (Action& a : actions) route.actions.push_back(std::move(a));
  route.options = std::move(options);
}

}  // namespace capstan::app

namespace capstan {

void Server::notify(std::string path, std::vector<Action> actions, NotifyOptions options) {
  // The built-in type, registered by the constructor; a program that registered its own
  // "notify" type has replaced it, and its routes are its own business.
  if (auto* type = dynamic_cast<app::NotifyType*>(component_type("notify")))
    type->add_code_route(std::move(path), std::move(actions), std::move(options));
}

}  // namespace capstan
