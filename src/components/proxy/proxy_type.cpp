#include "components/proxy/proxy_type.hpp"

#include <cstdlib>

#include "components/proxy/proxy_component.hpp"

namespace capstan::proxy {

std::vector<KeyDecl> ProxyType::keys() const {
  std::vector<KeyDecl> keys(2);
  keys[0].name = "url";
  keys[0].default_text = "(required)";
  keys[0].help = "where each connection's open, message and close events are POSTed (SPEC 5a)";
  keys[1].name = "timer_interval";
  keys[1].type = KeyType::duration;
  keys[1].default_text = "\"0s\"";
  keys[1].help = "> 0: a \"timer\" event every interval, once per route";
  return keys;
}

std::vector<ConfigFault> ProxyType::check_keys(const RouteKeys& keys, const Config& config) const {
  std::vector<ConfigFault> faults;
  const std::string url = keys.text("url");
  if (!url.starts_with("http://") && !url.starts_with("https://"))
    faults.push_back({ConfigError::missing, "url", keys.line_of("url"), "a proxy route needs an http:// or https:// url"});
  if (config.backend.secret.empty() && !std::getenv("CAPSTAN_BACKEND_SECRET"))
    faults.push_back({ConfigError::missing, "component", keys.line_of("url"),
                      "a proxy route's requests are signed: set backend.secret (or CAPSTAN_BACKEND_SECRET)"});
  return faults;
}

Expected<ComponentFactory> ProxyType::for_route(const RouteConfig& rc) {
  auto route = std::make_shared<ProxyRoute>();
  route->path = rc.path;
  route->url = rc.keys.text("url");
  route->timer_interval = rc.keys.duration("timer_interval", Duration::zero());
  // A newline never appears in a path: these names cannot be another component's.
  route->topic = "proxy:" + rc.path + "\n";
  return ComponentFactory([route] { return std::make_unique<ProxyComponent>(route); });
}

}  // namespace capstan::proxy
