// GET /status: the server's live state as JSON, what `capstan list` and `capstan status`
// show. Open connections per route are summed over the loops' counters, each read with a
// relaxed load: a loop may be a connection ahead of another, which a status page can be.
#include <unistd.h>

#include <string>

#include "app/http_endpoints.hpp"
#include "app/loop_context.hpp"
#include "capstan/server.hpp"
#include "util/iso_time.hpp"
#include "util/json_string.hpp"

namespace capstan::app {

void append_status_json(LoopContext& ctx, std::string& body) {
  const ServerStatus& server = ctx.server_status();

  std::vector<uint64_t> per_route(ctx.routes().size(), 0);
  for (const LoopContext* loop : server.loops)
    for (size_t i = 0; i < per_route.size() && i < loop->routes().size(); ++i) per_route[i] += loop->route_connections(i);
  uint64_t total = 0;
  for (uint64_t n : per_route) total += n;

  body = "{\"name\":";
  util::append_json_string(body, ctx.server_config().name);
  body += ",\"pid\":" + std::to_string(::getpid());
  body += ",\"version\":";
  util::append_json_string(body, Server::version());
  body += ",\"started\":";
  util::append_json_string(body, util::iso8601_utc(server.started_unix));
  body += ",\"started_unix\":" + std::to_string(server.started_unix);
  body += ",\"uptime_seconds\":" + std::to_string(server.uptime_seconds());
  body += ",\"listen\":[";
  for (size_t i = 0; i < server.listening.size(); ++i) {
    if (i) body += ',';
    util::append_json_string(body, server.listening[i]);
  }
  body += ']';  // no file paths: this port may face the internet; the state file has them
  // WebSocket connections that are open; `sockets` also counts HTTP requests (this one
  // included) and handshakes in progress.
  body += ",\"connections\":" + std::to_string(total);
  body += ",\"sockets\":" + std::to_string(ctx.open_sockets());
  body += ",\"routes\":[";
  for (size_t i = 0; i < per_route.size(); ++i) {
    const Route& r = ctx.routes()[i];
    if (i) body += ',';
    body += "{\"path\":";
    util::append_json_string(body, r.path);
    body += ",\"component\":";
    util::append_json_string(body, i < server.route_components.size() ? server.route_components[i] : std::string());
    body += ",\"connections\":" + std::to_string(per_route[i]);
    body += '}';
  }
  body += "]}\n";
}

}  // namespace capstan::app
