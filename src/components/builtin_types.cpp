// The composition root of the built-in components: what a fresh Server can serve by name, and
// what the loader checks route keys against when a program gives it no types of its own.
#include <memory>

#include "app/echo.hpp"
#include "app/notify/notify_type.hpp"
#include "capstan/component_type.hpp"
#include "components/proxy/proxy_type.hpp"
#include "components/pubsub/pubsub_type.hpp"

namespace capstan {

namespace {

// echo has no keys of its own: every route gets the same factory.
class EchoType final : public ComponentType {
 public:
  Expected<ComponentFactory> for_route(const RouteConfig&) override {
    return ComponentFactory([] { return std::make_unique<app::EchoComponent>(); });
  }
};

}  // namespace

ComponentTypes builtin_component_types() {
  ComponentTypes types;
  types["echo"] = std::make_shared<EchoType>();
  types["notify"] = std::make_shared<app::NotifyType>();
  types["pubsub"] = std::make_shared<pubsub::PubsubType>();
  types["proxy"] = std::make_shared<proxy::ProxyType>();
  return types;
}

}  // namespace capstan
