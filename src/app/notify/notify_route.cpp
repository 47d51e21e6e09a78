#include "app/notify/notify_route.hpp"


namespace capstan::app {

std::shared_ptr<NotifyRoute> make_notify_route(const NotifyOptions& options, std::vector<ActionDef> configured,
                                               std::vector<Action> actions) {
  auto route = std::make_shared<NotifyRoute>();
  route->data_as_string = options.data_as_string;
  route->fatal_close_code = options.fatal_close_code;
  route->binary_messages = options.binary_messages;
  route->unknown_action_message = options.unknown_action_message;
  for (ActionDef& def : configured) {
    std::string name = def.name;
    route->actions[std::move(name)] = std::move(def);
  }
  for (Action& a : actions) {
    ActionDef def;
    def.name = a.name;
    def.kind = ActionDef::Kind::handler;
    def.to = a.to;
    def.handler = std::move(a.handler);
    route->actions[def.name] = std::move(def);
  }
  return route;
}

}  // namespace capstan::app
