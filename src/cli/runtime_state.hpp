// The runtime directory and its state files: how `capstan list / status / stop` find the
// servers running here. One file per running server, `<runtime_dir>/<name>.json`, written
// once it listens and removed at a clean exit; a file whose process is gone is stale and is
// removed by whoever finds it. The side of `capstan start` (RuntimeState: claimed before
// Server::run, published from its on_listening hook) and the commands' side (reading,
// liveness, /proc) share the format here; the server library knows nothing of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "capstan/config.hpp"
#include "capstan/error.hpp"
#include "capstan/server.hpp"

namespace capstan::cli {

// `server.runtime_dir` when set (relative: to the config file's folder), else
// $XDG_RUNTIME_DIR/capstan (when that directory exists), else /tmp/capstan-<uid>.
std::string default_runtime_dir(const char* xdg_runtime_dir, unsigned uid);
std::string resolve_runtime_dir(const std::string& configured, const std::string& base_dir);

enum class DirCheck { ok, missing };
// Checks the directory is ours and not writable by others (anyone who can write there could
// plant a state file); `create` makes it (mode 0700) when missing. The Error says why not:
// the errno of a failed call, or permission_denied for a directory that is not safe.
Expected<DirCheck> check_runtime_dir(const std::string& dir, bool create);

// A server name is a file name here: letters, digits, '.', '_', '-', not starting with '.'.
bool valid_server_name(std::string_view name) noexcept;
std::string state_file_path(const std::string& dir, std::string_view name);

struct StateRoute {
  std::string path;       // prefix applied
  std::string component;  // "echo", "notify", "c++" for a route() of the program
};

struct ServerState {
  std::string name;
  int pid = 0;
  // Identity of the process beyond its pid: start time in clock ticks after boot
  // (/proc/PID/stat field 22) and executable. A reused pid has another start time.
  uint64_t proc_start = 0;
  std::string exe;
  std::string version;
  std::vector<std::string> listen;  // real addresses: "127.0.0.1:43211", "[::1]:8080"
  int64_t started_unix = 0;
  std::string config;  // absolute path of the config file, or empty
  std::string log;     // the file stderr goes to (start --daemon), or empty
  int64_t shutdown_timeout_ms = 10000;
  std::vector<StateRoute> routes;
};

std::string state_to_json(const ServerState& state);
// A malformed file is std::errc::bad_message.
Expected<ServerState> state_from_json(std::string_view json);
// "0.0.0.0:8080" -> "127.0.0.1:8080", "[::]:8080" -> "[::1]:8080": where a local client
// reaches a listen address.
std::string loopback_address(std::string_view listen);

enum class ProcessCheck { running, gone, other };  // other: the pid now belongs to another program
// Whether `pid` is still the process a state file describes. A zombie is gone.
ProcessCheck check_process(int pid, uint64_t proc_start, std::string_view exe);
// This process's start time and executable, as check_process compares them.
bool read_process_identity(int pid, uint64_t& proc_start, std::string& exe, char& proc_state);

Expected<ServerState> read_state_file(const std::string& path);
// Removes the state file at `path` if it still describes the process of `state` (same pid and
// start time): after a stale-file cleanup gone wrong it could be another server's.
bool remove_state_file_of(const std::string& path, const ServerState& state);
// The servers of `dir` that are running, by name; state files of gone processes (and files
// that are no state file) are removed.
std::vector<ServerState> running_servers(const std::string& dir);

// The server's side: claimed before binding, published once listening, withdrawn at exit.
class RuntimeState {
 public:
  RuntimeState() = default;
  RuntimeState(const RuntimeState&) = delete;
  RuntimeState& operator=(const RuntimeState&) = delete;
  ~RuntimeState() { withdraw(); }

  // Prepares the directory and refuses to go on when a server of the same name runs; a
  // stale file is removed (std::errc::device_or_resource_busy while it runs).
  Status claim(const Config& config);
  // Writes the state file: all at once (a reader never sees half a file) and exclusively (of
  // two servers of one name starting together, one wins).
  Status publish(const ServerInfo& info);
  // Removes the file if it is still this process's.
  void withdraw() noexcept;

  const ServerState& state() const noexcept { return state_; }
  const std::string& path() const noexcept { return path_; }

 private:
  ServerState state_;
  std::string dir_;
  std::string path_;
  bool published_ = false;
};

}  // namespace capstan::cli
