// Gives a component instance its loop and the server's services (the user provider, the
// worker pool); the only code allowed to set Component's private members.
#pragma once

#include "capstan/component.hpp"
#include "capstan/http.hpp"

namespace capstan {

namespace app {
class LoopContext;
}

// What Component::users() and Component::offload() reach: the instance's loop context.
struct ComponentServices {
  app::LoopContext* context = nullptr;  // offloading, on the instance's loop
  const Users* users = nullptr;         // [users] provider, when one is configured
  Topics* topics = nullptr;             // the loop's topics
  Cluster* cluster = nullptr;           // the other nodes, when [cluster] redis is set
  const Backend* backend = nullptr;     // [backend]
};

class ComponentAttach {
 public:
  static void attach(Component& c, Loop& loop, ComponentServices& services) noexcept {
    c.loop_ = &loop;
    c.services_ = &services;
  }
};

// The same for an endpoint's handler.
class HandlerAttach {
 public:
  static void attach(HttpHandler& h, Loop& loop, ComponentServices& services) noexcept {
    h.loop_ = &loop;
    h.services_ = &services;
  }
  // The server's own endpoints (/status, /metrics) read the loop's internals.
  static app::LoopContext& context_of(const HttpHandler& h) noexcept { return *h.services_->context; }
};

}  // namespace capstan
