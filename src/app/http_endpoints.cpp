#include "app/http_endpoints.hpp"

#include "app/loop_context.hpp"
#include "http/request_parser.hpp"
#include "http/response.hpp"

namespace capstan::app {

bool serve_endpoint(LoopContext& ctx, const http::Request& request, std::string& response) {
  std::string body;
  std::string_view type;
  if (request.path == "/healthz") {
    body = "ok\n";
    type = "text/plain; charset=utf-8";
  } else if (request.path == "/status") {
    append_status_json(ctx, body);
    type = "application/json";
  } else if (request.path == "/metrics") {
    append_metrics_text(ctx, body);
    type = "text/plain; version=0.0.4; charset=utf-8";
  } else {
    return false;
  }
  http::append_response(response, 200, type, body);
  if (request.method == "HEAD") response.resize(response.size() - body.size());  // RFC 9110 §9.3.2
  return true;
}

}  // namespace capstan::app
