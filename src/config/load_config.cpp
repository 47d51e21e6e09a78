// Reads a TOML file into a Config through the option table and the component types' key
// declarations. Every fault names its key and line; unknown keys are faults, so a typo never
// silently falls back to a default. The routes' part is in load_routes.cpp.
#include <toml++/toml.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "auth/jwt.hpp"
#include "capstan/component_type.hpp"
#include "capstan/config.hpp"
#include "cluster/redis_address.hpp"
#include "config/loader.hpp"
#include "config/options.hpp"
#include "net/address_set.hpp"
#include "net/socket_address.hpp"

namespace capstan::config {

void Loader::error(ConfigError code, std::string key, int line, std::string message) {
  result.errors.push_back({code, std::move(key), line, std::move(message)});
}

std::optional<Value> Loader::convert(const toml::node& node, Type type, int64_t min, int64_t max, const std::string& key,
                                     Choices choices) {
  Value v;
  auto bad_type = [&] {
    error(ConfigError::wrong_type, key, line_of(node), "expected " + std::string(type_name(type)));
    return std::nullopt;
  };
  auto out_of_range = [&](const std::string& shown) {
    error(ConfigError::out_of_range, key, line_of(node), shown + " is out of range");
    return std::nullopt;
  };
  switch (type) {
    case Type::string:
      if (!node.is_string()) return bad_type();
      v.text = *node.value<std::string>();
      return v;
    case Type::choice: {
      if (!node.is_string()) {
        error(ConfigError::wrong_type, key, line_of(node), "expected " + list_choices(choices));
        return std::nullopt;
      }
      v.text = *node.value<std::string>();
      auto it = std::find(choices.begin(), choices.end(), std::string_view(v.text));
      if (it == choices.end()) {
        error(ConfigError::not_a_choice, key, line_of(node), "\"" + v.text + "\" is not " + list_choices(choices));
        return std::nullopt;
      }
      v.integer = it - choices.begin();
      return v;
    }
    case Type::string_or_list:
      if (node.is_string()) {
        v.list = {*node.value<std::string>()};
        return v;
      }
      [[fallthrough]];
    case Type::string_list: {
      const toml::array* arr = node.as_array();
      if (!arr) return bad_type();
      for (const toml::node& item : *arr) {
        if (!item.is_string()) return bad_type();
        v.list.push_back(*item.value<std::string>());
      }
      return v;
    }
    case Type::integer:
      if (!node.is_integer()) return bad_type();
      v.integer = *node.value<int64_t>();
      if (v.integer < min || v.integer > max) return out_of_range(std::to_string(v.integer));
      return v;
    case Type::boolean:
      if (!node.is_boolean()) return bad_type();
      v.boolean = *node.value<bool>();
      return v;
    case Type::duration: {
      if (!node.is_string() || !parse_duration(*node.value<std::string>(), v.duration)) return bad_type();
      if (v.duration.count() < min || v.duration.count() > max) return out_of_range(*node.value<std::string>());
      return v;
    }
    case Type::size: {
      if (node.is_integer() && *node.value<int64_t>() >= 0) v.size = static_cast<uint64_t>(*node.value<int64_t>());
      else if (!node.is_string() || !parse_size(*node.value<std::string>(), v.size)) return bad_type();
      if (v.size < static_cast<uint64_t>(min) || v.size > static_cast<uint64_t>(max))
        return out_of_range(node.is_string() ? *node.value<std::string>() : std::to_string(v.size));
      return v;
    }
    case Type::tables: break;  // a component's key only: Loader::load_tables
  }
  return std::nullopt;
}

namespace {

bool has_section(std::string_view name) {
  for (const auto& opt : server_options())
    if (opt.section == name) return true;
  return false;
}

}  // namespace

void Loader::load_section(const std::string& section, const toml::table& table) {
  for (const auto& [k, node] : table) {
    const std::string key = section + "." + std::string(k.str());
    const ServerOption* found = nullptr;
    for (const auto& opt : server_options())
      if (opt.section == section && opt.key == k.str()) found = &opt;
    if (!found && node.is_table() && has_section(key)) {  // [auth.proxy]: a section within one
      load_section(key, *node.as_table());
      continue;
    }
    if (!found) {
      error(ConfigError::unknown_key, key, static_cast<int>(k.source().begin.line), "unknown key");
      continue;
    }
    if (auto v = convert(node, found->type, found->min, found->max, key, found->choices)) found->apply(result.config, *v);
  }
}

void Loader::check_whole(const toml::table& root) {
  Config& c = result.config;
  auto line_at = [&](std::string_view section, std::string_view key) {
    const toml::node* n = root.at_path(std::string(section) + "." + std::string(key)).node();
    return n ? line_of(*n) : 0;
  };
  for (const std::string& address : c.server.listen) {
    if (auto parsed = net::parse_listen_address(address); !parsed)
      error(ConfigError::invalid, "server.listen", line_at("server", "listen"), parsed.error().message());
  }
  for (const std::string& proxy : c.server.trusted_proxies)
    if (net::AddressSet probe; !probe.add(proxy))
      error(ConfigError::invalid, "server.trusted_proxies", line_at("server", "trusted_proxies"),
            "\"" + proxy + "\" is not an IPv4 or IPv6 address or CIDR block (\"10.0.0.0/8\")");
  if (c.server.proxy_protocol && c.server.trusted_proxies.empty())
    error(ConfigError::missing, "server.trusted_proxies", line_at("server", "proxy_protocol"),
          "proxy_protocol needs the proxies' addresses: a PROXY header is read only from them");
  for (const std::string& address : c.server.tls.listen) {
    if (auto parsed = net::parse_listen_address(address); !parsed)
      error(ConfigError::invalid, "server.tls.listen", line_at("server", "tls.listen"), parsed.error().message());
  }
  if (c.server.listen.empty() && c.server.tls.listen.empty())
    error(ConfigError::missing, "server.listen", line_at("server", "listen"), "needs at least one address (or server.tls.listen)");
  const TlsConfig& tls = c.server.tls;
  if (!tls.listen.empty() && tls.cert.empty())
    error(ConfigError::missing, "server.tls.cert", line_at("server", "tls.listen"), "TLS listeners need a certificate and its key");
  if (tls.cert.size() != tls.key.size())
    error(ConfigError::invalid, "server.tls.key", line_at("server", "tls.key"), "one key per certificate, in the same order");
  if (!tls.cert.empty() && tls.listen.empty())
    error(ConfigError::missing, "server.tls.listen", line_at("server", "tls.cert"), "a certificate, but no address to serve TLS on");
  // The message bucket counts in microseconds in 32 bits: its depth must stay under ~35 minutes.
  if (c.limits.messages_per_second &&
      uint64_t{c.limits.message_burst} * (1'000'000 / c.limits.messages_per_second) >= (1ULL << 31))
    error(ConfigError::out_of_range, "limits.message_burst", line_at("limits", "message_burst"),
          "too deep for messages_per_second: burst / rate must stay under 2000 seconds");
  for (const std::string& alg : c.auth.algorithms)  // the one list: auth's algorithm table
    if (!auth::is_supported_algorithm(alg))
      error(ConfigError::not_a_choice, "auth.algorithms", line_at("auth", "algorithms"), "unsupported algorithm \"" + alg + "\"");
  if (cluster::RedisAddress redis; !c.cluster.redis.empty() && !cluster::parse_redis_url(c.cluster.redis, redis))
    error(ConfigError::invalid, "cluster.redis", line_at("cluster", "redis"), "expected \"redis://HOST:PORT\"");
  const std::string_view proxy_url = c.auth.proxy.url;
  if (!proxy_url.empty() && !proxy_url.starts_with("http://") && !proxy_url.starts_with("https://"))
    error(ConfigError::invalid, "auth.proxy.url", line_at("auth", "proxy.url"), "an http:// or https:// URL");
  if (!c.mercure.path.empty() && c.mercure.path[0] != '/')
    error(ConfigError::invalid, "mercure.path", line_at("mercure", "path"), "a path starting with /");
  if (!auth::is_supported_algorithm(c.mercure.publisher_jwt_alg))
    error(ConfigError::not_a_choice, "mercure.publisher_jwt_alg", line_at("mercure", "publisher_jwt_alg"),
          "unsupported algorithm \"" + c.mercure.publisher_jwt_alg + "\"");
  if (c.auth.identity_claim.empty())
    error(ConfigError::missing, "auth.identity_claim", line_at("auth", "identity_claim"), "needs the claim naming the user");
  if (c.auth.algorithms.empty()) error(ConfigError::missing, "auth.algorithms", line_at("auth", "algorithms"), "needs at least one algorithm");
  for (const std::string& source : c.auth.sources) {
    const bool named = source.starts_with("query:") || source.starts_with("header:") || source.starts_with("cookie:");
    if (!(source == "protocol" || (named && source.find(':') + 1 < source.size())))
      error(ConfigError::invalid, "auth.sources", line_at("auth", "sources"),
            "\"" + source + "\" is not query:NAME, header:NAME, cookie:NAME or protocol");
  }
  if (c.users.provider != UserProvider::none && c.users.database.empty())
    error(ConfigError::missing, "users.database", line_at("users", "database"),
          "needed by provider \"" + std::string(choice_name(kUserProviders, c.users.provider)) + "\"");
  if (const auto* recheck = root.at_path("users.recheck").node(); recheck && recheck->is_string()) {
    if (!parse_recheck(*recheck->value<std::string>()))
      error(ConfigError::invalid, "users.recheck", line_of(*recheck), "must be \"never\", \"message\" or a duration of 1s or more");
  }
  // A type's own rules, once its keys have their declared types (a route whose keys already
  // have a fault would only get follow-on faults), and after every section is loaded.
  for (size_t r = 0; r < c.routes.size(); ++r) {
    auto type = types.find(c.routes[r].component);
    if (type == types.end() || !keys_loaded[r]) continue;
    for (ConfigFault& f : type->second->check_keys(c.routes[r].keys, c)) {
      f.key = "routes[" + std::to_string(r) + "]." + f.key;
      result.errors.push_back(std::move(f));
    }
  }
  const std::string& prefix = c.server.prefix;
  if (!prefix.empty() && (prefix.front() != '/' || prefix.back() == '/'))
    error(ConfigError::invalid, "server.prefix", line_at("server", "prefix"), "must start with '/' and not end with '/'");
}

}  // namespace capstan::config

namespace capstan {

namespace {

using config::Loader;

LoadedConfig load(const toml::table& root, const ComponentTypes& types) {
  Loader loader{types, {}, {}};
  for (const auto& [k, node] : root) {
    const std::string name(k.str());
    if ((name == "server" || name == "limits" || name == "compression" || name == "auth" || name == "users" ||
         name == "publish" || name == "mercure" || name == "cluster" || name == "backend") &&
        node.is_table()) {
      loader.load_section(name, *node.as_table());
    } else if (name == "routes") {
      loader.load_routes(node);
    } else {
      loader.error(ConfigError::unknown_key, name, static_cast<int>(k.source().begin.line), "unknown key");
    }
  }
  loader.check_whole(root);
  return std::move(loader.result);
}

LoadedConfig parse_error(const toml::parse_error& e) {
  LoadedConfig out;
  out.errors.push_back({ConfigError::syntax, "", static_cast<int>(e.source().begin.line), std::string(e.description())});
  return out;
}

}  // namespace

LoadedConfig load_config_string(std::string_view text, std::string_view source_name) {
  return load_config_string(text, builtin_component_types(), source_name);
}

LoadedConfig load_config_string(std::string_view text, const ComponentTypes& types, std::string_view source_name) {
  try {
    return load(toml::parse(text, source_name), types);
  } catch (const toml::parse_error& e) {
    return parse_error(e);
  }
}

LoadedConfig load_config_file(const std::string& path) { return load_config_file(path, builtin_component_types()); }

LoadedConfig load_config_file(const std::string& path, const ComponentTypes& types) {
  if (::access(path.c_str(), R_OK) != 0) {
    LoadedConfig out;
    out.errors.push_back({ConfigError::unreadable, "", 0, Error::from_errno(errno, "cannot read " + path).message()});
    return out;
  }
  try {
    LoadedConfig loaded = load(toml::parse_file(path), types);
    const size_t slash = path.rfind('/');
    loaded.config.base_dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
    loaded.config.source_path = path;
    return loaded;
  } catch (const toml::parse_error& e) {
    return parse_error(e);
  }
}

}  // namespace capstan
