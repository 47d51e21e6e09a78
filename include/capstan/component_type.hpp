// A kind of component the configuration names (`component = "notify"`), made for each of its
// routes from that route's keys. The built-in components (echo, notify) are types like any a
// program registers with Server::register_component_type; Server::register_component is the
// short form for a component with no keys of its own.
#pragma once

#include <string>
#include <vector>

#include "capstan/component.hpp"
#include "capstan/config.hpp"
#include "capstan/error.hpp"

namespace capstan {

class ComponentType {
 public:
  virtual ~ComponentType() = default;

  // Routes of this type authenticate unless their `auth` key says otherwise.
  virtual bool authenticates_by_default() const noexcept { return false; }
  // The factory for one configured route (it makes one instance per loop), or the Error
  // (ConfigError::invalid, naming the key) when the route's keys do not fit the type.
  virtual Expected<ComponentFactory> for_route(const RouteConfig& route) = 0;

  // Routes the type serves besides the configured ones (the program's own, such as a
  // Server::notify path with no configured route). Asked once, after every configured route
  // of every type was made. Paths are before the server prefix.
  struct ExtraRoute {
    std::string path;
    ComponentFactory factory;
    bool auth = false;
  };
  virtual std::vector<ExtraRoute> extra_routes() { return {}; }
};

}  // namespace capstan
