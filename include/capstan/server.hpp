// The server: listens, runs the event loops, routes upgrades to components.
//
//   capstan::Server server(config);
//   server.route("/chat", [] { return std::make_unique<Chat>(); });
//   return server.run();   // until SIGTERM / SIGINT or stop()
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "capstan/component.hpp"
#include "capstan/component_type.hpp"
#include "capstan/config.hpp"
#include "capstan/error.hpp"
#include "capstan/http.hpp"
#include "capstan/notify.hpp"

namespace capstan {

// What a started server serves, for the program around it (state files, a readiness signal).
struct ServerInfo {
  std::vector<std::string> listen;      // real addresses, port 0 resolved: "127.0.0.1:43211"
  std::vector<std::string> listen_tls;  // those of them served with TLS ([server.tls] listen)
  struct Route {
    std::string path;       // prefix applied
    std::string component;  // its config name, "c++" for a route()
  };
  std::vector<Route> routes;
};

struct RouteOptions {
  std::vector<std::string> protocols;  // subprotocols offered by clients that this route accepts
  bool auth = false;                   // connections must present a valid token ([auth])
};

class Server {
 public:
  // Knows the built-in component types (echo, notify).
  explicit Server(Config config);
  // Knows `types`: the map the configuration was loaded with (load_config_file), such as
  // builtin_component_types() plus the program's own, so a reload checks against them too.
  Server(Config config, ComponentTypes types);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves `factory`'s component on `path` (the server prefix is prepended). Before run().
  void route(std::string path, ComponentFactory factory, RouteOptions options = {});
  // Serves the action protocol (the `notify` component) on `path` with these C++ actions. A
  // `notify` route of the config on the same path gets them beside its relay and sql actions
  // (and keeps its own settings). Before run().
  void notify(std::string path, std::vector<Action> actions, NotifyOptions options = {});
  // Serves plain HTTP requests to `path` (as requested: the server prefix is not applied)
  // with a handler per loop made by `factory` (capstan/http.hpp). Before run(). A path served
  // twice, or a route's path, makes run() fail.
  void handle(std::string path, HttpHandlerFactory factory, EndpointOptions options = {});
  // Makes a component available to `[[routes]] component = name` in the config. Before run().
  void register_component(std::string name, ComponentFactory factory);
  // The same for a component made from its route's keys (ComponentType). Before run(). A type
  // that declares keys must also be in the map the file was loaded with (load_config_file's
  // `types`), or the loader reports its keys as unknown; reload() uses this server's types.
  void register_component_type(std::string name, std::shared_ptr<ComponentType> type);
  // The type registered under `name` (built-in: "echo", "notify"), or nullptr.
  ComponentType* component_type(std::string_view name) const noexcept;

  // Called by run() once every listener is bound, before any connection is served; an Error
  // returned makes run() stop and fail with it. Before run().
  void on_listening(std::function<Status(const ServerInfo& info)> hook);
  // The capstan version ("0.1.0"), as /status reports it.
  static std::string_view version() noexcept;

  // Binds, starts the loops and blocks until stopped. Success after a clean stop; the Error
  // when the server could not start: a ConfigError (routes, listen addresses, a component
  // type's keys), an AuthError (keys), a DbError (the user database), or the system's code
  // (an address in use, a descriptor limit).
  Status run();
  // Orderly stop from any thread: stop accepting, close 1001 to every client, drain, return.
  void stop();
  // What SIGHUP does, from any thread: read the configuration file again, apply limits, keys
  // and log settings, call every component's on_reload; the log says what needs a restart.
  void reload();
  // True once every loop listens (for tests and `start --daemon`).
  bool running() const noexcept;
  // The port of the first listen address once running (the real one when asked for port 0).
  uint16_t port() const noexcept;
  const Config& config() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace capstan
