#include "cli/routes_command.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "capstan/config.hpp"
#include "capstan/component_type.hpp"
#include "cli/config_file.hpp"
#include "config/route_path.hpp"
#include "util/json_string.hpp"

namespace capstan::cli {

namespace {

struct Options {
  std::string config_path;
  bool json = false;
};

// The route's `auth`, or its component type's default, as the server decides it.
bool route_authenticates(const RouteConfig& r) {
  if (r.auth != -1) return r.auth == 1;
  static const ComponentTypes builtin = builtin_component_types();
  auto type = builtin.find(r.component);
  return type != builtin.end() && type->second->authenticates_by_default();
}

// A route's `[[routes.actions]]` (notify's), read as the loader checked them: `kind` is
// required, `to` defaults to "all".
std::string kind_name(const RouteKeys& action) { return action.text("kind"); }
std::string target_name(const RouteKeys& action) { return action.text("to", "all"); }

std::string describe_actions(const RouteConfig& r) {
  std::string out;
  for (const RouteKeys& a : r.keys.tables("actions")) {
    if (!out.empty()) out += ", ";
    out += a.text("name") + " (" + kind_name(a) + " -> " + target_name(a) + ")";
  }
  return out;
}

void print_json(const Config& config) {
  std::string out = "[";
  for (size_t i = 0; i < config.routes.size(); ++i) {
    const RouteConfig& r = config.routes[i];
    if (i) out += ',';
    out += "{\"path\":";
    util::append_json_string(out, config::route_path(config.server.prefix, r.path, r.component));
    out += ",\"component\":";
    util::append_json_string(out, r.component);
    out += ",\"auth\":";
    out += route_authenticates(r) ? "true" : "false";
    out += ",\"protocols\":[";
    for (size_t p = 0; p < r.protocols.size(); ++p) {
      if (p) out += ',';
      util::append_json_string(out, r.protocols[p]);
    }
    out += "],\"actions\":[";
    const auto actions = r.keys.tables("actions");
    for (size_t a = 0; a < actions.size(); ++a) {
      if (a) out += ',';
      out += "{\"name\":";
      util::append_json_string(out, actions[a].text("name"));
      out += ",\"kind\":";
      util::append_json_string(out, kind_name(actions[a]));
      out += ",\"to\":";
      util::append_json_string(out, target_name(actions[a]));
      out += '}';
    }
    out += "]}";
  }
  out += "]\n";
  std::fputs(out.c_str(), stdout);
}

void print_table(const Config& config) {
  size_t width = 5;
  for (const RouteConfig& r : config.routes)
    width = std::max(width, config::route_path(config.server.prefix, r.path, r.component).size());
  std::printf("%-*s  %-10s %-5s %s\n", static_cast<int>(width), "ROUTE", "COMPONENT", "AUTH", "ACTIONS");
  for (const RouteConfig& r : config.routes) {
    const std::string path = config::route_path(config.server.prefix, r.path, r.component);
    std::printf("%-*s  %-10s %-5s %s\n", static_cast<int>(width), path.c_str(), r.component.c_str(),
                route_authenticates(r) ? "yes" : "no", describe_actions(r).c_str());
  }
}

int run(const Options& o) {
  Config config;
  if (!load_config_or_report(o.config_path, config)) return 2;
  add_default_route(config);
  if (o.json) print_json(config);
  else print_table(config);
  return 0;
}

}  // namespace

void add_default_route(Config& config) {
  if (!config.routes.empty()) return;
  RouteConfig echo;
  echo.path = "/echo";
  echo.component = "echo";
  config.routes.push_back(std::move(echo));
}

std::function<int()> add_routes_command(CLI::App& app) {
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("routes", "list the routes a configuration serves, prefix applied");
  cmd->add_option("-c,--config", options->config_path, "configuration file (TOML)")->check(CLI::ExistingFile);
  cmd->add_flag("--json", options->json, "print JSON");
  return [cmd, options]() { return *cmd ? run(*options) : -1; };
}

}  // namespace capstan::cli
