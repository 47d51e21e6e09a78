// What one `notify` route is, shared by its instances on every loop: the actions (relay and
// sql ones from the config, C++ ones from Server::notify), the reply format, the route's topic
// (its broadcasts) and topic family (its users).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "capstan/backend.hpp"
#include "capstan/notify.hpp"

namespace capstan::app {

struct ActionDef {
  enum class Kind : uint8_t { relay, sql, http, handler };  // the config's order, then C++ handlers
  std::string name;
  Kind kind = Kind::relay;
  Target to = Target::all;
  std::string from_field;               // relay
  std::string query;                    // sql
  std::vector<std::string> parameters;  // sql: the :names of the query, bound from data
  bool one = true;
  std::string not_found;
  std::vector<std::string> relative_dates;
  std::string url;                      // http
  ActionHandler handler;  // handler
};

struct NotifyRoute {
  bool data_as_string = true;
  uint16_t fatal_close_code = close_code::normal;
  bool binary_messages = true;
  std::string unknown_action_message = "Invalid request";
  std::map<std::string, ActionDef, std::less<>> actions;
  // Every connection of the route subscribes to it: a broadcast is one topic publication,
  // which reaches every loop and every node.
  std::string topic;
  // The connections of users (capstan/topics.hpp's families): each loop's instance finds them
  // in its own index by user, so a delivery to users reaches every loop and every node.
  std::string users_family;
  std::string path;
  // http actions: the route's cap on requests in flight (every loop's together) and its
  // /metrics counts, made by the first instance to start.
  std::once_flag backend_once;
  std::shared_ptr<InFlightLimit> backend_limit;
  std::unique_ptr<BackendMetrics> backend_metrics;
};

// The route from its settings (its keys, or Server::notify's options for a route of the
// program alone), its configured actions and its C++ actions. A C++ action replaces a
// configured action of the same name.
std::shared_ptr<NotifyRoute> make_notify_route(const NotifyOptions& options, std::vector<ActionDef> configured,
                                               std::vector<Action> actions);

}  // namespace capstan::app
