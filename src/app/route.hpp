// A route of one loop: a path and the loop's own instance of the component serving it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/metrics.hpp"
#include "capstan/component.hpp"

namespace capstan::app {

struct Route {
  std::string path;  // prefix applied
  std::unique_ptr<Component> component;
  std::vector<std::string> protocols;
  bool auth = false;  // connections must present a valid token (AuthService)
  // This loop's traffic on the route, written by the loop's thread only (metrics.hpp); here
  // because a connection already holds its route pointer, so counting costs no extra load.
  mutable metrics::RouteCounters counters;
};

// What the server knows of a route before loops exist: how to make each loop's instance.
struct RouteSpec {
  std::string path;  // prefix applied
  std::string component_name;
  ComponentFactory factory;
  std::vector<std::string> protocols;
  bool auth = false;
};

}  // namespace capstan::app
