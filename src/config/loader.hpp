// The loader's state while it reads one file: the faults so far and the component types it
// checks route keys against. Split by part of the file: load_config.cpp (sections, rules
// across sections), load_routes.cpp ([[routes]] and the component keys).
#pragma once

#include <toml++/toml.h>

#include <optional>
#include <string>
#include <vector>

#include "capstan/config.hpp"
#include "config/options.hpp"

namespace capstan::config {

inline int line_of(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

struct Loader {
  const ComponentTypes& types;
  LoadedConfig result;
  // Per route: its component's keys loaded without a fault, so the type's own rules
  // (ComponentType::check_keys) can run on them.
  std::vector<bool> keys_loaded;

  void error(ConfigError code, std::string key, int line, std::string message);
  // `node` as a value of `type`, or nullopt after reporting why not.
  std::optional<Value> convert(const toml::node& node, Type type, int64_t min, int64_t max, const std::string& key,
                               Choices choices = {});
  void load_section(const std::string& section, const toml::table& table);
  void load_routes(const toml::node& node);
  void check_whole(const toml::table& root);

 private:
  std::optional<KeyValue> load_key(const KeyDecl& decl, const toml::node& node, const std::string& key);
  std::optional<KeyValue> load_tables(const KeyDecl& decl, const toml::node& node, const std::string& key);
  // Loads each key of `table` declared in `decls` into `out`; false when any had a fault.
  bool load_keys(const std::vector<KeyDecl>& decls, const toml::table& table, const std::string& base, RouteKeys& out);
  // One key against its declaration in `decls` (unknown, or loaded into `out`); false on a fault.
  bool load_declared(const std::vector<KeyDecl>& decls, const toml::key& k, const toml::node& value,
                     const std::string& key, RouteKeys& out);
};

}  // namespace capstan::config
