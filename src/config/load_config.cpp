// Reads a TOML file into a Config through the option table. Every fault names its key and
// line; unknown keys are faults, so a typo never silently falls back to a default.
#include <toml++/toml.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "capstan/config.hpp"
#include "config/options.hpp"
#include "auth/jwt.hpp"
#include "net/socket_address.hpp"
#include "ws/frame_encoder.hpp"

namespace capstan {

namespace {

using config::Type;
using config::Value;

int line_of(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

struct Loader {
  LoadedConfig result;

  void error(ConfigError code, std::string key, int line, std::string message) {
    result.errors.push_back({code, std::move(key), line, std::move(message)});
  }

  std::optional<Value> convert(const toml::node& node, Type type, int64_t min, int64_t max, const std::string& key,
                               config::Choices choices = {}) {
    Value v;
    auto bad_type = [&] {
      error(ConfigError::wrong_type, key, line_of(node), "expected " + std::string(config::type_name(type)));
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
          error(ConfigError::wrong_type, key, line_of(node), "expected " + config::list_choices(choices));
          return std::nullopt;
        }
        v.text = *node.value<std::string>();
        auto it = std::find(choices.begin(), choices.end(), std::string_view(v.text));
        if (it == choices.end()) {
          error(ConfigError::not_a_choice, key, line_of(node), "\"" + v.text + "\" is not " + config::list_choices(choices));
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
    }
    return std::nullopt;
  }

  void load_section(const std::string& section, const toml::table& table) {
    for (const auto& [k, node] : table) {
      const std::string key = section + "." + std::string(k.str());
      const config::ServerOption* found = nullptr;
      for (const auto& opt : config::server_options())
        if (opt.section == section && opt.key == k.str()) found = &opt;
      if (!found) {
        error(ConfigError::unknown_key, key, static_cast<int>(k.source().begin.line), "unknown key");
        continue;
      }
      if (auto v = convert(node, found->type, found->min, found->max, key, found->choices)) found->apply(result.config, *v);
    }
  }

  void load_routes(const toml::node& node) {
    const toml::array* arr = node.as_array();
    if (arr && arr->empty()) return;  // `routes = []`: routes come from C++ alone
    if (!arr || !arr->is_array_of_tables()) {
      error(ConfigError::wrong_type, "routes", line_of(node), "expected [[routes]] tables");
      return;
    }
    size_t index = 0;
    for (const toml::node& item : *arr) {
      const std::string base = "routes[" + std::to_string(index++) + "]";
      RouteConfig route;
      for (const auto& [k, value] : *item.as_table()) {
        const std::string key = base + "." + std::string(k.str());
        if (k.str() == "actions") {
          load_actions(value, key, route);
          continue;
        }
        const config::RouteOption* found = nullptr;
        for (const auto& opt : config::route_options())
          if (opt.key == k.str()) found = &opt;
        if (!found) {
          error(ConfigError::unknown_key, key, static_cast<int>(k.source().begin.line), "unknown key");
          continue;
        }
        if (auto v = convert(value, found->type, 0, INT64_MAX, key, found->choices)) found->apply(route, *v);
      }
      if (route.component.empty()) error(ConfigError::missing, base + ".component", line_of(item), "missing: every route names its component");
      if (!route.path.empty() && route.path.front() != '/') {
        const toml::node* path = item.as_table()->get("path");
        error(ConfigError::invalid, base + ".path", line_of(*path), "must start with '/'");
      }
      const size_t star = route.path.find('*');
      if (star != std::string::npos && (star + 1 != route.path.size() || !route.path.ends_with("/*"))) {
        const toml::node* path = item.as_table()->get("path");
        error(ConfigError::invalid, base + ".path", line_of(*path), "'*' only ends a path, as \"/*\" (the whole subtree)");
      }
      if (!ws::is_valid_close_code(route.fatal_close_code)) {
        const toml::node* code = item.as_table()->get("fatal_close_code");
        error(ConfigError::invalid, base + ".fatal_close_code", code ? line_of(*code) : line_of(item),
              "must be a close code that may be sent: 1000-1003, 1007-1014 or 3000-4999");
      }
      result.config.routes.push_back(std::move(route));
    }
  }

  void load_actions(const toml::node& node, const std::string& base, RouteConfig& route) {
    const toml::array* arr = node.as_array();
    if (!arr || !arr->is_array_of_tables()) {
      error(ConfigError::wrong_type, base, line_of(node), "expected [[routes.actions]] tables");
      return;
    }
    size_t index = 0;
    for (const toml::node& item : *arr) {
      const std::string at = base + "[" + std::to_string(index++) + "]";
      ActionConfig action;
      for (const auto& [k, value] : *item.as_table()) {
        const std::string key = at + "." + std::string(k.str());
        const config::ActionOption* found = nullptr;
        for (const auto& opt : config::action_options())
          if (opt.key == k.str()) found = &opt;
        if (!found) {
          error(ConfigError::unknown_key, key, static_cast<int>(k.source().begin.line), "unknown key");
          continue;
        }
        if (auto v = convert(value, found->type, 0, INT64_MAX, key, found->choices)) found->apply(action, *v);
      }
      if (!item.as_table()->contains("kind"))
        error(ConfigError::missing, at + ".kind", line_of(item), "missing: " + config::list_choices(config::kActionKinds));
      check_action(action, at, line_of(item));
      route.actions.push_back(std::move(action));
    }
  }

  void check_action(const ActionConfig& a, const std::string& at, int line) {
    if (a.name.empty()) error(ConfigError::missing, at + ".name", line, "missing: every action has a name");
    if (a.kind == ActionKind::sql && a.query.empty()) error(ConfigError::missing, at + ".query", line, "missing: an sql action needs a query");
    if (a.kind != ActionKind::sql && !a.query.empty()) error(ConfigError::invalid, at + ".query", line, "only sql actions have a query");
  }

  void check_whole(const toml::table& root) {
    Config& c = result.config;
    auto line_at = [&](std::string_view section, std::string_view key) {
      const toml::node* n = root.at_path(std::string(section) + "." + std::string(key)).node();
      return n ? line_of(*n) : 0;
    };
    for (const std::string& address : c.server.listen) {
      if (auto parsed = net::parse_listen_address(address); !parsed)
        error(ConfigError::invalid, "server.listen", line_at("server", "listen"), parsed.error().message());
    }
    if (c.server.listen.empty()) error(ConfigError::missing, "server.listen", line_at("server", "listen"), "needs at least one address");
    // The message bucket counts in microseconds in 32 bits: its depth must stay under ~35 minutes.
    if (c.limits.messages_per_second &&
        uint64_t{c.limits.message_burst} * (1'000'000 / c.limits.messages_per_second) >= (1ULL << 31))
      error(ConfigError::out_of_range, "limits.message_burst", line_at("limits", "message_burst"),
            "too deep for messages_per_second: burst / rate must stay under 2000 seconds");
    for (const std::string& alg : c.auth.algorithms)  // the one list: auth's algorithm table
      if (!auth::is_supported_algorithm(alg))
        error(ConfigError::not_a_choice, "auth.algorithms", line_at("auth", "algorithms"), "unsupported algorithm \"" + alg + "\"");
    if (c.auth.algorithms.empty()) error(ConfigError::missing, "auth.algorithms", line_at("auth", "algorithms"), "needs at least one algorithm");
    for (const std::string& source : c.auth.sources) {
      const bool named = source.starts_with("query:") || source.starts_with("header:") || source.starts_with("cookie:");
      if (!(source == "protocol" || (named && source.find(':') + 1 < source.size())))
        error(ConfigError::invalid, "auth.sources", line_at("auth", "sources"),
              "\"" + source + "\" is not query:NAME, header:NAME, cookie:NAME or protocol");
    }
    if (c.users.provider != UserProvider::none && c.users.database.empty())
      error(ConfigError::missing, "users.database", line_at("users", "database"),
            "needed by provider \"" + std::string(config::choice_name(config::kUserProviders, c.users.provider)) + "\"");
    if (const auto* recheck = root.at_path("users.recheck").node(); recheck && recheck->is_string()) {
      if (!config::parse_recheck(*recheck->value<std::string>()))
        error(ConfigError::invalid, "users.recheck", line_of(*recheck), "must be \"never\", \"message\" or a duration of 1s or more");
    }
    for (size_t r = 0; r < c.routes.size(); ++r)
      for (size_t a = 0; a < c.routes[r].actions.size(); ++a)
        if (c.routes[r].actions[a].kind == ActionKind::sql && c.users.provider == UserProvider::none)
          error(ConfigError::invalid, "routes[" + std::to_string(r) + "].actions[" + std::to_string(a) + "].kind", 0,
                "sql actions run against the user database: set users.provider and users.database");
    const std::string& prefix = c.server.prefix;
    if (!prefix.empty() && (prefix.front() != '/' || prefix.back() == '/'))
      error(ConfigError::invalid, "server.prefix", line_at("server", "prefix"), "must start with '/' and not end with '/'");
  }
};

LoadedConfig load(const toml::table& root) {
  Loader loader;
  for (const auto& [k, node] : root) {
    const std::string name(k.str());
    if ((name == "server" || name == "limits" || name == "compression" || name == "auth" || name == "users") &&
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
  try {
    return load(toml::parse(text, source_name));
  } catch (const toml::parse_error& e) {
    return parse_error(e);
  }
}

LoadedConfig load_config_file(const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0) {
    LoadedConfig out;
    out.errors.push_back({ConfigError::unreadable, "", 0, Error::from_errno(errno, "cannot read " + path).message()});
    return out;
  }
  try {
    LoadedConfig loaded = load(toml::parse_file(path));
    const size_t slash = path.rfind('/');
    loaded.config.base_dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
    loaded.config.source_path = path;
    return loaded;
  } catch (const toml::parse_error& e) {
    return parse_error(e);
  }
}

}  // namespace capstan
