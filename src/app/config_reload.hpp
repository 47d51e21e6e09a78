// What a SIGHUP can change in a running server, and what only a restart can: the reload
// compares the file as it is now with the configuration the server runs.
#pragma once

#include <string>
#include <vector>

#include "capstan/config.hpp"

namespace capstan::app {

struct ReloadPlan {
  bool limits = false;  // every [limits] key, applied loop by loop
  bool auth = false;    // keys, algorithms, claims: a new verifier
  bool log = false;     // server.log_format, server.log_level
  std::vector<std::string> needs_restart;  // sections or keys that changed but stay as they are
};

// `next` is the file as loaded now; `running` what the server was started with (with the
// command line's --listen / --name, which the file does not repeat).
ReloadPlan plan_reload(const Config& running, const Config& next);

}  // namespace capstan::app
