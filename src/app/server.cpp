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
#include <ctime>
#include <map>
#include <thread>

#include "app/auth_service.hpp"
#include "app/config_reload.hpp"
#include "app/http_endpoints.hpp"
#include "cluster/cluster_bus.hpp"
#include "services/service_endpoints.hpp"
#include "app/loop_context.hpp"
#include "app/server_tls.hpp"
#include "config/options.hpp"
#include "config/route_path.hpp"
#include "db/worker_pool.hpp"
#include "net/signals.hpp"
#include "util/log.hpp"
#include "util/path.hpp"

namespace capstan {

namespace {

// register_component's short form: a component with no keys of its own.
class PlainComponentType final : public ComponentType {
 public:
  explicit PlainComponentType(ComponentFactory factory) : factory_(std::move(factory)) {}
  Expected<ComponentFactory> for_route(const RouteConfig&) override { return factory_; }

 private:
  ComponentFactory factory_;
};

}  // namespace

struct Server::Impl {
  Config config;
  ComponentTypes types;  // by config name; reload() loads the file against them
  std::vector<app::RouteSpec> code_routes;  // from route(), in order
  std::vector<Endpoint> code_endpoints;     // from handle(), in order
  std::unique_ptr<db::WorkerPool> workers;  // users.provider's queries and components' blocking work
  std::unique_ptr<app::AuthService> auth;
  std::unique_ptr<cluster::ClusterBus> cluster;  // [cluster] redis: the other nodes
  app::ServerShared shared;
  std::vector<std::unique_ptr<app::LoopContext>> loops;
  std::atomic<bool> running{false};
  std::atomic<uint16_t> port{0};
  std::atomic<bool> stop_requested{false};
  std::function<Status(const ServerInfo&)> on_listening;

  Config reloaded;  // the configuration a SIGHUP compares with (loop 0's thread only)

  Status resolve_routes(std::vector<app::RouteSpec>& out);
  Status resolve_endpoints(const std::vector<app::RouteSpec>& routes);
  Status start_services();
  void reload();
  Status bind_all();
  Status bind_each(const std::vector<std::string>& addresses, bool tls);
};

Server::Server(Config config) : Server(std::move(config), builtin_component_types()) {}

Server::Server(Config config, ComponentTypes types) : impl_(std::make_unique<Impl>()) {
  impl_->config = std::move(config);
  impl_->shared.config = &impl_->config;
  impl_->types = std::move(types);
}

Server::~Server() = default;

void Server::route(std::string path, ComponentFactory factory, RouteOptions options) {
  impl_->code_routes.push_back({std::move(path), "", std::move(factory), std::move(options.protocols), options.auth});
}

void Server::handle(std::string path, HttpHandlerFactory factory, EndpointOptions options) {
  impl_->code_endpoints.push_back({std::move(path), std::move(factory), std::move(options)});
}

void Server::register_component(std::string name, ComponentFactory factory) {
  register_component_type(std::move(name), std::make_shared<PlainComponentType>(std::move(factory)));
}

void Server::register_component_type(std::string name, std::shared_ptr<ComponentType> type) {
  impl_->types[std::move(name)] = std::move(type);
}

ComponentType* Server::component_type(std::string_view name) const noexcept {
  auto it = impl_->types.find(name);
  return it == impl_->types.end() ? nullptr : it->second.get();
}

Status Server::Impl::resolve_routes(std::vector<app::RouteSpec>& out) {
  const std::string& prefix = config.server.prefix;
  auto add = [&](app::RouteSpec spec) -> Status {
    spec.path = config::route_path(prefix, spec.path, spec.component_name);
    for (const auto& existing : out)
      if (existing.path == spec.path) return Error(ConfigError::invalid, "two routes on path " + spec.path);
    out.push_back(std::move(spec));
    return {};
  };
  // Every component the config names is made through its type, the built-in ones too.
  for (const RouteConfig& rc : config.routes) {
    auto it = types.find(rc.component);
    if (it == types.end())
      return Error(ConfigError::not_a_choice, "unknown component '" + rc.component + "' on route " + rc.path);
    ComponentType& type = *it->second;
    Expected<ComponentFactory> factory = type.for_route(rc);
    if (!factory || !*factory) {
      const std::string route = "route " + config::route_path("", rc.path, rc.component) + ": ";
      if (factory) return Error(ConfigError::invalid, route + "its type made no component");
      return factory.error().prefixed(route);
    }
    const bool auth = rc.auth == -1 ? type.authenticates_by_default() : rc.auth == 1;
    if (Status added = add({rc.path, rc.component, *std::move(factory), rc.protocols, auth}); !added) return added;
  }
  for (const auto& [name, type] : types)
    for (ComponentType::ExtraRoute& extra : type->extra_routes())
      if (Status added = add({std::move(extra.path), name, std::move(extra.factory), {}, extra.auth}); !added) return added;
  for (auto& spec : code_routes)
    if (Status added = add(spec); !added) return added;
  if (out.empty()) return Error(ConfigError::missing, "no routes configured");
  return {};
}

// The server's own endpoints, the services the configuration turns on (the publish API, the
// Mercure hub), then the program's.
Status Server::Impl::resolve_endpoints(const std::vector<app::RouteSpec>& routes) {
  std::vector<Endpoint>& out = shared.endpoints;
  out = app::server_endpoints();
  Expected<std::vector<Endpoint>> services = services::endpoints_for(config);
  if (!services) return std::move(services).error();
  for (Endpoint& e : *services) out.push_back(std::move(e));
  for (const Endpoint& e : code_endpoints) out.push_back(e);
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].path.empty() || out[i].path[0] != '/' || !out[i].factory)
      return Error(ConfigError::invalid, "endpoint '" + out[i].path + "': a path starting with / and a handler");
    for (size_t j = 0; j < i; ++j)
      if (out[j].path == out[i].path) return Error(ConfigError::invalid, "two endpoints on path " + out[i].path);
    for (const app::RouteSpec& r : routes)
      if (r.path == out[i].path) return Error(ConfigError::invalid, "endpoint " + out[i].path + " is a route's path");
  }
  return {};
}

Status Server::Impl::bind_all() {
  if (Status plain = bind_each(config.server.listen, false); !plain) return plain;
  return bind_each(config.server.tls.listen, true);
}

Status Server::Impl::bind_each(const std::vector<std::string>& addresses, bool tls) {
  for (const std::string& text : addresses) {
    auto address = net::parse_listen_address(text);
    if (!address) return address.error().prefixed(tls ? "server.tls.listen: " : "server.listen: ");
    if (net::address_in_use(*address))
      return Error(std::make_error_code(std::errc::address_in_use), "cannot listen on " + text + ": address already in use");
    for (size_t i = 0; i < loops.size(); ++i) {
      if (Status listening = loops[i]->listen(*address, tls); !listening) return listening;
      if (i == 0) {
        // Port 0: every loop must share the port the kernel picked for the first.
        uint16_t port = loops[0]->last_port();  // this address's: each asked for port 0 gets its own
        auto* sa = reinterpret_cast<sockaddr*>(&address->storage);
        if (sa->sa_family == AF_INET) reinterpret_cast<sockaddr_in*>(sa)->sin_port = htons(port);
        else reinterpret_cast<sockaddr_in6*>(sa)->sin6_port = htons(port);
        if (this->port == 0) this->port = port;
        shared.status.listening.push_back(net::CompactAddress::from(sa).to_string());  // port 0 resolved
        if (tls) shared.status.listening_tls.push_back(shared.status.listening.back());
        std::string shown = text.substr(0, text.rfind(':') + 1) + std::to_string(port);
        log::info("listening", {{"address", shown}, {"loops", std::to_string(loops.size())}, {"tls", tls ? "yes" : "no"}});
      }
    }
  }
  return {};
}

Status Server::run() {
  Impl& s = *impl_;
  // Before any thread exists (the worker pool's too), so only the signalfd sees signals.
  net::block_signals({SIGINT, SIGTERM, SIGHUP});
  std::signal(SIGPIPE, SIG_IGN);
  // Here, not only in the CLI: a program embedding the server gets its configured format and
  // level too, for the server's lines and its components' (capstan/log.hpp).
  log::configure(s.config.server.log_format, s.config.server.log_level);
  std::vector<app::RouteSpec> routes;
  if (Status resolved = s.resolve_routes(routes); !resolved) return resolved;
  if (Status resolved = s.resolve_endpoints(routes); !resolved) return resolved;
  s.shared.ip_limiter = std::make_unique<app::IpLimiter>(s.config.limits.connections_per_ip,
                                                         s.config.limits.connection_rate_per_ip);
  // Checked here too: a program may build its Config without the loader.
  for (const std::string& proxy : s.config.server.trusted_proxies)
    if (!s.shared.trusted_proxies.add(proxy))
      return Error(ConfigError::invalid, "server.trusted_proxies: \"" + proxy + "\" is not an address or CIDR block");
  const std::string& dir = s.config.server.static_dir;
  s.shared.static_root = util::resolve_path(dir, s.config.base_dir);
  while (s.shared.static_root.size() > 1 && s.shared.static_root.back() == '/') s.shared.static_root.pop_back();
  if (!s.config.server.tls.listen.empty()) {
    auto contexts = app::load_tls(s.config);
    if (!contexts) return std::move(contexts).error();
    s.shared.tls = std::make_unique<net::tls::TlsStore>(*std::move(contexts));
  }
  const bool authenticates = std::any_of(routes.begin(), routes.end(), [](const app::RouteSpec& r) { return r.auth; });
  if (Status started = s.start_services(); !started) return started;
  const bool has_users = s.config.users.provider != UserProvider::none;
  if (authenticates || has_users) {
    Expected<std::unique_ptr<app::AuthService>> service = app::AuthService::create(s.config, authenticates, *s.shared.backend);
    if (!service) return std::move(service).error();
    s.auth = *std::move(service);
    s.shared.auth = s.auth.get();
    if (has_users) s.shared.users = s.auth.get();
  }

  if (!s.config.cluster.redis.empty()) {
    if (Status url = RedisClient::check_url(s.config.cluster.redis); !url) return url.error().prefixed("cluster.redis: ");
    s.cluster = std::make_unique<cluster::ClusterBus>(s.config.cluster.redis, s.config.cluster.channel);
    s.shared.cluster = s.cluster.get();
    s.shared.topics.relay = s.cluster.get();
  }

  unsigned threads = s.config.server.threads ? s.config.server.threads : std::thread::hardware_concurrency();
  if (threads == 0) threads = 1;
  try {
    for (unsigned i = 0; i < threads; ++i) s.loops.push_back(std::make_unique<app::LoopContext>(i, s.shared, routes));
  } catch (const std::system_error& e) {
    s.loops.clear();
    return Error(e.code(), e.what());
  } catch (const std::exception& e) {  // a component's constructor or on_start
    s.loops.clear();
    return Error(std::make_error_code(std::errc::state_not_recoverable), e.what());
  }
  Status bound = s.bind_all();
  ServerInfo info;
  info.listen = s.shared.status.listening;
  info.listen_tls = s.shared.status.listening_tls;
  for (const auto& r : routes) info.routes.push_back({r.path, r.component_name.empty() ? "c++" : r.component_name});
  if (bound && s.on_listening) bound = s.on_listening(info);
  if (!bound) {
    s.loops.clear();
    return bound;
  }
  for (const auto& l : s.loops) s.shared.status.loops.push_back(l.get());
  for (const auto& r : info.routes) s.shared.status.route_components.push_back(r.component);
  s.shared.status.started_unix = static_cast<int64_t>(::time(nullptr));
  s.shared.status.started = std::chrono::steady_clock::now();
  for (const auto& r : info.routes) log::info("route", {{"path", r.path}, {"component", r.component}});

  s.reloaded = s.config;
  auto signals = std::make_unique<net::SignalWatcher>(s.loops[0]->loop(), std::initializer_list<int>{SIGINT, SIGTERM, SIGHUP}, [this](int sig) {
    if (sig == SIGHUP) return impl_->reload();
    log::info("stopping", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    stop();
  });
  if (s.cluster) {
    app::LoopContext* home = s.loops[0].get();
    s.cluster->attach(home->loop(), s.shared.topics);
    cluster::ClusterBus* bus = s.cluster.get();
    home->loop().post_task([bus] { bus->start(); });
  }
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < threads; ++i) workers.emplace_back([&s, i] { s.loops[i]->loop().run(); });
  s.running = true;
  if (s.stop_requested) stop();  // stop() raced with start-up
  s.loops[0]->loop().run();
  for (auto& t : workers) t.join();
  s.running = false;
  if (s.cluster) s.cluster->stop();  // its links watch descriptors on loop 0: gone before it
  signals.reset();  // it is registered with loop 0: gone before the loop is
  // Jobs still queued run and post their results to loops that still exist (and never run).
  s.shared.workers = nullptr;
  s.workers.reset();
  s.shared.users = nullptr;
  s.shared.auth = nullptr;
  s.auth.reset();
  s.shared.status.loops.clear();
  s.loops.clear();
  s.shared.cluster = nullptr;
  s.shared.topics.relay = nullptr;
  s.cluster.reset();
  log::info("stopped");
  return {};
}

// The worker pool, a server-level service: user lookups, sql actions and any component's
// offloaded work run there, each worker with its own connection to the user database (none
// with users.provider "none": the pool then serves blocking work alone).
Status Server::Impl::start_services() {
  shared.backend = std::make_unique<Backend>(config.backend);
  const UsersConfig& users = config.users;
  if (users.provider == UserProvider::none) {  // blocking work of components still has its threads
    workers = std::make_unique<db::WorkerPool>(users.workers, db::WorkerPool::Opener{});
    shared.workers = workers.get();
    return {};
  }
  const std::string provider(config::choice_name(config::kUserProviders, users.provider));
  const std::string target = users.provider == UserProvider::sqlite ? util::resolve_path(users.database, config.base_dir) : users.database;
  // One connection now, so a wrong path or connection string stops the start.
  if (auto opened = db::open_database(provider, target); !opened) return std::move(opened).error();
  workers = std::make_unique<db::WorkerPool>(users.workers, [provider, target] { return db::open_database(provider, target); });
  shared.workers = workers.get();
  return {};
}

// SIGHUP, on loop 0: reads the file again and applies what can change under running
// connections; says in the log what was applied and what needs a restart.
void Server::Impl::reload() {
  if (config.source_path.empty()) {
    log::warn("reload: no configuration file to read again");
    return;
  }
  LoadedConfig loaded = load_config_file(config.source_path, types);
  if (!loaded.ok()) {
    for (const ConfigFault& e : loaded.errors)
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
    shared.ip_limiter->configure(next.limits.connections_per_ip, next.limits.connection_rate_per_ip, loops[0]->loop().now_ms());  // reload runs on loop 0
    reloaded.limits = next.limits;
    note("limits");
  }
  if (plan.auth && auth && auth->verifies()) {
    if (Status loaded = auth->reload_keys(next.auth, next.base_dir)) {
      reloaded.auth = next.auth;
      note("auth keys");
    } else {
      log::error("reload: the new keys were refused, the old ones stay", {{"reason", loaded.error().message()}});
    }
  }
  if (shared.tls) {
    // Always: a renewed certificate has the same path. New handshakes use it; connections keep theirs.
    if (auto contexts = app::load_tls(next)) {
      shared.tls->replace(*std::move(contexts));
      std::vector<std::string> listening = std::move(reloaded.server.tls.listen);  // sockets stay as they are
      reloaded.server.tls = next.server.tls;
      reloaded.server.tls.listen = std::move(listening);
      note("tls certificates");
    } else {
      log::error("reload: the TLS certificates were refused, the old ones stay", {{"reason", contexts.error().message()}});
    }
  }
  if (plan.log) {
    log::configure(next.server.log_format, next.server.log_level);
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

void Server::on_listening(std::function<Status(const ServerInfo&)> hook) {
  impl_->on_listening = std::move(hook);
}

#ifndef CAPSTAN_VERSION
#define CAPSTAN_VERSION "0.0.0"
#endif
std::string_view Server::version() noexcept { return CAPSTAN_VERSION; }

bool Server::running() const noexcept { return impl_->running; }
uint16_t Server::port() const noexcept { return impl_->port; }
const Config& Server::config() const noexcept { return impl_->config; }

}  // namespace capstan
