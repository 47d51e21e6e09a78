// `pubsub` as a component type: its keys (pubsub_keys.cpp) and, per configured route, one
// PubsubRoute its instances on every loop share.
#pragma once

#include "capstan/component_type.hpp"

namespace capstan::pubsub {

class PubsubType final : public ComponentType {
 public:
  bool authenticates_by_default() const noexcept override { return true; }
  std::vector<KeyDecl> keys() const override;
  std::vector<ConfigFault> check_keys(const RouteKeys& keys, const Config& config) const override;
  Expected<ComponentFactory> for_route(const RouteConfig& route) override;
};

}  // namespace capstan::pubsub
