// `notify` as a component type (capstan/component_type.hpp): declares its keys (notify_keys.cpp)
// and is made for each configured route from them, plus the routes a program declares with
// Server::notify. A C++ action joins a configured route of the same path, or gets a route of
// its own.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "capstan/component_type.hpp"
#include "capstan/notify.hpp"

namespace capstan::app {

class NotifyType final : public ComponentType {
 public:
  bool authenticates_by_default() const noexcept override { return true; }
  std::vector<KeyDecl> keys() const override;
  std::vector<ConfigFault> check_keys(const RouteKeys& keys, const Config& config) const override;
  Expected<ComponentFactory> for_route(const RouteConfig& route) override;
  std::vector<ExtraRoute> extra_routes() override;

  // Server::notify: C++ actions for `path` (before the server prefix).
  void add_code_route(std::string path, std::vector<Action> actions, NotifyOptions options);

 private:
  struct CodeRoute {
    std::vector<Action> actions;
    NotifyOptions options;
  };
  std::map<std::string, CodeRoute, std::less<>> code_routes_;  // not yet given to a route
};

}  // namespace capstan::app
