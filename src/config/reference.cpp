#include "config/reference.hpp"

#include <string_view>

#include "config/options.hpp"

namespace capstan::config {

namespace {

std::string type_text(Type type, Choices choices) {
  if (type == Type::choice) return list_choices(choices);
  switch (type) {
    case Type::string: return "string";
    case Type::string_list: return "list of strings";
    case Type::string_or_list: return "string or list of strings";
    case Type::integer: return "integer";
    case Type::boolean: return "boolean";
    case Type::duration: return "duration (\"30s\", \"2m\", \"500ms\")";
    case Type::size: return "size (\"1MiB\", \"16KiB\", bytes)";
    case Type::choice: break;
  }
  return "?";
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

std::string bounds(const ServerOption& o) {
  if (o.type != Type::integer || (o.min == 0 && o.max == 0)) return {};
  return " (" + std::to_string(o.min) + " to " + std::to_string(o.max) + ")";
}

}  // namespace

std::string reference_markdown() {
  std::string out =
      "# Configuration reference\n\n"
      "Generated from the option table (`src/config/options.cpp`) by `capstan check --reference`;\n"
      "a unit test fails when this file differs from it. One TOML file; every key has a default;\n"
      "an unknown key, a wrong type, a value out of range or not among the allowed ones is an\n"
      "error that names the key and its line. Relative paths are relative to the file's folder.\n";
  std::string_view section;
  for (const ServerOption& o : server_options()) {
    if (o.section != section) {
      section = o.section;
      out += "\n## [";
      out += section;
      out += "]\n\n| key | type | default | meaning |\n|---|---|---|---|\n";
    }
    out += "| `" + std::string(o.key) + "` | " + cell(type_text(o.type, o.choices)) + cell(bounds(o)) + " | `" +
           cell(o.default_text) + "` | " + cell(o.help) + " |\n";
  }
  out += "\n## [[routes]]\n\nOne table per route.\n\n| key | type | default | meaning |\n|---|---|---|---|\n";
  for (const RouteOption& o : route_options())
    out += "| `" + std::string(o.key) + "` | " + cell(type_text(o.type, o.choices)) + " | `" + cell(o.default_text) +
           "` | " + cell(o.help) + " |\n";
  out += "\n## [[routes.actions]]\n\nActions of a `notify` route (SPEC section 3).\n\n"
         "| key | type | default | meaning |\n|---|---|---|---|\n";
  for (const ActionOption& o : action_options())
    out += "| `" + std::string(o.key) + "` | " + cell(type_text(o.type, o.choices)) + " | `" + cell(o.default_text) +
           "` | " + cell(o.help) + " |\n";
  return out;
}

}  // namespace capstan::config
