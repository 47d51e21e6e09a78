// The server's own plain-HTTP endpoints: /healthz, /status (what `capstan list` and
// `capstan status` read) and /metrics (Prometheus text format). Endpoints like any other
// (capstan/http.hpp): the server registers them first, a program's own come after.
#pragma once

#include <string>
#include <vector>

#include "capstan/http.hpp"

namespace capstan::app {

class LoopContext;

std::vector<Endpoint> server_endpoints();

// status_endpoint.cpp: the server's live state as JSON (name, pid, uptime, connections per route).
void append_status_json(LoopContext& ctx, std::string& body);
// metrics.cpp: every counter in Prometheus text format.
void append_metrics_text(LoopContext& ctx, std::string& body);

}  // namespace capstan::app
