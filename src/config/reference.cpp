// The configuration reference, written from the option table and the key declarations of the
// component types: the sections, the keys of every route, then each component's own keys.
#include "config/reference.hpp"

#include <string_view>
#include <vector>

#include "capstan/component_type.hpp"
#include "config/options.hpp"

namespace capstan::config {

namespace {

std::string type_text(Type type) {
  switch (type) {
    case Type::string: return "string";
    case Type::string_list: return "list of strings";
    case Type::string_or_list: return "string or list of strings";
    case Type::integer: return "integer";
    case Type::boolean: return "boolean";
    case Type::duration: return "duration (\"30s\", \"2m\", \"500ms\")";
    case Type::size: return "size (\"1MiB\", \"16KiB\", bytes)";
    case Type::tables: return "array of tables";
    case Type::choice: break;
  }
  return "?";
}

std::string type_text(Type type, Choices choices) { return type == Type::choice ? list_choices(choices) : type_text(type); }

std::string bounds(Type type, int64_t min, int64_t max) {
  if (type != Type::integer || (min == 0 && (max == 0 || max == INT64_MAX))) return {};
  return " (" + std::to_string(min) + " to " + std::to_string(max) + ")";
}

// A table cell: pipes would end it early.
std::string cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}

constexpr std::string_view kTableHead = "| key | type | default | meaning |\n|---|---|---|---|\n";

std::string row(std::string_view key, const std::string& type, std::string_view default_text, std::string_view help) {
  return "| `" + std::string(key) + "` | " + cell(type) + " | `" + cell(default_text) + "` | " + cell(help) + " |\n";
}

// One table of declared keys, then a section per `tables` key among them (nested the same way).
void append_keys(std::string& out, const std::vector<KeyDecl>& keys, const std::string& heading, const std::string& path) {
  out += kTableHead;
  for (const KeyDecl& k : keys) {
    const std::vector<std::string_view> choices(k.choices.begin(), k.choices.end());
    out += row(k.name, type_text(k.type, choices) + bounds(k.type, k.min, k.max), k.default_text, k.help);
  }
  for (const KeyDecl& k : keys) {
    if (k.type != Type::tables) continue;
    const std::string nested = path + "." + k.name;
    out += "\n" + heading + "# [[" + nested + "]]\n\n" + k.help + "\n\n";
    append_keys(out, k.fields, heading + "#", nested);
  }
}

}  // namespace

std::string reference_markdown() { return reference_markdown(builtin_component_types()); }

std::string reference_markdown(const ComponentTypes& types) {
  std::string out =
      "# Configuration reference\n\n"
      "Generated from the option table (`src/config/options.cpp`) and the key declarations of the\n"
      "built-in component types (`ComponentType::keys`) by `capstan check --reference`; a unit test\n"
      "fails when this file differs from it. One TOML file; every key has a default; an unknown key,\n"
      "a wrong type, a value out of range or not among the allowed ones is an error that names the\n"
      "key and its line. Relative paths are relative to the file's folder.\n";
  std::string_view section;
  for (const ServerOption& o : server_options()) {
    if (o.section != section) {
      section = o.section;
      out += "\n## [" + std::string(section) + "]\n\n";
      out += kTableHead;
    }
    out += row(o.key, type_text(o.type, o.choices) + bounds(o.type, o.min, o.max), o.default_text, o.help);
  }
  out += "\n## [[routes]]\n\nOne table per route. These keys are every route's; any other key belongs to the\n"
         "route's component, which declares it (below), and is an unknown key on a route of another.\n\n";
  out += kTableHead;
  for (const RouteOption& o : route_options()) out += row(o.key, type_text(o.type, o.choices), o.default_text, o.help);
  for (const auto& [name, type] : types) {
    out += "\n### component = \"" + name + "\"\n\n";
    const std::vector<KeyDecl> keys = type->keys();
    if (keys.empty()) out += "No keys of its own.\n";
    else append_keys(out, keys, "###", "routes");
  }
  return out;
}

}  // namespace capstan::config
