// The plain-HTTP endpoints on the WebSocket port, besides static files: /healthz, /status
// (what `capstan list` and `capstan status` read) and /metrics (Prometheus text format).
#pragma once

#include <string>

namespace capstan::http {
struct Request;
}

namespace capstan::app {

class LoopContext;

// Appends the whole response for an endpoint at `request.path` (GET or HEAD) and returns
// true; false when the path is no endpoint.
bool serve_endpoint(LoopContext& ctx, const http::Request& request, std::string& response);

// status_endpoint.cpp: the server's live state as JSON (name, pid, uptime, connections per route).
void append_status_json(LoopContext& ctx, std::string& body);
// metrics.cpp: every counter in Prometheus text format.
void append_metrics_text(LoopContext& ctx, std::string& body);

}  // namespace capstan::app
