#include "app/notify/notify_route.hpp"

#include "capstan/database.hpp"

namespace capstan::app {

std::shared_ptr<NotifyRoute> make_notify_route(const RouteConfig* config, std::vector<Action> actions,
                                               const NotifyOptions& options) {
  auto route = std::make_shared<NotifyRoute>();
  route->data_as_string = config ? config->data_as_string : options.data_as_string;
  route->fatal_close_code = config ? config->fatal_close_code : options.fatal_close_code;
  route->binary_messages = config ? config->binary_messages : options.binary_messages;
  route->unknown_action_message = config ? config->unknown_action_message : options.unknown_action_message;
  if (config) {
    for (const ActionConfig& a : config->actions) {
      ActionDef def;
      def.name = a.name;
      def.kind = a.kind == ActionKind::sql ? ActionDef::Kind::sql : ActionDef::Kind::relay;
      def.to = a.to;
      def.from_field = a.from_field;
      def.query = a.query;
      def.parameters = db::Database::named_parameters(a.query);
      def.one = a.one;
      def.not_found = a.not_found;
      def.relative_dates = a.relative_dates;
      route->actions[def.name] = std::move(def);
    }
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
