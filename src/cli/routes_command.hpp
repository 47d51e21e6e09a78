// `capstan routes [-c FILE] [--json]`: what a configuration serves where, prefix applied.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "capstan/config.hpp"

namespace capstan::cli {

// With no file, or a file without routes, the server serves echo on /echo: the route a
// configuration without [[routes]] gets, for `start` and `routes` alike.
void add_default_route(Config& config);

// Adds the subcommand; the returned function runs it when it was chosen (else returns -1).
std::function<int()> add_routes_command(CLI::App& app);

}  // namespace capstan::cli
