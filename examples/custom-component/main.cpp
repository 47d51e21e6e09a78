// shout-server: Capstan with a component type of its own. The configuration names it
// (`component = "shout"`) and sets its keys; everything else is the server's own.
//
//   shout-server [-c capstan.toml] [--listen HOST:PORT] [--tls-listen HOST:PORT] [--check]
//
// Prints "listening HOST:PORT [tls HOST:PORT]" once it serves (port 0: the port it got), so a
// script can wait for it. SIGTERM or SIGINT stops it in order; SIGHUP reloads the file.
#include <capstan/capstan.hpp>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "shout_type.hpp"

int main(int argc, char** argv) {
  std::string path = "capstan.toml", listen, tls_listen;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-c") == 0 && i + 1 < argc) path = argv[++i];
    else if (std::strcmp(argv[i], "--listen") == 0 && i + 1 < argc) listen = argv[++i];
    else if (std::strcmp(argv[i], "--tls-listen") == 0 && i + 1 < argc) tls_listen = argv[++i];
    else if (std::strcmp(argv[i], "--check") == 0) check_only = true;
    else {
      std::fprintf(stderr, "usage: %s [-c capstan.toml] [--listen HOST:PORT] [--tls-listen HOST:PORT] [--check]\n", argv[0]);
      return 2;
    }
  }

  // The loader checks every route's keys against its type's declarations, so it must know
  // "shout" before it reads the file; the server gets the same map (a SIGHUP checks with it).
  capstan::ComponentTypes types = capstan::builtin_component_types();
  types["shout"] = std::make_shared<shout::ShoutType>();
  capstan::LoadedConfig loaded = capstan::load_config_file(path, types);
  if (!loaded.ok()) {
    for (const capstan::ConfigFault& f : loaded.errors)
      std::fprintf(stderr, "%s:%d: %s: %s\n", path.c_str(), f.line, f.key.c_str(), f.message.c_str());
    return 1;
  }
  if (check_only) {
    std::printf("%s: ok\n", path.c_str());
    return 0;
  }
  if (!listen.empty()) loaded.config.server.listen = {listen};
  if (!tls_listen.empty()) loaded.config.server.tls.listen = {tls_listen};

  capstan::Server server(std::move(loaded.config), types);
  server.on_listening([](const capstan::ServerInfo& info) -> capstan::Status {
    // One line (a reader waiting for it reads one): the first address, then any TLS ones.
    std::string line = "listening " + info.listen.front();
    for (const std::string& address : info.listen_tls) line += " tls " + address;
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    return {};
  });
  const capstan::Status ran = server.run();
  if (!ran) std::fprintf(stderr, "shout-server: %s\n", ran.error().message().c_str());
  return ran ? 0 : 1;
}
