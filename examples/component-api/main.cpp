// The components of docs/writing-a-component.md in one program:
//   component_api [capstan.toml]
// serves /shout, /room, /lobby, /deadline, /product, /later, /greet, /quote, the action
// protocol on /shop and a plain HTTP endpoint on /ping; a file may add routes of
// `component = "shout"` with their own `volume`. Built with the tests
// (tests/docs/CMakeLists.txt); the snippets' behaviour is checked by
// tests/docs/docs_examples_test.cpp.
#include <capstan/capstan.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "components.hpp"

int main(int argc, char** argv) {
  // [snippet main]
  capstan::ComponentTypes types = capstan::builtin_component_types();  // echo, notify, pubsub, proxy
  types["shout"] = std::make_shared<tour::ShoutType>();
  capstan::Config config;  // every default: 127.0.0.1:8080, one loop per core
  if (argc > 1) {
    capstan::LoadedConfig loaded = capstan::load_config_file(argv[1], types);
    for (const capstan::ConfigFault& f : loaded.errors)
      std::fprintf(stderr, "%s:%d: %s: %s\n", argv[1], f.line, f.key.c_str(), f.message.c_str());
    if (!loaded.ok()) return 2;
    config = std::move(loaded.config);
  }
  capstan::Server server(std::move(config), types);  // a reload checks against the same types

  server.route("/shout", [] { return std::make_unique<tour::Shout>(); });
  server.route("/room", [] { return std::make_unique<tour::Room>(); });
  server.route("/lobby", [] { return std::make_unique<tour::Lobby>(); });
  server.route("/deadline", [] { return std::make_unique<tour::Deadline>(std::chrono::seconds(5)); });
  server.route("/product", [] { return std::make_unique<tour::Product>(); });
  server.route("/later", [] { return std::make_unique<tour::Later>(); });
  server.route("/greet", [] { return std::make_unique<tour::Greet>(); });
  server.notify("/shop", tour::shop_actions(), {.auth = false});  // NotifyOptions: Ratchet's defaults otherwise
  server.handle("/ping", [] { return std::make_unique<tour::Ping>(); }, {.methods = {"POST"}, .max_body = 4096});
  // One cap for the route across every loop: at most 64 requests in flight to the service.
  auto limit = std::make_shared<capstan::InFlightLimit>(64);
  server.route("/quote", [limit] { return std::make_unique<tour::Quote>("http://127.0.0.1:8080/ping", limit); });

  const capstan::Status ran = server.run();  // until SIGTERM / SIGINT, or server.stop()
  if (!ran) std::fprintf(stderr, "component_api: %s\n", ran.error().message().c_str());
  return ran ? 0 : 1;
  // [/snippet]
}
