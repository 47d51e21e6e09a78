#include "app/config_reload.hpp"

namespace capstan::app {

ReloadPlan plan_reload(const Config& running, const Config& next) {
  ReloadPlan plan;
  plan.limits = !(running.limits == next.limits);
  plan.auth = !(running.auth == next.auth);
  plan.log = running.server.log_format != next.server.log_format || running.server.log_level != next.server.log_level;

  // Everything else is bound at start: sockets, threads, routes and their components, the
  // database connections of the workers, the compression codecs.
  ServerConfig a = running.server, b = next.server;
  a.log_format = b.log_format;
  a.log_level = b.log_level;
  auto changed = [&](bool differs, const char* what) {
    if (differs) plan.needs_restart.emplace_back(what);
  };
  changed(a.listen != b.listen, "server.listen");
  changed(a.tls.listen != b.tls.listen, "server.tls.listen");  // certificates and ciphers are reread on every reload
  changed(a.threads != b.threads, "server.threads");
  changed(a.prefix != b.prefix, "server.prefix");
  changed(a.name != b.name, "server.name");
  changed(a.runtime_dir != b.runtime_dir, "server.runtime_dir");
  changed(a.static_dir != b.static_dir, "server.static_dir");
  changed(a.allowed_origins != b.allowed_origins, "server.allowed_origins");
  changed(a.shutdown_timeout != b.shutdown_timeout, "server.shutdown_timeout");
  changed(a.trusted_proxies != b.trusted_proxies, "server.trusted_proxies");
  changed(a.proxy_protocol != b.proxy_protocol, "server.proxy_protocol");
  changed(!(running.compression == next.compression), "compression");
  changed(!(running.users == next.users), "users");
  changed(!(running.routes == next.routes), "routes");
  changed(!(running.publish == next.publish), "publish");
  changed(!(running.mercure == next.mercure), "mercure");
  changed(!(running.cluster == next.cluster), "cluster");
  return plan;
}

}  // namespace capstan::app
