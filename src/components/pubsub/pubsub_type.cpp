#include "components/pubsub/pubsub_type.hpp"

#include "components/pubsub/pubsub_component.hpp"
#include "components/pubsub/pubsub_keys.hpp"

namespace capstan::pubsub {

std::vector<KeyDecl> PubsubType::keys() const { return pubsub_keys(); }

std::vector<ConfigFault> PubsubType::check_keys(const RouteKeys& keys, const Config&) const { return check_pubsub_keys(keys); }

Expected<ComponentFactory> PubsubType::for_route(const RouteConfig& rc) {
  auto route = std::make_shared<PubsubRoute>();
  route->options = pubsub_options(rc.keys);
  route->path = rc.path.empty() ? "/pubsub" : rc.path;
  // A newline never appears in a channel name: no channel of this route can take the name
  // of another route's, or a topic another component picks.
  route->topic_prefix = "pubsub:" + rc.path + "\n";
  return ComponentFactory([route] { return std::make_unique<PubsubComponent>(route); });
}

}  // namespace capstan::pubsub
