// A kind of component the configuration names (`component = "notify"`), made for each of its
// routes from that route's keys. It declares its own keys (keys()), which the loader checks and
// the reference lists, and reads them from RouteConfig::keys in for_route. The built-in components (echo, notify) are types like any a
// program registers with Server::register_component_type; Server::register_component is the
// short form for a component with no keys of its own.
#pragma once

#include <string>
#include <vector>

#include "capstan/component.hpp"
#include "capstan/config.hpp"
#include "capstan/error.hpp"
#include "capstan/route_keys.hpp"

namespace capstan {

class ComponentType {
 public:
  virtual ~ComponentType() = default;

  // The route keys of this type besides path, component, protocols and auth. Asked by the
  // loader (before any Server exists: `capstan check` too) and by the reference.
  virtual std::vector<KeyDecl> keys() const { return {}; }
  // Faults of a route's keys that their declarations cannot say (a close code that may not be
  // sent, a key required by another's value), each with its key relative to the route
  // ("actions[1].query") and its line. `config` is the whole file, for rules across sections.
  virtual std::vector<ConfigFault> check_keys(const RouteKeys& /*keys*/, const Config& /*config*/) const { return {}; }

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

// Fresh instances of the built-in types (echo, notify): every Server starts with them, and
// load_config_file checks against them when given no types.
ComponentTypes builtin_component_types();

}  // namespace capstan
