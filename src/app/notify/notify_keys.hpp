// notify's own route keys: their declarations (the loader checks them, the reference lists
// them), the rules the declarations cannot say, and reading them into a route's settings.
#pragma once

#include <vector>

#include "app/notify/notify_route.hpp"
#include "capstan/config.hpp"
#include "capstan/notify.hpp"
#include "capstan/route_keys.hpp"

namespace capstan::app {

std::vector<KeyDecl> notify_keys();
// A close code that may not be sent; an action without kind or name, an sql action without a
// query (or a query on another kind), sql actions without a user database.
std::vector<ConfigFault> check_notify_keys(const RouteKeys& keys, const Config& config);
// The route's settings: NotifyOptions' defaults (Ratchet's) where the file says nothing.
NotifyOptions notify_options(const RouteKeys& keys);
// The relay and sql actions of [[routes.actions]], in the file's order.
std::vector<ActionDef> configured_actions(const RouteKeys& keys);

}  // namespace capstan::app
