// The runtime directory and state files (app/runtime_state): where the directory is, which
// directories are refused, the JSON round trip, and telling a running server from a stale
// file or a reused pid.
#include "cli/runtime_state.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "util/iso_time.hpp"

namespace {

using namespace capstan::cli;
using capstan::ConfigError;
using capstan::Expected;
using capstan::Status;

// Every process of this executable (ctest runs each test in its own) gets a runtime directory
// of its own, so the in-process servers of other tests (component_api_test, notify_api_test:
// all named "capstan") neither refuse each other under `ctest -j` nor meet a developer's
// running servers.
char g_isolated_runtime[64] = "/tmp/capstan-unit-XXXXXX";
const bool g_isolated = [] {
  if (!::mkdtemp(g_isolated_runtime)) return false;
  ::setenv("XDG_RUNTIME_DIR", g_isolated_runtime, 1);
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(g_isolated_runtime, ec);
  });
  return true;
}();

class TempDir {
 public:
  TempDir() {
    char path[] = "/tmp/capstan-rt-test-XXXXXX";
    path_ = ::mkdtemp(path) ? path : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

ServerState sample() {
  ServerState s;
  s.name = "chat-1";
  s.pid = 4242;
  s.proc_start = 987654321;
  s.exe = "/usr/local/bin/capstan";
  s.version = "0.1.0";
  s.listen = {"127.0.0.1:8080", "[::1]:8081"};
  s.started_unix = 1700000000;
  s.config = "/etc/capstan/\"odd\" name.toml";
  s.log = "/run/user/1000/capstan/chat-1.log";
  s.shutdown_timeout_ms = 3000;
  s.routes = {{"/echo", "echo"}, {"/socket.io", "notify"}};
  return s;
}

// A pid that certainly exited: a child, reaped.
int dead_pid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return static_cast<int>(pid);
}

ServerState this_process(const std::string& name) {
  ServerState s;
  s.name = name;
  s.pid = static_cast<int>(::getpid());
  char state = 0;
  EXPECT_TRUE(read_process_identity(s.pid, s.proc_start, s.exe, state));
  return s;
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(RuntimeState, DefaultDirectory) {
  EXPECT_TRUE(g_isolated);
  EXPECT_EQ(default_runtime_dir("/run/user/1000", 1000), "/run/user/1000/capstan");
  EXPECT_EQ(default_runtime_dir("/run/user/1000/", 1000), "/run/user/1000/capstan");
  EXPECT_EQ(default_runtime_dir(nullptr, 1000), "/tmp/capstan-1000");
  EXPECT_EQ(default_runtime_dir("", 42), "/tmp/capstan-42");
  EXPECT_EQ(default_runtime_dir("relative/dir", 42), "/tmp/capstan-42");  // invalid per the XDG spec
}

TEST(RuntimeState, ConfiguredDirectory) {
  EXPECT_EQ(resolve_runtime_dir("/var/run/capstan/", "/etc/capstan"), "/var/run/capstan");
  EXPECT_EQ(resolve_runtime_dir("run", "/etc/capstan"), "/etc/capstan/run");  // from the config's folder
  EXPECT_EQ(resolve_runtime_dir("", "/etc/capstan"), std::string(g_isolated_runtime) + "/capstan");
  // An XDG_RUNTIME_DIR that does not exist (su, ssh without a login manager): the fallback.
  ::setenv("XDG_RUNTIME_DIR", "/nonexistent/run/user/1000", 1);
  EXPECT_EQ(resolve_runtime_dir("", ""), "/tmp/capstan-" + std::to_string(::geteuid()));
  ::setenv("XDG_RUNTIME_DIR", g_isolated_runtime, 1);
}

TEST(RuntimeState, DirectoryIsCreatedPrivateAndCheckedAfterwards) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/run";
  // The directory's verdict, or "refused: " and why.
  auto check = [](const std::string& d, bool create) -> std::string {
    const Expected<DirCheck> r = check_runtime_dir(d, create);
    if (!r) return "refused: " + r.error().message();
    return *r == DirCheck::ok ? "ok" : "missing";
  };
  EXPECT_EQ(check(dir, false), "missing");
  mode_t old = ::umask(0);  // whatever the umask, the directory is 0700
  EXPECT_EQ(check(dir, true), "ok");
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);

  ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
  EXPECT_EQ(check_runtime_dir(dir, true).error(), std::errc::permission_denied);
  EXPECT_NE(check(dir, true).find("writable by others"), std::string::npos) << check(dir, true);
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);  // readable by others is no risk
  EXPECT_EQ(check(dir, false), "ok");

  const std::string link = tmp.path() + "/link";
  ASSERT_EQ(::symlink(dir.c_str(), link.c_str()), 0);
  EXPECT_NE(check(link, true).find("refused: runtime directory " + link + " is a symbolic link"), std::string::npos)
      << check(link, true);
  write_text(tmp.path() + "/file", "x");
  EXPECT_NE(check(tmp.path() + "/file", true).find("is not a directory"), std::string::npos);
  if (::geteuid() == 0) {  // root can make a directory another user owns
    ASSERT_EQ(::chown(dir.c_str(), 12345, 12345), 0);
    EXPECT_NE(check(dir, false).find("belongs to uid 12345"), std::string::npos) << check(dir, false);
  }
}

TEST(RuntimeState, Names) {
  EXPECT_TRUE(valid_server_name("capstan"));
  EXPECT_TRUE(valid_server_name("chat-1.prod_eu"));
  EXPECT_FALSE(valid_server_name(""));
  EXPECT_FALSE(valid_server_name(".hidden"));
  EXPECT_FALSE(valid_server_name("../etc"));
  EXPECT_FALSE(valid_server_name("a/b"));
  EXPECT_FALSE(valid_server_name("a b"));
  EXPECT_EQ(state_file_path("/run/x", "chat"), "/run/x/chat.json");
}

TEST(RuntimeState, JsonRoundTrip) {
  const ServerState s = sample();
  const std::string json = state_to_json(s);
  EXPECT_NE(json.find("\"started\":\"2023-11-14T22:13:20Z\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"status_url\":\"http://127.0.0.1:8080/status\""), std::string::npos) << json;
  const Expected<ServerState> parsed = state_from_json(json);
  ASSERT_TRUE(parsed) << parsed.error().message();
  const ServerState& back = *parsed;
  EXPECT_EQ(back.name, s.name);
  EXPECT_EQ(back.pid, s.pid);
  EXPECT_EQ(back.proc_start, s.proc_start);
  EXPECT_EQ(back.exe, s.exe);
  EXPECT_EQ(back.version, s.version);
  EXPECT_EQ(back.listen, s.listen);
  EXPECT_EQ(back.started_unix, s.started_unix);
  EXPECT_EQ(back.config, s.config);
  EXPECT_EQ(back.log, s.log);
  EXPECT_EQ(back.shutdown_timeout_ms, s.shutdown_timeout_ms);
  ASSERT_EQ(back.routes.size(), 2u);
  EXPECT_EQ(back.routes[1].path, "/socket.io");
  EXPECT_EQ(back.routes[1].component, "notify");
}

TEST(RuntimeState, JsonThatIsNoStateFile) {
  auto refused = [](std::string_view json) {
    const Expected<ServerState> s = state_from_json(json);
    return !s && s.error() == std::errc::bad_message;
  };
  EXPECT_TRUE(refused(""));
  EXPECT_TRUE(refused("[1,2]"));
  EXPECT_TRUE(refused("{\"name\":\"x\"}"));              // no pid
  EXPECT_TRUE(refused("{\"name\":\"x\",\"pid\":0}"));    // no process
  EXPECT_TRUE(refused("{\"name\":\"../x\",\"pid\":5}"));  // no file name
  EXPECT_TRUE(state_from_json("{\"name\":\"x\",\"pid\":5}"));
}

TEST(RuntimeState, TimesAndAddresses) {
  EXPECT_EQ(capstan::util::iso8601_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(capstan::util::iso8601_utc(1700000000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(loopback_address("0.0.0.0:8080"), "127.0.0.1:8080");
  EXPECT_EQ(loopback_address("[::]:8080"), "[::1]:8080");
  EXPECT_EQ(loopback_address("10.1.2.3:80"), "10.1.2.3:80");
  EXPECT_EQ(loopback_address("[::1]:8080"), "[::1]:8080");
}

TEST(RuntimeState, ProcessChecks) {
  const ServerState me = this_process("me");
  EXPECT_NE(me.proc_start, 0u);
  EXPECT_FALSE(me.exe.empty());
  EXPECT_EQ(check_process(me.pid, me.proc_start, me.exe), ProcessCheck::running);
  EXPECT_EQ(check_process(me.pid, 0, ""), ProcessCheck::running);  // older files without identity
  // The same pid with another start time: the pid was reused.
  EXPECT_EQ(check_process(me.pid, me.proc_start + 1, me.exe), ProcessCheck::other);
  EXPECT_EQ(check_process(me.pid, me.proc_start, "/usr/bin/something-else"), ProcessCheck::other);
  // A binary rebuilt while its server runs is still that server.
  EXPECT_EQ(check_process(me.pid, me.proc_start, me.exe + " (deleted)"), ProcessCheck::running);
  EXPECT_EQ(check_process(dead_pid(), 0, ""), ProcessCheck::gone);
  EXPECT_EQ(check_process(0, 0, ""), ProcessCheck::gone);

  // A zombie (exited, not reaped) is gone although kill(pid, 0) still succeeds.
  pid_t zombie = ::fork();
  if (zombie == 0) ::_exit(0);
  uint64_t start = 0;
  std::string exe;
  char state = 0;
  for (int i = 0; i < 200 && read_process_identity(zombie, start, exe, state) && state != 'Z'; ++i) ::usleep(5000);
  EXPECT_EQ(check_process(zombie, 0, ""), ProcessCheck::gone);
  int status = 0;
  ::waitpid(zombie, &status, 0);
}

TEST(RuntimeState, RunningServersCleansStaleFilesOnly) {
  TempDir tmp;
  const std::string dir = tmp.path();
  ServerState live = this_process("live");
  write_text(state_file_path(dir, "live"), state_to_json(live));
  ServerState stale = sample();
  stale.name = "stale";
  stale.pid = dead_pid();
  write_text(state_file_path(dir, "stale"), state_to_json(stale));
  ServerState reused = this_process("reused");
  reused.proc_start += 1;
  write_text(state_file_path(dir, "reused"), state_to_json(reused));
  write_text(dir + "/package.json", "{\"name\":\"not a server\"}");  // not ours: left alone
  write_text(dir + "/misnamed.json", state_to_json(stale));          // names another file: left alone

  const auto servers = running_servers(dir);
  ASSERT_EQ(servers.size(), 1u);
  EXPECT_EQ(servers[0].name, "live");
  EXPECT_TRUE(std::filesystem::exists(state_file_path(dir, "live")));
  EXPECT_FALSE(std::filesystem::exists(state_file_path(dir, "stale")));
  EXPECT_FALSE(std::filesystem::exists(state_file_path(dir, "reused")));
  EXPECT_TRUE(std::filesystem::exists(dir + "/package.json"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/misnamed.json"));
}

TEST(RuntimeState, ClaimPublishWithdraw) {
  TempDir tmp;
  capstan::Config config;
  config.server.name = "unit";
  config.server.runtime_dir = tmp.path() + "/run";
  {
    RuntimeState first;
    Status claimed = first.claim(config);
    ASSERT_TRUE(claimed) << claimed.error().message();
    capstan::ServerInfo info;
    info.listen = {"127.0.0.1:9999"};
    info.routes = {{"/echo", "echo"}};
    Status published = first.publish(info);
    ASSERT_TRUE(published) << published.error().message();
    const Expected<ServerState> on_disk = read_state_file(first.path());
    ASSERT_TRUE(on_disk) << on_disk.error().message();
    EXPECT_EQ(on_disk->pid, ::getpid());
    EXPECT_EQ(on_disk->listen, std::vector<std::string>{"127.0.0.1:9999"});
    ASSERT_EQ(on_disk->routes.size(), 1u);
    EXPECT_EQ(on_disk->routes[0].component, "echo");

    RuntimeState second;  // same name, first still running (it is this process)
    claimed = second.claim(config);
    ASSERT_FALSE(claimed);
    EXPECT_EQ(claimed.error(), std::errc::device_or_resource_busy);
    EXPECT_NE(claimed.error().message().find("already running"), std::string::npos) << claimed.error().message();
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/run/unit.json"));  // withdrawn by the destructor

  // A stale file of the same name is removed and the claim goes on.
  ServerState stale = sample();
  stale.name = "unit";
  stale.pid = dead_pid();
  write_text(tmp.path() + "/run/unit.json", state_to_json(stale));
  RuntimeState third;
  EXPECT_TRUE(third.claim(config));
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/run/unit.json"));

  config.server.name = "bad/name";
  RuntimeState fourth;
  const Status bad_name = fourth.claim(config);
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error(), ConfigError::invalid);
  EXPECT_NE(bad_name.error().message().find("server.name"), std::string::npos) << bad_name.error().message();
}

}  // namespace
