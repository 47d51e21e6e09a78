// The `proxy` component (SPEC 5a, the event proxy): a PHP component in effect. Each
// connection's open, message and close events are POSTed to the web application in order,
// never two in flight for one connection, and the commands it answers run here: send to this
// connection, to users, to everyone on the route; close this connection. A timer event every
// timer_interval lets the application do periodic work (werkraum's ConfigureLoopInterface).
// Built on the public API only: the loop's HTTP client, Backend, topics, ConnectionRef.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "capstan/backend.hpp"
#include "capstan/component.hpp"
#include "capstan/json.hpp"

namespace capstan::proxy {

// What one proxy route is, shared by its instances on every loop.
struct ProxyRoute {
  std::string path;
  std::string url;
  Duration timer_interval{};
  std::string topic;  // prefix of the route's topics: everyone, and each user
  std::once_flag backend_once;  // the first instance to start makes the two below
  std::shared_ptr<InFlightLimit> limit;
  std::unique_ptr<BackendMetrics> metrics;
};

class ProxyComponent final : public Component {
 public:
  explicit ProxyComponent(std::shared_ptr<ProxyRoute> route) : route_(std::move(route)) {}

  void on_start() override;
  void on_open(Connection& c) override;
  void on_message(Connection& c, Message message) override;
  void on_close(Connection& c, CloseInfo info) override;

 private:
  // A connection's events not yet answered: the first is in flight. Kept past the close, so
  // the close event still goes, after the others.
  struct Queue {
    ConnectionRef ref;
    std::deque<std::string> events;
    bool in_flight = false;
    bool paused = false;  // reading paused: the application is behind
    bool closed = false;
  };

  std::string event(std::string_view name, const Connection& c) const;
  void enqueue(Connection& c, std::string body);
  void pump(uint64_t id);
  void answered(uint64_t id, const Expected<HttpClientResponse>& answer);
  // The application's answer (any event's): counted, and its commands run, or why not logged.
  void run_commands(const ConnectionRef& self, const Expected<HttpClientResponse>& answer);
  void run_commands(const ConnectionRef& self, const Json& commands);
  void send_to(const ConnectionRef& self, const Json& to, std::string_view text);
  void tick();

  std::shared_ptr<ProxyRoute> route_;
  std::unordered_map<uint64_t, Queue> queues_;
  JsonParser parser_;
  bool timer_in_flight_ = false;
};

}  // namespace capstan::proxy
