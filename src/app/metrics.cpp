// GET /metrics: the loops' counters summed into a Snapshot, written in Prometheus text format
// 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/). Also the few
// counter operations that are more than one add. The counters themselves: metrics.hpp.
#include "app/metrics.hpp"

#include <time.h>

#include <chrono>
#include <ctime>

#include "app/http_endpoints.hpp"
#include "capstan/metrics.hpp"
#include "app/loop_context.hpp"

namespace capstan::app {
namespace metrics {

namespace {

// When the library was loaded: the start time a server without a RuntimeState reports.
const int64_t kLoadedUnix = static_cast<int64_t>(::time(nullptr));
const auto kLoadedSteady = std::chrono::steady_clock::now();

// The `le` labels, written as a Prometheus client writes them (prom-client prints 0.0005,
// where shortest-form double printing would give 5e-04).
constexpr std::string_view kBucketLabels[kHandshakeBuckets] = {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
                                                               "0.05",   "0.1",   "0.25",   "0.5",   "1",    "2.5"};

void append_help(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  append_help(out, help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// name{label="value"} number   (no braces when label is empty)
void sample(std::string& out, std::string_view name, std::string_view label, std::string_view value, uint64_t number) {
  out += name;
  if (!label.empty()) {
    out += '{';
    out += label;
    out += "=\"";
    append_label_value(out, value);
    out += "\"}";
  }
  out += ' ';
  out += std::to_string(number);
  out += '\n';
}

void per_route(std::string& out, const Snapshot& s, std::string_view name, std::string_view type, std::string_view help,
               uint64_t Snapshot::Route::*field) {
  family(out, name, type, help);
  for (const Snapshot::Route& r : s.routes) sample(out, name, "route", r.path, r.*field);
}

template <size_t N, class Enum>
void by_reason(std::string& out, std::string_view name, std::string_view help, std::string_view label,
               const uint64_t (&values)[N]) {
  family(out, name, "counter", help);
  for (size_t i = 0; i < N; ++i) sample(out, name, label, name_of(static_cast<Enum>(i)), values[i]);
}

}  // namespace

uint32_t now_us() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint32_t>(static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u);
}

HandshakeFailure handshake_failure_for_status(int http_status) noexcept {
  switch (http_status) {
    case 431: return HandshakeFailure::too_large;
    case 426: return HandshakeFailure::version;
    case 404: return HandshakeFailure::not_found;
    case 403: return HandshakeFailure::origin;
    case 429:
    case 503: return HandshakeFailure::too_many;
    default: return HandshakeFailure::bad_request;  // 400, 405, 505
  }
}

void LoopMetrics::limit_hit(LimitKind kind) noexcept {
  limit_hits_[static_cast<size_t>(kind)].add();
  if (kind != LimitKind::messages) handshake_failed(HandshakeFailure::too_many);
}

void LoopMetrics::handshake_completed(uint32_t accepted_us) noexcept {
  const uint32_t took = now_us() - accepted_us;
  size_t i = 0;
  while (i < kHandshakeBuckets && took > kHandshakeBoundsUs[i]) ++i;  // `le`: bounds are inclusive
  handshake_buckets_[i].add();
  handshake_sum_us_.add(took);
}

void CloseCodes::count(uint16_t code) noexcept {
  if (code == 0) {  // 0 marks a free slot; no close carries it
    other_.add();
    return;
  }
  size_t i = code % kSlots;
  for (size_t probes = 0; probes < kSlots; ++probes, i = (i + 1) % kSlots) {
    const uint16_t seen = codes_[i].load(std::memory_order_relaxed);
    if (seen == code) {
      counts_[i].add();
      return;
    }
    if (seen == 0) {
      counts_[i].add();
      codes_[i].store(code, std::memory_order_release);  // after the count: readers see both
      return;
    }
  }
  other_.add();
}

void Snapshot::add(const LoopMetrics& loop) {
  loop.closes().for_each([this](uint16_t code, uint64_t n) { closes[code] += n; });
  closes_other += loop.closes().other();
  for (size_t i = 0; i < kHandshakeFailures; ++i) handshake_failures[i] += loop.handshake_failures(HandshakeFailure(i)).get();
  for (size_t i = 0; i < kAuthFailures; ++i) auth_failures[i] += loop.auth_failures(AuthFailure(i)).get();
  for (size_t i = 0; i < kLimitKinds; ++i) limit_hits[i] += loop.limit_hits(LimitKind(i)).get();
  send_buffer_overflows += loop.send_buffer_overflows().get();
  for (size_t i = 0; i <= kHandshakeBuckets; ++i) handshake_buckets[i] += loop.handshake_bucket(i).get();
  handshake_sum_us += loop.handshake_sum_us().get();
}

std::string_view name_of(LimitKind kind) noexcept {
  constexpr std::string_view names[kLimitKinds] = {"messages", "connections_per_ip", "connection_rate", "max_connections"};
  return names[static_cast<size_t>(kind)];
}

std::string_view name_of(HandshakeFailure reason) noexcept {
  constexpr std::string_view names[kHandshakeFailures] = {"bad_request", "too_large", "version", "not_found",
                                                          "origin",      "too_many",  "timeout",  "proxy_header"};
  return names[static_cast<size_t>(reason)];
}

std::string_view name_of(AuthFailure reason) noexcept {
  constexpr std::string_view names[kAuthFailures] = {"no_token", "invalid_token", "unknown_user", "database", "proxy_refused",
                                                            "proxy_failed"};
  return names[static_cast<size_t>(reason)];
}

void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

void append_seconds(std::string& out, uint64_t micros) {
  out += std::to_string(micros / 1000000);
  uint64_t fraction = micros % 1000000;
  if (fraction == 0) return;
  char digits[7] = "000000";
  for (int i = 5; i >= 0; --i, fraction /= 10) digits[i] = static_cast<char>('0' + fraction % 10);
  int end = 6;
  while (digits[end - 1] == '0') --end;
  out += '.';
  out.append(digits, static_cast<size_t>(end));
}

void format(const Snapshot& s, std::string& out) {
  using R = Snapshot::Route;
  per_route(out, s, "capstan_connections", "gauge", "WebSocket connections open now, by route.", &R::open);
  per_route(out, s, "capstan_connections_total", "counter", "WebSocket connections opened, by route.", &R::opened);
  per_route(out, s, "capstan_messages_received_total", "counter", "Data messages received from clients, by route.",
            &R::messages_received);
  per_route(out, s, "capstan_messages_sent_total", "counter", "Data messages queued to clients, by route.",
            &R::messages_sent);
  per_route(out, s, "capstan_bytes_received_total", "counter",
            "Payload bytes of the data messages received, after decompression, by route.", &R::bytes_received);
  per_route(out, s, "capstan_bytes_sent_total", "counter",
            "Payload bytes of the data messages queued, before compression, by route.", &R::bytes_sent);

  family(out, "capstan_sockets", "gauge", "TCP connections held: WebSocket, handshakes in progress and plain HTTP.");
  sample(out, "capstan_sockets", {}, {}, s.sockets);

  family(out, "capstan_closes_total", "counter",
         "WebSocket connections closed, by the close code of the side that closed first (1006: dropped without a "
         "close frame).");
  for (const auto& [code, n] : s.closes) sample(out, "capstan_closes_total", "code", std::to_string(code), n);
  if (s.closes_other) sample(out, "capstan_closes_total", "code", "other", s.closes_other);

  by_reason<kHandshakeFailures, HandshakeFailure>(out, "capstan_handshake_failures_total",
                                                  "Requests that got no 101, by reason.", "reason", s.handshake_failures);
  by_reason<kAuthFailures, AuthFailure>(out, "capstan_auth_failures_total",
                                        "Connections refused by authentication after the handshake, by reason.",
                                        "reason", s.auth_failures);
  by_reason<kLimitKinds, LimitKind>(out, "capstan_limit_hits_total", "Abuse limits hit, by kind.", "kind",
                                    s.limit_hits);

  family(out, "capstan_send_buffer_overflows_total", "counter",
         "Connections closed with 1008 because their unsent output passed limits.send_buffer.");
  sample(out, "capstan_send_buffer_overflows_total", {}, {}, s.send_buffer_overflows);

  constexpr std::string_view h = "capstan_handshake_duration_seconds";
  family(out, h, "histogram", "Time from accept to the 101 response, authentication included.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kHandshakeBuckets; ++i) {
    cumulative += s.handshake_buckets[i];
    sample(out, "capstan_handshake_duration_seconds_bucket", "le", i < kHandshakeBuckets ? kBucketLabels[i] : "+Inf",
           cumulative);
  }
  out += h;
  out += "_sum ";
  append_seconds(out, s.handshake_sum_us);
  out += '\n';
  sample(out, "capstan_handshake_duration_seconds_count", {}, {}, cumulative);

  family(out, "capstan_start_time_seconds", "gauge", "When the server started, in seconds since the Unix epoch.");
  out += "capstan_start_time_seconds " + std::to_string(s.start_time_unix) + "\n";
  family(out, "capstan_uptime_seconds", "gauge", "Seconds since the server started.");
  out += "capstan_uptime_seconds " + std::to_string(s.uptime_seconds) + "\n";
}

}  // namespace metrics

void append_metrics_text(LoopContext& ctx, std::string& body) {
  const ServerStatus& server = ctx.server_status();
  metrics::Snapshot s;
  s.routes.resize(ctx.routes().size());
  for (size_t i = 0; i < s.routes.size(); ++i) s.routes[i].path = ctx.routes()[i].path;
  // Every loop has the same routes in the same order: index i is one route everywhere.
  auto add_loop = [&s](const LoopContext& loop) {
    s.add(loop.metrics());
    for (size_t i = 0; i < s.routes.size() && i < loop.routes().size(); ++i) {
      const metrics::RouteCounters& c = loop.routes()[i].counters;
      metrics::Snapshot::Route& r = s.routes[i];
      r.open += loop.route_connections(i);
      r.opened += c.opened.get();
      r.messages_received += c.messages_received.get();
      r.bytes_received += c.bytes_received.get();
      r.messages_sent += c.messages_sent.get();
      r.bytes_sent += c.bytes_sent.get();
    }
  };
  if (server.loops.empty()) add_loop(ctx);  // not yet published: this loop is all we reach
  for (const LoopContext* loop : server.loops) add_loop(*loop);
  s.sockets = ctx.open_sockets();
  if (server.started_unix) {
    s.start_time_unix = server.started_unix;
    s.uptime_seconds = server.uptime_seconds();
  } else {
    s.start_time_unix = metrics::kLoadedUnix;
    s.uptime_seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - metrics::kLoadedSteady).count();
  }
  body.clear();
  metrics::format(s, body);
  append_registered_counters(body);  // components' and endpoints' own (capstan/metrics.hpp)
}

}  // namespace capstan::app
