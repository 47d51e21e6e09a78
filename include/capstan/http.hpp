// Plain HTTP on the WebSocket port: requests that are not upgrades, answered by a component on
// its own route (Component::on_http) or by an endpoint a program or a service registers on a
// path (Server::handle). /healthz, /status, /metrics, POST /publish and the Mercure hub are
// endpoints like any other.
//
// A request arrives whole (head and body, the body up to the endpoint's limit) on the loop
// that accepted the connection. The HttpResponse handed with it answers it: at once, later
// from a timer or a job's continuation, or from any other thread (a worker, another loop),
// which posts the answer to the connection's loop. A response is either whole (send) or a
// stream (start, write..., end) that may stay open for as long as the client stays: the shape
// Server-Sent Events need. Connections are kept alive between requests (HTTP/1.1, unless the
// client says `Connection: close`); a connection's next request is read once the previous
// response is complete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capstan/http_client.hpp"
#include "capstan/loop.hpp"
#include "capstan/topics.hpp"

namespace capstan {

class Component;
class Cluster;
struct HttpExchange;

struct HttpHeader {
  std::string_view name;
  std::string_view value;
};

// Views into the connection's buffer: valid during the call that hands the request over.
// Copy what a later answer needs.
class HttpRequest {
 public:
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // path?query as sent
  std::string_view path;
  std::string_view query;   // raw, without the '?'
  std::string_view body;    // Content-Length bytes; empty without one
  std::span<const HttpHeader> headers;
  std::string_view remote_address;  // "127.0.0.1:53012"

  // The first header of that name (case-insensitive), or "".
  std::string_view header(std::string_view name) const noexcept;
  // Every header of that name in order (Mercure's repeated `topic`s come in the body; repeated
  // headers are rare, but legal).
  std::vector<std::string_view> header_values(std::string_view name) const;
};

// Extra response headers: name and value, no CR or LF in either.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The answer to one request. A cheap, copyable handle: keep it in a lambda or a job to answer
// later. Every member may be called from any thread; off the connection's loop the call is
// posted there. Calls after the response is complete, or once the client has gone, do nothing.
class HttpResponse {
 public:
  HttpResponse() = default;  // answers nothing: for containers

  // The whole response: status, body, and its Content-Type.
  void send(uint16_t status, std::string_view body, std::string_view content_type = "text/plain; charset=utf-8",
            const HttpHeaders& headers = {});
  // A short text/plain answer whose body is `reason` and a newline: for refusals.
  void error(uint16_t status, std::string_view reason);

  // A streamed response: the head now, the body in pieces (chunked for HTTP/1.1 clients,
  // delimited by the close for HTTP/1.0), each piece written as it comes, until end().
  void start(uint16_t status, std::string_view content_type, const HttpHeaders& headers = {});
  void write(std::string_view piece);
  void end();

  // True once the response is complete or the client has gone: stop producing.
  bool finished() const noexcept;
  // `fn` runs on the connection's loop when the client goes away before the response is
  // complete (a stream's subscriber leaving). Set it from the loop's thread.
  void on_abort(std::function<void()> fn);

 private:
  friend struct HttpExchange;
  explicit HttpResponse(std::shared_ptr<HttpExchange> exchange) : exchange_(std::move(exchange)) {}
  std::shared_ptr<HttpExchange> exchange_;
};

struct ComponentServices;

// What serves an endpoint. Like a component, one instance per loop, made by its factory; it
// answers the requests that arrive on its loop, needing no locks for its own state.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual void on_request(const HttpRequest& request, HttpResponse response) = 0;
  // Once attached to its loop, before any request.
  virtual void on_start() {}

  Loop& loop() const noexcept { return *loop_; }
  Topics& topics() const noexcept;
  // The other nodes (capstan/cluster.hpp), or nullptr when this server runs alone.
  Cluster* cluster() const noexcept;
  // This loop's HTTP client (capstan/http_client.hpp), made the first time it is asked for.
  HttpClient& http_client() const;
  // This loop's instance of the component serving the route at `path` (the server prefix
  // applied, as clients connect to it), or nullptr: how an endpoint hands work to a route.
  Component* route_component(std::string_view path) const noexcept;
  // This loop's instance of every route's component, in route order.
  std::vector<Component*> route_components() const;

 private:
  friend class HandlerAttach;
  Loop* loop_ = nullptr;
  ComponentServices* services_ = nullptr;
};

using HttpHandlerFactory = std::function<std::unique_ptr<HttpHandler>()>;

struct EndpointOptions {
  // Methods served; any other is answered 405. Empty: GET and HEAD.
  std::vector<std::string> methods;
  // Bodies over this are answered 413 before a byte of them is read.
  size_t max_body = 1024 * 1024;
  // Also serve every path below this one ("/apps" serves "/apps/1/events").
  bool prefix = false;
};

// A path (before the server prefix) and what serves it.
struct Endpoint {
  std::string path;
  HttpHandlerFactory factory;
  EndpointOptions options;
};

}  // namespace capstan
