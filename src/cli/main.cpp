// The `capstan` program: start a server from a TOML file, check a file, make keys and tokens.
// Later commands (stop, list, status, routes) attach here as subcommands.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "capstan/server.hpp"
#include "cli/auth_commands.hpp"
#include "cli/config_file.hpp"
#include "cli/process_commands.hpp"
#include "cli/routes_command.hpp"
#include "config/reference.hpp"
#include "util/log.hpp"

namespace {

int start(const std::string& path, const std::string& listen, const std::string& name,
          const capstan::cli::StartOptions& options) {
  capstan::Config config;
  if (!capstan::cli::load_config_or_report(path, config)) return 2;
  if (!listen.empty()) config.server.listen = {listen};
  if (!name.empty()) config.server.name = name;
  capstan::cli::add_default_route(config);
  capstan::cli::apply_start_options(options, config);
  capstan::log::configure(config.server.log_format, config.server.log_level);
  capstan::Server server(std::move(config));
  if (options.daemon) return capstan::cli::start_daemon(server);
  return capstan::cli::run_with_state_file(server) ? 0 : 1;
}

int check(const std::string& path, bool reference) {
  if (reference) {
    std::fputs(capstan::config::reference_markdown().c_str(), stdout);
    return 0;
  }
  capstan::Config config;
  if (!capstan::cli::load_config_or_report(path, config)) return 2;
  std::printf("%s: ok\n", path.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"capstan: WebSocket application server"};
  app.set_version_flag("--version", "capstan 0.1.0");
  app.require_subcommand(1);

  std::string config_path, listen, name;
  CLI::App* start_cmd = app.add_subcommand("start", "run a server (in the foreground; --daemon: detached)");
  start_cmd->add_option("-c,--config", config_path, "configuration file (TOML)")->check(CLI::ExistingFile);
  start_cmd->add_option("--listen", listen, "HOST:PORT, overrides server.listen");
  start_cmd->add_option("--name", name, "instance name, overrides server.name");
  capstan::cli::StartOptions start_options;
  capstan::cli::add_start_options(*start_cmd, start_options);

  std::string check_path;
  CLI::App* check_cmd = app.add_subcommand("check", "validate a configuration file");
  bool reference = false;
  check_cmd->add_option("-c,--config", check_path, "configuration file (TOML)")->check(CLI::ExistingFile);
  check_cmd->add_flag("--reference", reference, "print every key, its type, default and meaning (docs/configuration.md)");

  auto run_auth_command = capstan::cli::add_auth_commands(app);
  auto run_routes_command = capstan::cli::add_routes_command(app);
  auto run_process_command = capstan::cli::add_process_commands(app);

  CLI11_PARSE(app, argc, argv);
  if (*start_cmd) return start(config_path, listen, name, start_options);
  if (*check_cmd) {
    if (check_path.empty() && !reference) {
      std::fputs("capstan check: -c FILE or --reference\n", stderr);
      return 2;
    }
    return check(check_path, reference);
  }
  if (int rc = run_auth_command(); rc >= 0) return rc;
  if (int rc = run_routes_command(); rc >= 0) return rc;
  if (int rc = run_process_command(); rc >= 0) return rc;
  return 1;
}
