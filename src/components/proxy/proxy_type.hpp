// `component = "proxy"` (SPEC 5a, the event proxy): a route whose logic lives in the web
// application. Its keys (url, timer_interval) and, per route, the settings its instances on
// every loop share.
#pragma once

#include "capstan/component_type.hpp"

namespace capstan::proxy {

class ProxyType final : public ComponentType {
 public:
  bool authenticates_by_default() const noexcept override { return true; }
  std::vector<KeyDecl> keys() const override;
  std::vector<ConfigFault> check_keys(const RouteKeys& keys, const Config& config) const override;
  Expected<ComponentFactory> for_route(const RouteConfig& route) override;
};

}  // namespace capstan::proxy
