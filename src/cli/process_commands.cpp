// `capstan list`, `capstan status` and `capstan stop`: the servers of a runtime directory,
// their live numbers (GET /status over loopback, short timeouts: a hung server is still
// listed) and an orderly stop (SIGTERM, then wait for the process to be gone).
#include "cli/process_commands.hpp"

#include <poll.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "util/iso_time.hpp"
#include "util/json_string.hpp"
#include "cli/runtime_state.hpp"
#include "cli/config_file.hpp"
#include "net/socket_address.hpp"

namespace capstan::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct ProcessOptions {
  std::string runtime_dir;
  std::string config_path;
  std::string name;
  bool json = false;
  bool all = false;
};

// The directory to look in: --runtime-dir, else -c FILE's server.runtime_dir (the file's
// server.name is then the default NAME), else the default. Empty with `rc` set on failure.
std::string runtime_dir_for(ProcessOptions& o, int& rc) {
  if (!o.runtime_dir.empty()) return absolute_path(o.runtime_dir);
  Config config;
  if (!o.config_path.empty()) {
    if (!load_config_or_report(o.config_path, config)) {
      rc = 2;
      return {};
    }
    if (o.name.empty()) o.name = config.server.name;
  }
  return cli::resolve_runtime_dir(config.server.runtime_dir, config.base_dir);
}

// The running servers, or nullopt (said on stderr) when the directory is not to be trusted.
std::optional<std::vector<cli::ServerState>> servers_in(const std::string& dir, const char* command) {
  const auto checked = cli::check_runtime_dir(dir, false);
  if (!checked) {
    std::fprintf(stderr, "capstan %s: %s\n", command, checked.error().message().c_str());
    return std::nullopt;
  }
  if (*checked == cli::DirCheck::missing) return std::vector<cli::ServerState>{};
  return cli::running_servers(dir);
}

// ---- live numbers: GET /status ---------------------------------------------------------------

struct Live {
  bool reachable = false;
  uint64_t connections = 0;
  int64_t uptime_seconds = 0;
  std::map<std::string, uint64_t> per_route;
};

bool http_get_status(const std::string& listen, std::string& body) {
  auto address = net::parse_listen_address(cli::loopback_address(listen));
  if (!address) return false;
  int fd = ::socket(address->storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const auto deadline = Clock::now() + std::chrono::milliseconds(1500);
  auto wait = [&](short events) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, events, 0};
    return left > 0 && ::poll(&p, 1, static_cast<int>(left)) == 1;
  };
  std::string response;
  bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&address->storage), address->length) == 0 ||
            (errno == EINPROGRESS && wait(POLLOUT));
  int so_error = 0;
  socklen_t len = sizeof so_error;
  ok = ok && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 && so_error == 0;
  const std::string request = "GET /status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  ok = ok && ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size());
  // The server half-closes after its answer: read to the end.
  while (ok && wait(POLLIN)) {
    char buf[8192];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EAGAIN) continue;
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
    if (response.size() > (1 << 20)) break;
  }
  ::close(fd);
  const size_t head_end = response.find("\r\n\r\n");
  if (!ok || response.compare(0, 12, "HTTP/1.1 200") != 0 || head_end == std::string::npos) return false;
  body = response.substr(head_end + 4);
  return true;
}

Live live_numbers(const cli::ServerState& s) {
  Live live;
  std::string body;
  if (s.listen.empty() || !http_get_status(s.listen.front(), body)) return live;
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(simdjson::padded_string(body)).get(o) != simdjson::SUCCESS) return live;
  int64_t pid = 0;
  // Another server may have the port now: only its own answer counts.
  if (o["pid"].get(pid) != simdjson::SUCCESS || pid != s.pid) return live;
  live.reachable = o["connections"].get(live.connections) == simdjson::SUCCESS;
  if (o["uptime_seconds"].get(live.uptime_seconds) != simdjson::SUCCESS) live.uptime_seconds = 0;
  simdjson::dom::array routes;
  if (o["routes"].get(routes) == simdjson::SUCCESS) {
    for (auto r : routes) {
      std::string_view path;
      uint64_t n = 0;
      if (r["path"].get(path) == simdjson::SUCCESS && r["connections"].get(n) == simdjson::SUCCESS) live.per_route[std::string(path)] = n;
    }
  }
  return live;
}

int64_t uptime_of(const cli::ServerState& s, const Live& live) {
  return live.reachable ? live.uptime_seconds : std::max<int64_t>(0, ::time(nullptr) - s.started_unix);
}

std::string format_uptime(int64_t s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm %02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else if (s < 86400) std::snprintf(buf, sizeof buf, "%lldh %02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s / 60 % 60));
  else std::snprintf(buf, sizeof buf, "%lldd %02lldh", static_cast<long long>(s / 86400), static_cast<long long>(s / 3600 % 24));
  return buf;
}

std::string joined(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

// One server as JSON: the state file's facts and the live numbers (null when unreachable).
void append_server_json(std::string& out, const cli::ServerState& s, const Live& live, const std::string& dir) {
  out += "{\"name\":";
  util::append_json_string(out, s.name);
  out += ",\"pid\":" + std::to_string(s.pid) + ",\"version\":";
  util::append_json_string(out, s.version);
  out += ",\"listen\":[";
  for (size_t i = 0; i < s.listen.size(); ++i) {
    if (i) out += ',';
    util::append_json_string(out, s.listen[i]);
  }
  out += "],\"started\":";
  util::append_json_string(out, util::iso8601_utc(s.started_unix));
  out += ",\"started_unix\":" + std::to_string(s.started_unix);
  out += ",\"uptime_seconds\":" + std::to_string(uptime_of(s, live));
  out += ",\"reachable\":" + std::string(live.reachable ? "true" : "false");
  out += ",\"connections\":" + (live.reachable ? std::to_string(live.connections) : "null");
  out += ",\"config\":";
  util::append_json_string(out, s.config);
  out += ",\"log\":";
  util::append_json_string(out, s.log);
  out += ",\"state_file\":";
  util::append_json_string(out, cli::state_file_path(dir, s.name));
  out += ",\"routes\":[";
  for (size_t i = 0; i < s.routes.size(); ++i) {
    auto it = live.per_route.find(s.routes[i].path);
    out += i ? ",{\"path\":" : "{\"path\":";
    util::append_json_string(out, s.routes[i].path);
    out += ",\"component\":";
    util::append_json_string(out, s.routes[i].component);
    out += ",\"connections\":" + (it != live.per_route.end() ? std::to_string(it->second) : "null") + "}";
  }
  out += "]}";
}

// ---- the commands ---------------------------------------------------------------------------

int list(ProcessOptions o) {
  int rc = 0;
  const std::string dir = runtime_dir_for(o, rc);
  if (rc) return rc;
  auto servers = servers_in(dir, "list");
  if (!servers) return 1;
  std::vector<Live> live;
  for (const auto& s : *servers) live.push_back(live_numbers(s));
  if (o.json) {
    std::string out = "[";
    for (size_t i = 0; i < servers->size(); ++i) {
      if (i) out += ',';
      append_server_json(out, (*servers)[i], live[i], dir);
    }
    std::printf("%s]\n", out.c_str());
    return 0;
  }
  if (servers->empty()) {
    std::printf("no capstan servers running (runtime directory %s)\n", dir.c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"NAME", "PID", "LISTEN", "ROUTES", "CONNECTIONS", "UPTIME"}};
  for (size_t i = 0; i < servers->size(); ++i) {
    const auto& s = (*servers)[i];
    std::vector<std::string> paths;
    for (const auto& r : s.routes) paths.push_back(r.path);
    rows.push_back({s.name, std::to_string(s.pid), joined(s.listen, ","), joined(paths, ","),
                    live[i].reachable ? std::to_string(live[i].connections) : "?", format_uptime(uptime_of(s, live[i]))});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line.append(width[c] - row[c].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

// The server NAME names, or the only one running when no NAME is given.
const cli::ServerState* pick(const std::vector<cli::ServerState>& servers, const std::string& name, const std::string& dir,
                             const char* command) {
  if (!name.empty()) {
    for (const auto& s : servers)
      if (s.name == name) return &s;
    std::fprintf(stderr, "capstan %s: no server named '%s' is running (runtime directory %s)\n", command, name.c_str(), dir.c_str());
    return nullptr;
  }
  if (servers.size() == 1) return &servers.front();
  if (servers.empty()) {
    std::fprintf(stderr, "capstan %s: no capstan servers running (runtime directory %s)\n", command, dir.c_str());
  } else {
    std::vector<std::string> names;
    for (const auto& s : servers) names.push_back(s.name);
    std::fprintf(stderr, "capstan %s: %zu servers running (%s): name one\n", command, servers.size(), joined(names, ", ").c_str());
  }
  return nullptr;
}

int status(ProcessOptions o) {
  int rc = 0;
  const std::string dir = runtime_dir_for(o, rc);
  if (rc) return rc;
  auto servers = servers_in(dir, "status");
  if (!servers) return 1;
  const cli::ServerState* s = pick(*servers, o.name, dir, "status");
  if (!s) return 1;
  const Live live = live_numbers(*s);
  if (o.json) {
    std::string out;
    append_server_json(out, *s, live, dir);
    std::printf("%s\n", out.c_str());
    return 0;
  }
  const int64_t up = uptime_of(*s, live);
  std::printf("name:        %s\n", s->name.c_str());
  std::printf("pid:         %d\n", s->pid);
  std::printf("version:     %s\n", s->version.c_str());
  std::printf("listen:      %s\n", joined(s->listen, ", ").c_str());
  std::printf("started:     %s (up %s)\n", util::iso8601_utc(s->started_unix).c_str(), format_uptime(up).c_str());
  std::printf("connections: %s\n", live.reachable ? std::to_string(live.connections).c_str() : "? (no answer to GET /status)");
  std::printf("config:      %s\n", s->config.empty() ? "(none: defaults)" : s->config.c_str());
  std::printf("log:         %s\n", s->log.empty() ? "(standard error of the process that started it)" : s->log.c_str());
  std::printf("state file:  %s\n", cli::state_file_path(dir, s->name).c_str());
  std::printf("routes:\n");
  size_t path_width = 4, component_width = 9;
  for (const auto& r : s->routes) {
    path_width = std::max(path_width, r.path.size());
    component_width = std::max(component_width, r.component.size());
  }
  std::printf("  %-*s  %-*s  %s\n", static_cast<int>(path_width), "PATH", static_cast<int>(component_width), "COMPONENT", "CONNECTIONS");
  for (const auto& r : s->routes) {
    auto it = live.per_route.find(r.path);
    std::printf("  %-*s  %-*s  %s\n", static_cast<int>(path_width), r.path.c_str(), static_cast<int>(component_width),
                r.component.c_str(), it != live.per_route.end() ? std::to_string(it->second).c_str() : "?");
  }
  return 0;
}

int stop(ProcessOptions o) {
  int rc = 0;
  const std::string dir = runtime_dir_for(o, rc);
  if (rc) return rc;
  auto servers = servers_in(dir, "stop");
  if (!servers) return 1;
  std::vector<cli::ServerState> targets;
  if (o.all) {
    targets = *servers;
    if (targets.empty()) {
      std::fprintf(stderr, "capstan stop: no capstan servers running (runtime directory %s)\n", dir.c_str());
      return 1;
    }
  } else {
    const cli::ServerState* s = pick(*servers, o.name, dir, "stop");
    if (!s) return 1;
    targets.push_back(*s);
  }
  struct Pending {
    cli::ServerState state;
    Clock::time_point deadline;
    bool done = false;
  };
  std::vector<Pending> pending;
  const auto start = Clock::now();
  bool failed = false;
  for (auto& t : targets) {
    // Checked again right before the signal: never a pid that is no longer that server's.
    if (cli::check_process(t.pid, t.proc_start, t.exe) != cli::ProcessCheck::running) {
      std::printf("%s (pid %d) had already stopped\n", t.name.c_str(), t.pid);
      continue;
    }
    if (::kill(t.pid, SIGTERM) != 0) {
      std::fprintf(stderr, "capstan stop: cannot signal %s (pid %d): %s\n", t.name.c_str(), t.pid, std::strerror(errno));
      failed = true;
      continue;
    }
    // Its own shutdown_timeout to drain clients, and a margin to exit after it.
    const auto wait = std::chrono::milliseconds(t.shutdown_timeout_ms) + std::chrono::seconds(10);
    pending.push_back({std::move(t), start + wait, false});
  }
  size_t stopped = 0;
  for (size_t left = pending.size(); left > 0;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto now = Clock::now();
    const double seconds = std::chrono::duration<double>(now - start).count();
    for (auto& p : pending) {
      if (p.done) continue;
      const cli::ServerState& s = p.state;
      if (cli::check_process(s.pid, s.proc_start, s.exe) != cli::ProcessCheck::running) {
        p.done = true;
        --left;
        ++stopped;
        std::printf("stopped %s (pid %d) in %.1f s\n", s.name.c_str(), s.pid, seconds);
        // A clean exit removed it; a crash on the way out did not.
        if (cli::remove_state_file_of(cli::state_file_path(dir, s.name), s)) {
          std::printf("  (it did not exit cleanly: its state file was left behind and is removed; see its log)\n");
        }
      } else if (now >= p.deadline) {
        p.done = true;
        --left;
        failed = true;
        std::fprintf(stderr, "capstan stop: %s (pid %d) still running %.1f s after SIGTERM\n", s.name.c_str(), s.pid, seconds);
      }
    }
  }
  std::fflush(stdout);
  return failed || stopped == 0 ? 1 : 0;
}

}  // namespace

std::function<int()> add_process_commands(CLI::App& app) {
  auto list_options = std::make_shared<ProcessOptions>();
  auto status_options = std::make_shared<ProcessOptions>();
  auto stop_options = std::make_shared<ProcessOptions>();
  auto common = [](CLI::App* cmd, ProcessOptions& o) {
    cmd->add_option("--runtime-dir", o.runtime_dir, "where the state files are (default: server.runtime_dir of -c, else "
                                                    "$XDG_RUNTIME_DIR/capstan or /tmp/capstan-<uid>)");
    cmd->add_option("-c,--config", o.config_path, "take runtime_dir (and the name) from this configuration file")
        ->check(CLI::ExistingFile);
  };
  CLI::App* list_cmd = app.add_subcommand("list", "running servers: name, pid, listen, routes, connections, uptime");
  common(list_cmd, *list_options);
  list_cmd->add_flag("--json", list_options->json, "a JSON array");

  CLI::App* status_cmd = app.add_subcommand("status", "one running server in detail");
  common(status_cmd, *status_options);
  status_cmd->add_option("name", status_options->name, "server name (optional when one server runs)");
  status_cmd->add_flag("--json", status_options->json, "a JSON object");

  CLI::App* stop_cmd = app.add_subcommand("stop", "SIGTERM a running server and wait until it has exited");
  common(stop_cmd, *stop_options);
  auto* name = stop_cmd->add_option("name", stop_options->name, "server name");
  stop_cmd->add_flag("--all", stop_options->all, "every server of the runtime directory")->excludes(name);

  return [=]() -> int {
    if (*list_cmd) return list(*list_options);
    if (*status_cmd) return status(*status_options);
    if (*stop_cmd) {
      if (!stop_options->all && stop_options->name.empty() && stop_options->config_path.empty()) {
        std::fprintf(stderr, "capstan stop: name a server, or --all\n");
        return 2;
      }
      return stop(*stop_options);
    }
    return -1;
  };
}

}  // namespace capstan::cli
