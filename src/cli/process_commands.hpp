// The commands that deal with running servers: `capstan start --daemon`, `list`, `status`
// and `stop`. They find servers through the runtime directory's state files
// (app/runtime_state.hpp) and ask each for live numbers over GET /status.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "capstan/config.hpp"
#include "capstan/server.hpp"

namespace capstan::cli {

struct StartOptions {
  bool daemon = false;
  std::string runtime_dir;  // --runtime-dir, overrides server.runtime_dir
};

// Adds --daemon and --runtime-dir to `capstan start`.
void add_start_options(CLI::App& start, StartOptions& options);
// Puts --runtime-dir into the config, absolute (a relative server.runtime_dir is taken from
// the config file's folder, a command-line one from the working directory).
void apply_start_options(const StartOptions& options, Config& config);
// "dir" -> "$PWD/dir"; an absolute path as it is.
std::string absolute_path(const std::string& path);

// start --daemon (start_daemon.cpp; the start options too): the child detaches and runs `server` with its output
// in <runtime_dir>/<name>.log; this process waits until it listens, or tells why it did not.
// Returns the exit status for whichever process returns.
int start_daemon(Server& server);
// Runs `server` in this process with its state file: claimed first (a server of the same name
// running here refuses the start), written once it listens, removed when it stops. Why it
// could not start is logged and returned.
Status run_with_state_file(Server& server);

// Adds list, status and stop; the returned function runs whichever was chosen and gives the
// exit status, or -1 when none was.
std::function<int()> add_process_commands(CLI::App& app);

}  // namespace capstan::cli
