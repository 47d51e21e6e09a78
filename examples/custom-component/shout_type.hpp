// `component = "shout"` in a configuration: the route keys the type declares (the loader
// checks them, `capstan check --reference` style faults with key and line), a rule across keys
// the declarations cannot say, and the factory made from one route's keys.
#pragma once

#include <capstan/capstan.hpp>

#include <vector>

#include "shout.hpp"

namespace shout {

class ShoutType final : public capstan::ComponentType {
 public:
  std::vector<capstan::KeyDecl> keys() const override;
  std::vector<capstan::ConfigFault> check_keys(const capstan::RouteKeys& keys, const capstan::Config& config) const override;
  capstan::Expected<capstan::ComponentFactory> for_route(const capstan::RouteConfig& route) override;
};

// A route's keys over the defaults of Options.
Options options_of(const capstan::RouteKeys& keys);

}  // namespace shout
