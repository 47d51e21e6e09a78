// The runtime directory and its state files (see runtime_state.hpp): paths, the JSON format,
// whether a recorded process still runs, and the server's claim / publish / withdraw.
#include "cli/runtime_state.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "util/iso_time.hpp"
#include "util/json_string.hpp"
#include "util/path.hpp"
#include "util/log.hpp"


namespace capstan::cli {

namespace {


bool read_file(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  ssize_t n;
  out.clear();
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return n == 0;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string read_link(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// A rebuilt binary shows as "/path/capstan (deleted)" in running processes: still the same one.
std::string_view without_deleted(std::string_view exe) {
  constexpr std::string_view kDeleted = " (deleted)";
  if (exe.size() > kDeleted.size() && exe.substr(exe.size() - kDeleted.size()) == kDeleted)
    exe.remove_suffix(kDeleted.size());
  return exe;
}

void append_string_array(std::string& out, const std::vector<std::string>& items) {
  out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    util::append_json_string(out, items[i]);
  }
  out += ']';
}

}  // namespace


std::string default_runtime_dir(const char* xdg_runtime_dir, unsigned uid) {
  // The XDG spec: a relative value is invalid and must be ignored.
  if (xdg_runtime_dir && xdg_runtime_dir[0] == '/') {
    std::string dir = xdg_runtime_dir;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return (dir == "/" ? "" : dir) + "/capstan";
  }
  return "/tmp/capstan-" + std::to_string(uid);
}

std::string resolve_runtime_dir(const std::string& configured, const std::string& base_dir) {
  std::string dir;
  if (configured.empty()) {
    // A session without a login manager may name an XDG_RUNTIME_DIR that does not exist (and
    // that a user cannot create under /run/user): then the spec's fallback applies.
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    struct stat st {};
    if (xdg && (::stat(xdg, &st) != 0 || !S_ISDIR(st.st_mode))) xdg = nullptr;
    dir = default_runtime_dir(xdg, ::geteuid());
  }
  else dir = util::resolve_path(configured, base_dir);
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

Expected<DirCheck> check_runtime_dir(const std::string& dir, bool create) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return Error::from_errno(errno, "runtime directory " + dir);
    if (!create) return DirCheck::missing;
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return Error::from_errno(errno, "cannot create runtime directory " + dir);
    if (::lstat(dir.c_str(), &st) != 0) return Error::from_errno(errno, "runtime directory " + dir);
    // Whatever the umask says: only this user reads and writes here.
    if (S_ISDIR(st.st_mode) && st.st_uid == ::geteuid() && (st.st_mode & 07777) != 0700 && ::chmod(dir.c_str(), 0700) == 0)
      st.st_mode = (st.st_mode & ~07777u) | 0700;
  }
  auto unsafe = [](std::string why) { return Error(std::make_error_code(std::errc::permission_denied), std::move(why)); };
  // Lstat: a symbolic link in /tmp could point anywhere, at a directory someone else controls.
  if (S_ISLNK(st.st_mode)) return unsafe("runtime directory " + dir + " is a symbolic link; refusing it");
  if (!S_ISDIR(st.st_mode)) return unsafe("runtime directory " + dir + " is not a directory");
  if (st.st_uid != ::geteuid())
    return unsafe("runtime directory " + dir + " belongs to uid " + std::to_string(st.st_uid) + ", not to this user (uid " +
                  std::to_string(::geteuid()) + "); refusing it");
  if (st.st_mode & 022) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return unsafe("runtime directory " + dir + " is writable by others (mode " + mode + "); refusing it (chmod 700 fixes it)");
  }
  return DirCheck::ok;
}

bool valid_server_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 100 || name.front() == '.') return false;
  for (char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                    ch == '_' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

std::string state_file_path(const std::string& dir, std::string_view name) {
  return dir + "/" + std::string(name) + ".json";
}

std::string loopback_address(std::string_view listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return std::string(listen);
  const std::string_view host = listen.substr(0, colon), port = listen.substr(colon + 1);
  if (host == "0.0.0.0" || host.empty() || host == "*") return "127.0.0.1:" + std::string(port);
  if (host == "[::]") return "[::1]:" + std::string(port);
  return std::string(listen);
}

std::string state_to_json(const ServerState& s) {
  std::string out = "{\"name\":";
  util::append_json_string(out, s.name);
  out += ",\"pid\":" + std::to_string(s.pid);
  out += ",\"proc_start\":" + std::to_string(s.proc_start);
  out += ",\"exe\":";
  util::append_json_string(out, s.exe);
  out += ",\"version\":";
  util::append_json_string(out, s.version);
  out += ",\"listen\":";
  append_string_array(out, s.listen);
  // How to reach it for status: the first address, from this machine.
  out += ",\"status_url\":";
  util::append_json_string(out, s.listen.empty() ? "" : "http://" + loopback_address(s.listen.front()) + "/status");
  out += ",\"started\":";
  util::append_json_string(out, util::iso8601_utc(s.started_unix));
  out += ",\"started_unix\":" + std::to_string(s.started_unix);
  out += ",\"config\":";
  util::append_json_string(out, s.config);
  out += ",\"log\":";
  util::append_json_string(out, s.log);
  out += ",\"shutdown_timeout_ms\":" + std::to_string(s.shutdown_timeout_ms);
  out += ",\"routes\":[";
  for (size_t i = 0; i < s.routes.size(); ++i) {
    out += i ? ",{\"path\":" : "{\"path\":";
    util::append_json_string(out, s.routes[i].path);
    out += ",\"component\":";
    util::append_json_string(out, s.routes[i].component);
    out += '}';
  }
  out += "]}\n";
  return out;
}

Expected<ServerState> state_from_json(std::string_view json) {
  auto malformed = [](const char* why) { return Error(std::make_error_code(std::errc::bad_message), why); };
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(simdjson::padded_string(json)).get(o) != simdjson::SUCCESS) return malformed("not a JSON object");
  ServerState s;
  std::string_view text;
  int64_t number = 0;
  uint64_t unsigned_number = 0;
  if (o["name"].get(text) != simdjson::SUCCESS || o["pid"].get(number) != simdjson::SUCCESS)
    return malformed("no name or pid");
  s.name = text;
  s.pid = static_cast<int>(number);
  if (o["proc_start"].get(unsigned_number) == simdjson::SUCCESS) s.proc_start = unsigned_number;
  if (o["exe"].get(text) == simdjson::SUCCESS) s.exe = text;
  if (o["version"].get(text) == simdjson::SUCCESS) s.version = text;
  if (o["started_unix"].get(number) == simdjson::SUCCESS) s.started_unix = number;
  if (o["config"].get(text) == simdjson::SUCCESS) s.config = text;
  if (o["log"].get(text) == simdjson::SUCCESS) s.log = text;
  if (o["shutdown_timeout_ms"].get(number) == simdjson::SUCCESS) s.shutdown_timeout_ms = number;
  simdjson::dom::array array;
  if (o["listen"].get(array) == simdjson::SUCCESS)
    for (auto item : array)
      if (item.get(text) == simdjson::SUCCESS) s.listen.emplace_back(text);
  if (o["routes"].get(array) == simdjson::SUCCESS) {
    for (auto item : array) {
      StateRoute r;
      if (item["path"].get(text) == simdjson::SUCCESS) r.path = text;
      if (item["component"].get(text) == simdjson::SUCCESS) r.component = text;
      s.routes.push_back(std::move(r));
    }
  }
  if (s.pid <= 0 || !valid_server_name(s.name)) return malformed("bad name or pid");
  return s;
}

bool read_process_identity(int pid, uint64_t& proc_start, std::string& exe, char& proc_state) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::string stat;
  if (!read_file(dir + "/stat", stat)) return false;
  // "PID (COMM) S PPID ...": COMM may hold spaces and parentheses, so fields start after the last ')'.
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  const char* p = stat.c_str() + paren + 2;
  proc_state = *p;
  for (int field = 3; field < 22; ++field) {  // to field 22, starttime
    p = std::strchr(p, ' ');
    if (!p) return false;
    ++p;
  }
  proc_start = std::strtoull(p, nullptr, 10);
  exe = read_link(dir + "/exe");
  return true;
}

ProcessCheck check_process(int pid, uint64_t proc_start, std::string_view exe) {
  if (pid <= 0) return ProcessCheck::gone;
  if (::kill(pid, 0) != 0) return errno == EPERM ? ProcessCheck::other : ProcessCheck::gone;  // EPERM: another user's
  uint64_t start = 0;
  std::string actual;
  char state = 0;
  if (!read_process_identity(pid, start, actual, state)) return ProcessCheck::gone;  // exited just now
  if (state == 'Z' || state == 'X') return ProcessCheck::gone;  // exited, not yet reaped by its parent
  if (proc_start && start != proc_start) return ProcessCheck::other;
  if (!exe.empty() && !actual.empty() && without_deleted(actual) != without_deleted(exe)) return ProcessCheck::other;
  return ProcessCheck::running;
}

Expected<ServerState> read_state_file(const std::string& path) {
  std::string text;
  if (!read_file(path, text)) return Error::from_errno(errno, path);
  Expected<ServerState> state = state_from_json(text);
  if (!state) return Error(state.error().code(), path + ": not a capstan state file (" + state.error().message() + ")");
  return state;
}

bool remove_state_file_of(const std::string& path, const ServerState& state) {
  const Expected<ServerState> on_disk = read_state_file(path);
  if (!on_disk || on_disk->pid != state.pid || on_disk->proc_start != state.proc_start) return false;
  return ::unlink(path.c_str()) == 0;
}

std::vector<ServerState> running_servers(const std::string& dir) {
  std::vector<ServerState> found;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return found;
  while (dirent* e = ::readdir(d)) {
    const std::string_view file = e->d_name;
    if (file.front() == '.' || file.size() <= 5 || file.substr(file.size() - 5) != ".json") continue;
    const std::string path = dir + "/" + std::string(file);
    // Only files that are state files, under their own name, are ever removed: the directory
    // may be one a user named, holding other JSON.
    Expected<ServerState> s = read_state_file(path);
    if (!s || s->name + ".json" != file) continue;
    if (check_process(s->pid, s->proc_start, s->exe) == ProcessCheck::running) found.push_back(*std::move(s));
    else ::unlink(path.c_str());
  }
  ::closedir(d);
  std::sort(found.begin(), found.end(), [](const ServerState& a, const ServerState& b) { return a.name < b.name; });
  return found;
}

// ---- the server's side -------------------------------------------------------------------------

namespace {

// Refuses when the state file at `path` names a running server; removes it when stale.
Status refuse_running(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0) return {};
  Expected<ServerState> other = read_state_file(path);
  if (!other) return Error(other.error().code(), other.error().message() + "; remove it if no server of that name runs");
  if (check_process(other->pid, other->proc_start, other->exe) == ProcessCheck::running) {
    std::string why = "a server named '" + other->name + "' is already running (pid " + std::to_string(other->pid);
    if (!other->listen.empty()) why += ", listening on " + other->listen.front();
    why += "); stop it with `capstan stop " + other->name + "` or choose another --name";
    return Error(std::make_error_code(std::errc::device_or_resource_busy), std::move(why));
  }
  ::unlink(path.c_str());
  log::info("removed a stale state file", {{"file", path}, {"pid", std::to_string(other->pid)}});
  return {};
}

}  // namespace

Status RuntimeState::claim(const Config& config) {
  const std::string& name = config.server.name;
  if (!valid_server_name(name))
    return Error(ConfigError::invalid, "server.name '" + name + "': it names a file, so letters, digits, '.', '_' and '-' only");
  dir_ = resolve_runtime_dir(config.server.runtime_dir, config.base_dir);
  if (Expected<DirCheck> checked = check_runtime_dir(dir_, true); !checked) return std::move(checked).error();
  path_ = state_file_path(dir_, name);
  state_ = ServerState{};
  state_.name = name;
  state_.pid = static_cast<int>(::getpid());
  char proc_state = 0;
  read_process_identity(state_.pid, state_.proc_start, state_.exe, proc_state);
  state_.version = Server::version();
  if (!config.source_path.empty()) {
    char* full = ::realpath(config.source_path.c_str(), nullptr);
    state_.config = full ? full : config.source_path;
    std::free(full);
  }
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) == 0 && S_ISREG(st.st_mode)) state_.log = read_link("/proc/self/fd/2");
  state_.shutdown_timeout_ms = config.server.shutdown_timeout.count();
  return refuse_running(path_);
}

Status RuntimeState::publish(const ServerInfo& info) {
  state_.listen = info.listen;
  state_.routes.clear();
  for (const ServerInfo::Route& r : info.routes) state_.routes.push_back({r.path, r.component});
  state_.started_unix = static_cast<int64_t>(::time(nullptr));

  const std::string temp = dir_ + "/." + state_.name + ".json." + std::to_string(state_.pid) + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Error::from_errno(errno, "cannot write " + temp);
  const bool written = write_all(fd, state_to_json(state_));
  if (::close(fd) != 0 || !written) {
    Error error = Error::from_errno(errno, "cannot write " + temp);
    ::unlink(temp.c_str());
    return error;
  }
  // link(), not rename(): it fails when the name exists, so a server of the same name that
  // published between our claim and now is not overwritten. Retried once after a stale file.
  for (int attempt = 0; attempt < 2; ++attempt) {
    int rc = ::link(temp.c_str(), path_.c_str());
    if (rc != 0 && (errno == EPERM || errno == EOPNOTSUPP)) rc = ::rename(temp.c_str(), path_.c_str());  // no hard links here
    if (rc == 0) {
      ::unlink(temp.c_str());
      published_ = true;
      return {};
    }
    if (errno != EEXIST) break;
    if (Status refused = refuse_running(path_); !refused) {
      ::unlink(temp.c_str());
      return refused;
    }
  }
  Error error = Error::from_errno(errno, "cannot write " + path_);
  ::unlink(temp.c_str());
  return error;
}

void RuntimeState::withdraw() noexcept {
  if (!published_) return;
  published_ = false;
  try {
    remove_state_file_of(path_, state_);
  } catch (...) {
    // Out of memory at exit: the file stays and is found stale later.
  }
}

}  // namespace capstan::cli
