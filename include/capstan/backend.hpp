// The web application as a backend (SPEC 5a): how Capstan calls it. Every request is a POST of
// JSON, signed with [backend] secret (the X-Capstan-Signature header), bounded by [backend]
// timeout, and counted against a cap of [backend] max_in_flight per caller, beyond which the
// caller is refused at once rather than queued. The connect proxy, `http` actions and the
// `proxy` component call the application this way; so may any component (Component::backend()
// and Component::http_client()).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "capstan/config.hpp"
#include "capstan/connection.hpp"
#include "capstan/http_client.hpp"
#include "capstan/json.hpp"
#include "capstan/metrics.hpp"

namespace capstan {

// X-Capstan-Signature's value: "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed
// with `secret`>". The application refuses a wrong one, or a `t` more than 300 s away.
std::string backend_signature(std::string_view body, std::string_view secret, int64_t unix_seconds);

// The user as SPEC 5a's bodies carry it: {"id","identity","data"} (data: what the connect
// proxy attached, else null), or null for an anonymous connection.
void write_backend_user(JsonWriter& w, const User* user);

class Backend {
 public:
  // The secret is config.secret, else the environment's CAPSTAN_BACKEND_SECRET.
  explicit Backend(const BackendConfig& config);

  // A POST of `json` to `url`: Content-Type application/json, signed now, with the timeout.
  HttpClientRequest request(std::string url, std::string json) const;
  // Whether a secret is configured: without one the application cannot trust a request, and
  // the server refuses to start anything that would call it.
  bool has_secret() const noexcept { return !secret_.empty(); }
  // A cap of max_in_flight, for one caller's requests on every loop (a route's).
  std::shared_ptr<InFlightLimit> new_limit() const { return std::make_shared<InFlightLimit>(max_in_flight_); }
  Duration timeout() const noexcept { return timeout_; }

 private:
  std::string secret_;
  Duration timeout_;
  unsigned max_in_flight_;
};

// /metrics counts of one caller's requests to the application (a route's):
//   capstan_backend_requests_total{route, outcome}: ok (2xx), refused (4xx), failed (another
//     status), timeout, unreachable, busy (over max_in_flight), error (any other failure);
//   capstan_backend_request_milliseconds_total{route}: their time, summed (divided by the
//     requests, the mean latency).
// Made at setup (it registers counters); count() from any loop.
class BackendMetrics {
 public:
  explicit BackendMetrics(std::string_view route);
  // A failure counts no time: only an answer says how long it took.
  void count(const Expected<HttpClientResponse>& answer) noexcept;

 private:
  Counter *ok_, *refused_, *failed_, *timeout_, *unreachable_, *busy_, *error_, *milliseconds_;
};

}  // namespace capstan
