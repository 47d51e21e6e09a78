// Server: turns the configuration and the registered routes into running loops.
//
// Start order: block signals (so only signalfd sees them), resolve routes, start the auth
// service and its worker pool, build every loop,
// bind loop 0's listeners (learning the real port when asked for 0), bind the other loops to
// the same ports with SO_REUSEPORT, start threads 1..n-1, run loop 0 on the caller's thread.
#include "capstan/server.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <thread>

#include "app/auth_service.hpp"
#include "app/config_reload.hpp"
#include "config/route_path.hpp"
#include "app/echo.hpp"
#include "app/notify/notify_component.hpp"
#include "app/loop_context.hpp"
#include "app/runtime_state.hpp"
#include "net/signals.hpp"
#include "util/log.hpp"

namespace capstan {

struct Server::Impl {
  Config config;
  std::map<std::string, ComponentFactory> registry;
  std::vector<app::RouteSpec> code_routes;  // from route(), in order
  struct CodeNotify {
    std::string path;
    std::vector<Action> actions;
    NotifyOptions options;
  };
  std::vector<CodeNotify> code_notify;  // from notify(), in order
  std::unique_ptr<app::AuthService> auth;
  app::ServerShared shared;
  std::vector<std::unique_ptr<app::LoopContext>> loops;
  std::atomic<bool> running{false};
  std::atomic<uint16_t> port{0};
  std::atomic<bool> stop_requested{false};
  std::string last_error;
  app::RuntimeState runtime;            // the state file `capstan list / status / stop` read
  std::vector<std::string> listening;  // the real addresses (port 0 resolved), for it

  Config reloaded;  // the configuration a SIGHUP compares with (loop 0's thread only)
  std::vector<std::shared_ptr<app::NotifyRoute>> notify_routes;

  bool resolve_routes(std::vector<app::RouteSpec>& out, bool& uses_database);
  void reload();
  static app::RouteSpec notify_spec(std::string path, std::shared_ptr<app::NotifyRoute> route, bool auth);
  bool bind_all();
};

Server::Server(Config config) : impl_(std::make_unique<Impl>()) {
  impl_->config = std::move(config);
  impl_->shared.config = &impl_->config;
  register_component("echo", [] { return std::make_unique<app::EchoComponent>(); });
}

Server::~Server() = default;

void Server::route(std::string path, ComponentFactory factory, RouteOptions options) {
  impl_->code_routes.push_back({std::move(path), "", std::move(factory), std::move(options.protocols), options.auth});
}

void Server::notify(std::string path, std::vector<Action> actions, NotifyOptions options) {
  impl_->code_notify.push_back({std::move(path), std::move(actions), options});
}

app::RouteSpec Server::Impl::notify_spec(std::string path, std::shared_ptr<app::NotifyRoute> route, bool auth) {
  app::RouteSpec spec;
  spec.path = std::move(path);
  spec.component_name = "notify";
  spec.auth = auth;
  // Instances are made loop by loop before any thread starts, so the list needs no lock.
  spec.factory = [route]() -> std::unique_ptr<Component> {
    auto instance = std::make_unique<app::NotifyComponent>(route);
    route->instances.push_back(instance.get());
    return instance;
  };
  return spec;
}

void Server::register_component(std::string name, ComponentFactory factory) {
  impl_->registry[std::move(name)] = std::move(factory);
}

bool Server::Impl::resolve_routes(std::vector<app::RouteSpec>& out, bool& uses_database) {
  const std::string& prefix = config.server.prefix;
  auto add = [&](app::RouteSpec spec) {
    spec.path = config::route_path(prefix, spec.path, spec.component_name);
    for (const auto& existing : out) {
      if (existing.path == spec.path) {
        last_error = "two routes on path " + spec.path;
        return false;
      }
    }
    out.push_back(std::move(spec));
    return true;
  };
  auto take_code_notify = [&](const std::string& path) {
    std::vector<Action> actions;
    for (auto it = code_notify.begin(); it != code_notify.end(); ++it) {
      if (it->path == path) {
        actions = std::move(it->actions);
        code_notify.erase(it);
        break;
      }
    }
    return actions;
  };
  for (const RouteConfig& rc : config.routes) {
    if (rc.component == "notify") {
      const std::string path = rc.path.empty() ? "/notify" : rc.path;  // before the prefix
      auto route = app::make_notify_route(&rc, take_code_notify(path), {});
      notify_routes.push_back(route);
      uses_database = uses_database || route->uses_database();
      app::RouteSpec spec = notify_spec(path, route, rc.auth != 0);
      spec.protocols = rc.protocols;
      if (!add(std::move(spec))) return false;
      continue;
    }
    auto it = registry.find(rc.component);
    if (it == registry.end()) {
      last_error = "unknown component '" + rc.component + "' on route " + rc.path;
      return false;
    }
    if (!add({rc.path, rc.component, it->second, rc.protocols, rc.auth == 1})) return false;
  }
  for (auto& n : code_notify) {
    auto route = app::make_notify_route(nullptr, std::move(n.actions), n.options);
    notify_routes.push_back(route);
    if (!add(notify_spec(n.path, route, n.options.auth))) return false;
  }
  code_notify.clear();
  for (auto& spec : code_routes)
    if (!add(spec)) return false;
  if (out.empty()) {
    last_error = "no routes configured";
    return false;
  }
  return true;
}

bool Server::Impl::bind_all() {
  for (const std::string& text : config.server.listen) {
    std::string error;
    auto address = net::parse_listen_address(text, &error);
    if (!address) {
      last_error = "server.listen: " + error;
      return false;
    }
    if (net::address_in_use(*address)) {
      last_error = "cannot listen on " + text + ": address already in use";
      return false;
    }
    for (size_t i = 0; i < loops.size(); ++i) {
      if (!loops[i]->listen(*address, error)) {
        last_error = error;
        return false;
      }
      if (i == 0) {
        // Port 0: every loop must share the port the kernel picked for the first.
        uint16_t port = loops[0]->last_port();  // this address's: each asked for port 0 gets its own
        auto* sa = reinterpret_cast<sockaddr*>(&address->storage);
        if (sa->sa_family == AF_INET) reinterpret_cast<sockaddr_in*>(sa)->sin_port = htons(port);
        else reinterpret_cast<sockaddr_in6*>(sa)->sin6_port = htons(port);
        if (this->port == 0) this->port = port;
        listening.push_back(net::CompactAddress::from(sa).to_string());
        std::string shown = text.substr(0, text.rfind(':') + 1) + std::to_string(port);
        log::info("listening", {{"address", shown}, {"loops", std::to_string(loops.size())}});
      }
    }
  }
  return true;
}

int Server::run() {
  Impl& s = *impl_;
  // Before any thread exists (the worker pool's too), so only the signalfd sees signals.
  net::block_signals({SIGINT, SIGTERM, SIGHUP});
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<app::RouteSpec> routes;
  bool uses_database = false;
  if (!s.resolve_routes(routes, uses_database)) return 1;
  if (!s.runtime.claim(s.config, s.last_error)) return 1;  // a server of this name runs already
  s.shared.ip_limiter = std::make_unique<app::IpLimiter>(s.config.limits.connections_per_ip,
                                                         s.config.limits.connection_rate_per_ip);
  const std::string& dir = s.config.server.static_dir;
  s.shared.static_root = dir.empty() || dir.front() == '/' || s.config.base_dir.empty() ? dir : s.config.base_dir + "/" + dir;
  while (s.shared.static_root.size() > 1 && s.shared.static_root.back() == '/') s.shared.static_root.pop_back();
  const bool authenticates = std::any_of(routes.begin(), routes.end(), [](const app::RouteSpec& r) { return r.auth; });
  if (authenticates || uses_database) {
    s.auth = app::AuthService::create(s.config, authenticates, uses_database, s.last_error);
    if (!s.auth) return 1;
    s.shared.auth = s.auth.get();
    for (auto& route : s.notify_routes) route->auth = s.auth.get();
  }

  unsigned threads = s.config.server.threads ? s.config.server.threads : std::thread::hardware_concurrency();
  if (threads == 0) threads = 1;
  try {
    for (unsigned i = 0; i < threads; ++i) s.loops.push_back(std::make_unique<app::LoopContext>(i, s.shared, routes));
  } catch (const std::exception& e) {
    s.last_error = e.what();
    s.loops.clear();
    return 1;
  }
  if (!s.bind_all() || !s.runtime.publish(s.listening, routes, s.last_error)) {
    s.loops.clear();
    return 1;
  }
  for (const auto& l : s.loops) s.shared.loops.push_back(l.get());
  s.shared.runtime = &s.runtime;
  for (const auto& r : routes) log::info("route", {{"path", r.path}, {"component", r.component_name.empty() ? "c++" : r.component_name}});

  s.reloaded = s.config;
  auto signals = std::make_unique<net::SignalWatcher>(s.loops[0]->loop(), std::initializer_list<int>{SIGINT, SIGTERM, SIGHUP}, [this](int sig) {
    if (sig == SIGHUP) return impl_->reload();
    log::info("stopping", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    stop();
  });
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < threads; ++i) workers.emplace_back([&s, i] { s.loops[i]->loop().run(); });
  s.running = true;
  if (s.stop_requested) stop();  // stop() raced with start-up
  s.loops[0]->loop().run();
  for (auto& t : workers) t.join();
  s.running = false;
  signals.reset();  // it is registered with loop 0: gone before the loop is
  // Jobs still queued run and post their results to loops that still exist (and never run).
  s.shared.auth = nullptr;
  s.auth.reset();
  s.shared.loops.clear();
  s.loops.clear();
  s.runtime.withdraw();
  log::info("stopped");
  return 0;
}

// SIGHUP, on loop 0: reads the file again and applies what can change under running
// connections; says in the log what was applied and what needs a restart.
void Server::Impl::reload() {
  if (config.source_path.empty()) {
    log::warn("reload: no configuration file to read again");
    return;
  }
  LoadedConfig loaded = load_config_file(config.source_path);
  if (!loaded.ok()) {
    for (const ConfigError& e : loaded.errors)
      log::error("reload refused: the file has a fault, nothing changed",
                 {{"key", e.key}, {"line", std::to_string(e.line)}, {"reason", e.message}});
    return;
  }
  Config next = std::move(loaded.config);
  // What the command line set, and the default route, are not in the file.
  next.server.listen = reloaded.server.listen;
  next.server.name = reloaded.server.name;
  next.server.runtime_dir = reloaded.server.runtime_dir;  // --runtime-dir is not in the file either
  if (next.routes.empty()) next.routes = reloaded.routes;
  const app::ReloadPlan plan = app::plan_reload(reloaded, next);

  std::string applied;
  auto note = [&applied](const char* what) { applied += applied.empty() ? what : std::string(", ") + what; };
  if (plan.limits) {
    for (auto& ctx : loops) {
      app::LoopContext* c = ctx.get();
      c->loop().post_task([c, limits = next.limits] { c->set_limits(limits); });
    }
    shared.ip_limiter->configure(next.limits.connections_per_ip, next.limits.connection_rate_per_ip);
    reloaded.limits = next.limits;
    note("limits");
  }
  if (plan.auth && auth && auth->verifies()) {
    std::string error;
    if (auth->reload_keys(next.auth, next.base_dir, error)) {
      reloaded.auth = next.auth;
      note("auth keys");
    } else {
      log::error("reload: the new keys were refused, the old ones stay", {{"reason", error}});
    }
  }
  if (plan.log) {
    log::set_format_json(next.server.log_format == "json");
    log::set_level(log::level_named(next.server.log_level));
    reloaded.server.log_format = next.server.log_format;
    reloaded.server.log_level = next.server.log_level;
    note("log");
  }
  for (auto& ctx : loops) {
    app::LoopContext* c = ctx.get();
    c->loop().post_task([c] { c->notify_reload(); });
  }
  std::string restart;
  for (const std::string& what : plan.needs_restart) restart += (restart.empty() ? "" : ", ") + what;
  log::info("reloaded", {{"applied", applied.empty() ? "nothing changed" : applied},
                         {"needs_restart", restart.empty() ? "nothing" : restart}});
}

void Server::reload() {
  if (!impl_->running) return;
  Impl* s = impl_.get();
  s->loops[0]->loop().post_task([s] { s->reload(); });
}

void Server::stop() {
  impl_->stop_requested = true;
  if (!impl_->running) return;  // run() checks stop_requested once its loops exist
  for (auto& ctx : impl_->loops) {
    app::LoopContext* c = ctx.get();
    c->loop().post_task([c] { c->begin_shutdown(); });
  }
}

bool Server::running() const noexcept { return impl_->running; }
uint16_t Server::port() const noexcept { return impl_->port; }
const std::string& Server::last_error() const noexcept { return impl_->last_error; }
const Config& Server::config() const noexcept { return impl_->config; }

}  // namespace capstan
