// [[routes]]: the keys every route has (the option table), then the keys of its component,
// checked against the declarations of its type (ComponentType::keys).
#include <toml++/toml.h>

#include <algorithm>

#include "capstan/component_type.hpp"
#include "config/loader.hpp"

namespace capstan::config {

namespace {

const RouteOption* generic_option(std::string_view key) {
  for (const RouteOption& opt : route_options())
    if (opt.key == key) return &opt;
  return nullptr;
}

const KeyDecl* declared(const std::vector<KeyDecl>& decls, std::string_view key) {
  auto it = std::find_if(decls.begin(), decls.end(), [key](const KeyDecl& d) { return d.name == key; });
  return it == decls.end() ? nullptr : &*it;
}

}  // namespace

void Loader::load_routes(const toml::node& node) {
  const toml::array* arr = node.as_array();
  if (arr && arr->empty()) return;  // `routes = []`: routes come from C++ alone
  if (!arr || !arr->is_array_of_tables()) {
    error(ConfigError::wrong_type, "routes", line_of(node), "expected [[routes]] tables");
    return;
  }
  size_t index = 0;
  for (const toml::node& item : *arr) {
    const std::string base = "routes[" + std::to_string(index++) + "]";
    const toml::table& table = *item.as_table();
    RouteConfig route;
    route.keys.line = line_of(item);
    // The component first, wherever the file puts it: its type declares the other keys.
    const toml::node* component = table.get("component");
    const bool named = component && component->is_string();
    std::vector<KeyDecl> decls;
    if (named) {
      if (auto type = types.find(*component->value<std::string>()); type != types.end()) decls = type->second->keys();
    }
    bool clean = true;
    for (const auto& [k, value] : table) {
      const std::string key = base + "." + std::string(k.str());
      if (const RouteOption* opt = generic_option(k.str())) {
        if (auto v = convert(value, opt->type, 0, INT64_MAX, key, opt->choices)) opt->apply(route, *v);
        continue;
      }
      // Without a component, its keys cannot be told from typos: the missing one is the fault.
      if (named) clean &= load_declared(decls, k, value, key, route.keys);
    }
    if (route.component.empty()) error(ConfigError::missing, base + ".component", line_of(item), "missing: every route names its component");
    if (!route.path.empty() && route.path.front() != '/')
      error(ConfigError::invalid, base + ".path", line_of(*table.get("path")), "must start with '/'");
    const size_t star = route.path.find('*');
    if (star != std::string::npos && (star + 1 != route.path.size() || !route.path.ends_with("/*")))
      error(ConfigError::invalid, base + ".path", line_of(*table.get("path")), "'*' only ends a path, as \"/*\" (the whole subtree)");
    result.config.routes.push_back(std::move(route));
    keys_loaded.push_back(clean);
  }
}

std::optional<KeyValue> Loader::load_key(const KeyDecl& decl, const toml::node& node, const std::string& key) {
  if (decl.type == Type::tables) return load_tables(decl, node, key);
  // The declaration owns its spellings; the converter reads them as views.
  const std::vector<std::string_view> choices(decl.choices.begin(), decl.choices.end());
  std::optional<KeyValue> v = convert(node, decl.type, decl.min, decl.max, key, choices);
  if (v) v->line = line_of(node);
  return v;
}

std::optional<KeyValue> Loader::load_tables(const KeyDecl& decl, const toml::node& node, const std::string& key) {
  const toml::array* arr = node.as_array();
  if (!arr || !arr->is_array_of_tables()) {
    error(ConfigError::wrong_type, key, line_of(node), "expected [[routes." + decl.name + "]] tables");
    return std::nullopt;
  }
  KeyValue out;
  out.line = line_of(node);
  bool clean = true;
  size_t index = 0;
  for (const toml::node& item : *arr) {
    RouteKeys& table = out.tables.emplace_back();
    table.line = line_of(item);
    clean &= load_keys(decl.fields, *item.as_table(), key + "[" + std::to_string(index++) + "]", table);
  }
  if (!clean) return std::nullopt;
  return out;
}

bool Loader::load_keys(const std::vector<KeyDecl>& decls, const toml::table& table, const std::string& base, RouteKeys& out) {
  bool clean = true;
  for (const auto& [k, value] : table) clean &= load_declared(decls, k, value, base + "." + std::string(k.str()), out);
  return clean;
}

bool Loader::load_declared(const std::vector<KeyDecl>& decls, const toml::key& k, const toml::node& value,
                           const std::string& key, RouteKeys& out) {
  const KeyDecl* decl = declared(decls, k.str());
  if (!decl) {
    error(ConfigError::unknown_key, key, static_cast<int>(k.source().begin.line), "unknown key");
    return false;
  }
  std::optional<KeyValue> v = load_key(*decl, value, key);
  if (!v) return false;
  out.set(std::string(k.str()), std::move(*v));
  return true;
}

}  // namespace capstan::config
