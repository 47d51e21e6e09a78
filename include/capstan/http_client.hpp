// An asynchronous HTTP client on the loop: a component asks a web application (its
// connect, action or event proxy, any JSON service) and carries on; the answer comes back as a
// callback on the same loop, while every other connection is served meanwhile. libcurl's
// multi interface does the HTTP, driven by the loop's own epoll (capstan::Watch) and timers:
// no thread of its own, no second poller.
//
// One client per loop (Component::http_client(), HttpHandler::http_client()), made the first
// time it is asked for; it keeps connections to each backend alive between requests. Use it on
// its loop's thread only. A program may also make its own `HttpClient(loop)`.
//
// The contract of `done`:
// - it runs later on the loop's thread, never inside request() (even for a refusal such as a
//   bad URL or a full InFlightLimit), exactly once per request unless the request is
//   cancelled first (then never);
// - an answer of any status (404, 500...) is a value: HttpClientResponse::status says which;
//   only a failure to get an answer is an Error, of the HttpClientError category;
// - it may issue new requests, cancel others, or destroy the client it came from.
// Destroying the client cancels whatever is in flight: no done is called after that.
//
// Connections are plain http or https (certificates verified); no proxy from the
// environment, no redirects followed (a 3xx is an answer), no Content-Type unless the request
// sets one, no `Expect: 100-continue`.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "capstan/error.hpp"
#include "capstan/loop.hpp"
#include "capstan/types.hpp"

namespace capstan {

struct HttpClientRequest {
  std::string method = "POST";  // any token: GET, HEAD, POST, PUT, PATCH, DELETE...
  std::string url;              // http:// or https://
  std::vector<std::pair<std::string, std::string>> headers;  // sent as given
  std::string body;             // sent when not empty (POST sends an empty one too)
  Duration timeout{};           // the whole exchange, connecting included; zero: the client's
  size_t max_response_size = 0;  // the body's limit; zero: the client's
};

struct HttpClientResponse {
  int status = 0;
  // In the order received, names lower-cased, values without surrounding blanks; those of
  // an interim 100 Continue are dropped.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  Duration elapsed{};  // from request() to the last byte

  // The first header of that name (any case), or "" when there is none.
  std::string_view header(std::string_view name) const noexcept;
};

// The most requests one caller may have in flight at once, across every loop: a route's
// concurrency cap for its backend, say. A request over it is refused at once with
// HttpClientError::too_many_in_flight (nothing waits in a queue); a place is given back when
// a request completes or is cancelled. Shared by pointer so it outlives every request that
// holds a place in it, whichever loop ends last.
class InFlightLimit {
 public:
  explicit InFlightLimit(size_t max) noexcept : max_(max) {}
  InFlightLimit(const InFlightLimit&) = delete;
  InFlightLimit& operator=(const InFlightLimit&) = delete;

  size_t max() const noexcept { return max_; }
  size_t in_flight() const noexcept { return count_.load(std::memory_order_relaxed); }

 private:
  friend class HttpClient;
  bool try_acquire() noexcept;
  void release() noexcept;

  const size_t max_;
  std::atomic<size_t> count_{0};
};

struct HttpClientOptions {
  Duration timeout{10'000};          // a request's default (HttpClientRequest::timeout)
  Duration connect_timeout{5'000};   // at most this of it for connecting (DNS, TCP, TLS)
  size_t max_response_size = 1 << 20;  // a response body's default limit: response_too_large
  long max_connections_per_host = 16;  // more concurrent requests to one host wait for one
};

using RequestId = uint64_t;  // never 0

class HttpClient {
 public:
  using Done = std::function<void(Expected<HttpClientResponse> response)>;

  // Costs nothing until the first request (no curl handle is made before).
  explicit HttpClient(Loop& loop, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts `request`; `done` gets the answer or the failure (see above), or nothing when it
  // is empty. `limit`, when given, must have room, or the request is refused with
  // too_many_in_flight.
  RequestId request(HttpClientRequest request, Done done, std::shared_ptr<InFlightLimit> limit = nullptr);
  // Stops a request: its done is never called, its connection is closed if the exchange was
  // under way. Unknown or completed ids are ignored.
  void cancel(RequestId id);
  // Requests whose done has not been called yet (and that were not cancelled).
  size_t in_flight() const noexcept;

  // What requests started from now on use; the per-loop client is shared by every
  // component of its loop, so a component's own needs belong in its requests.
  const HttpClientOptions& options() const noexcept;
  void set_options(const HttpClientOptions& options);

  // Fails every request in flight with HttpClientError::shutting_down (their done is called
  // from here) and refuses every later one the same way. The server does this on each loop
  // when its shutdown deadline passes; until then the loop's requests may finish.
  void shut_down();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace capstan
