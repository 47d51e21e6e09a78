// Plain HTTP requests on the WebSocket port (a part of HttpPhase): the endpoint a path names
// (capstan/http.hpp), a static file, or the route's component; the body read up to the
// endpoint's limit; the answer written as it comes; the connection kept for the next request.
#include <charconv>

#include "app/connection_output.hpp"
#include "app/connection_parts.hpp"
#include "app/endpoint_table.hpp"
#include "app/http_phase.hpp"
#include "app/loop_context.hpp"
#include "app/route.hpp"
#include "http/request_parser.hpp"
#include "http/response.hpp"
#include "http/static_files.hpp"
#include "util/log.hpp"

namespace capstan::app {

namespace {

bool is_get(std::string_view method) noexcept { return method == "GET" || method == "HEAD"; }

bool allows(const EndpointOptions& options, std::string_view method) noexcept {
  if (options.methods.empty()) return is_get(method);
  for (const std::string& m : options.methods)
    if (m == method || (m == "GET" && method == "HEAD")) return true;
  return false;
}

// Content-Length as RFC 9110 §8.6 has it: digits only; repeated, every copy the same.
bool content_length(const http::Request& req, size_t& out) noexcept {
  bool seen = false;
  for (size_t i = 0; i < req.header_count; ++i) {
    if (!http::iequals(req.headers[i].name, "Content-Length")) continue;
    const std::string_view v = req.headers[i].value;
    size_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || (seen && n != out)) return false;
    out = n;
    seen = true;
  }
  if (!seen) out = 0;
  return true;
}

}  // namespace

bool HttpPhase::plain_request_fits(ConnectionImpl& c_, const http::Request& req, size_t& body_size) {
  // Checked before a byte of the body is read: a refusal does not wait for it.
  const EndpointTable::Entry* endpoint = c_.ctx_.endpoints().find(req.path);
  if (endpoint && !allows(endpoint->options, req.method)) {
    respond_and_drain(c_, HttpError::method_not_allowed);
    return false;
  }
  if (!req.header("Transfer-Encoding").empty()) {
    respond_and_drain(c_, HttpError::length_required);
    return false;
  }
  if (!content_length(req, body_size)) {
    respond_and_drain(c_, HttpError::malformed_content_length);
    return false;
  }
  const size_t limit = endpoint ? endpoint->options.max_body : EndpointOptions{}.max_body;
  if (body_size > limit) {
    respond_and_drain(c_, HttpError::body_too_large);
    return false;
  }
  return true;
}

void HttpPhase::serve_plain(ConnectionImpl& c_, const http::Request& req, std::string_view body) {
  Handshake& hs = *c_.handshake_;
  const EndpointTable::Entry* endpoint = c_.ctx_.endpoints().find(req.path);
  const Route* route = endpoint ? nullptr : c_.ctx_.find_route(req.path);
  if (!endpoint) {
    std::string response;
    if (is_get(req.method) && http::append_static_file(response, c_.ctx_.static_root(), req.path, req.method == "HEAD")) {
      // the demo page, or any file of server.static_dir; also on a WebSocket route's path
      OutputPath::queue_raw(c_, response.data(), response.size());
      OutputPath::enter_draining(c_);
      return;
    }
    if (!route) return respond_and_drain(c_, HttpError::no_route);
  }
  const bool http10 = req.version_minor == 0;
  // HTTP/1.1 keeps the connection unless told otherwise; 1.0 closes unless asked to keep it.
  const bool keep_alive = http10 ? req.header_has_token("Connection", "keep-alive") : !req.header_has_token("Connection", "close");
  hs.exchange = std::make_shared<HttpExchange>(c_.ctx_.loop(), c_, req.method == "HEAD", keep_alive && !c_.ctx_.shutting_down(), http10);
  const std::string remote = c_.peer_.to_string();
  HttpRequest request;
  request.method = req.method;
  request.target = req.target;
  request.path = req.path;
  request.query = req.query;
  request.body = body;
  request.headers = std::span<const HttpHeader>(req.headers, req.header_count);
  request.remote_address = remote;
  HttpResponse response = HttpExchange::response_for(hs.exchange);
  try {
    if (endpoint) endpoint->handler->on_request(request, response);
    else route->component->on_http(request, response);
  } catch (const std::exception& e) {
    log::error("http handler threw", {{"path", req.path}, {"what", e.what()}});
    response.error(500, "internal error");
  } catch (...) {
    log::error("http handler threw", {{"path", req.path}, {"what", "an exception not derived from std::exception"}});
    response.error(500, "internal error");
  }
}

void HttpPhase::write_response(ConnectionImpl& c_, std::string_view bytes) {
  if (c_.state_ != ConnectionImpl::State::http) return;
  // A stream to a client that does not read is capped like a WebSocket's output.
  if (c_.pending_output() + bytes.size() > c_.ctx_.limits().send_buffer) {
    c_.ctx_.metrics().send_buffer_overflow();
    return c_.close_now();
  }
  OutputPath::queue_raw(c_, bytes.data(), bytes.size());
}

void HttpPhase::response_complete(ConnectionImpl& c_, bool keep_alive) {
  if (c_.state_ != ConnectionImpl::State::http || !c_.handshake_) return;
  Handshake& hs = *c_.handshake_;
  hs.exchange.reset();
  if (!keep_alive) return OutputPath::enter_draining(c_);
  ++hs.served;
  c_.phase_start_ms_ = c_.now_ms();  // handshake_timeout is the idle time between requests
  hs.parser.reset();
  if (hs.dispatching) {
    hs.answered = true;  // parse_requests goes on with what follows
    return;
  }
  // Answered later: read again, and serve what came behind the request meanwhile.
  c_.resume_reading();
  if (hs.buffer.empty()) return;
  std::string waiting = std::move(hs.buffer);
  hs.buffer.clear();
  on_data(c_, waiting.data(), waiting.size());
}

}  // namespace capstan::app
