// Loading the configuration file a command was given, the same way for every command: each
// fault on stderr as FILE:LINE: KEY: MESSAGE.
#pragma once

#include <string>

#include "capstan/config.hpp"

namespace capstan::cli {

// An empty `path` leaves `config` at its defaults and succeeds. False after reporting faults.
bool load_config_or_report(const std::string& path, Config& config);

}  // namespace capstan::cli
