// The composition root of the built-in components: what a fresh Server can serve by name.
#include "app/builtin_types.hpp"

#include <memory>

#include "app/echo.hpp"
#include "app/notify/notify_type.hpp"
#include "capstan/server.hpp"

namespace capstan::app {

void register_builtin_types(Server& server) {
  server.register_component("echo", [] { return std::make_unique<EchoComponent>(); });
  server.register_component_type("notify", std::make_shared<NotifyType>());
}

}  // namespace capstan::app
