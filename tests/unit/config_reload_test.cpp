// plan_reload (src/app/config_reload.*): between the running Config and the file loaded again,
// which parts a reload applies (limits, auth keys, log settings) and which only a restart can
// change (listen, threads, the other server keys, routes, users, compression); nothing
// changed; several changes at once. Configs come from TOML through load_config_string.
#include "app/config_reload.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace capstan::app {
namespace {

using Names = std::vector<std::string>;

// A running configuration with every section present and no default left in the keys the
// tests change.
constexpr std::string_view kBase = R"(
[server]
name = "prod"
listen = ["127.0.0.1:9001", "[::1]:9001"]
threads = 2
prefix = "/ws"
runtime_dir = "/run/capstan"
static_dir = "/srv/static"
allowed_origins = ["https://a.example"]
log_format = "text"
log_level = "info"
shutdown_timeout = "10s"
trusted_proxies = ["127.0.0.1"]
proxy_protocol = false

[limits]
idle_timeout = "120s"
connections_per_ip = 100
connection_rate_per_ip = 10
messages_per_second = 50
message_burst = 100
on_limit = "error"

[compression]
enabled = true
level = 1
mode = "shared"

[auth]
required = true
algorithms = ["HS256"]
secret = "first-secret"
identity_claim = "username"
leeway = "0s"

[users]
provider = "sqlite"
database = "users.sqlite"
workers = 2

[[routes]]
component = "echo"

[[routes]]
path = "/notify"
component = "notify"
protocols = ["v1"]

[[routes.actions]]
name = "say"
kind = "relay"
to = "all"
)";

Config load(std::string_view toml) {
  LoadedConfig loaded = load_config_string(toml);
  EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors.front().key + ": " + loaded.errors.front().message)
                           << "\nin:\n" << toml;
  return loaded.config;
}

// kBase with `from` (which must occur exactly once) replaced by `to`.
std::string edited(std::string_view from, std::string_view to, std::string base = std::string(kBase)) {
  const size_t at = base.find(from);
  EXPECT_NE(at, std::string::npos) << "'" << from << "' is not in the base config";
  if (at == std::string::npos) return base;
  EXPECT_EQ(base.find(from, at + 1), std::string::npos) << "'" << from << "' occurs twice";
  return base.replace(at, from.size(), to);
}

ReloadPlan plan_for(std::string_view next_toml) { return plan_reload(load(kBase), load(next_toml)); }

void expect_applied_only(const ReloadPlan& plan, bool limits, bool auth, bool log) {
  EXPECT_EQ(plan.limits, limits);
  EXPECT_EQ(plan.auth, auth);
  EXPECT_EQ(plan.log, log);
  EXPECT_EQ(plan.needs_restart, Names{});
}

void expect_restart_only(const ReloadPlan& plan, const Names& restart) {
  EXPECT_FALSE(plan.limits);
  EXPECT_FALSE(plan.auth);
  EXPECT_FALSE(plan.log);
  EXPECT_EQ(plan.needs_restart, restart);
}

// ---- Nothing changed -----------------------------------------------------------------------

TEST(ConfigReload, NothingChanged) {
  const Config running = load(kBase);
  expect_applied_only(plan_reload(running, load(kBase)), false, false, false);
  expect_applied_only(plan_reload(Config{}, Config{}), false, false, false);
}

TEST(ConfigReload, SameValuesWrittenDifferentlyAreNoChange) {
  // Key order, a duration in other units, an array of one as a plain string: the same Config.
  const std::string next = edited("idle_timeout = \"120s\"", "idle_timeout = \"2m\"",
                                  edited("algorithms = [\"HS256\"]", "algorithms = \"HS256\"",
                                         edited("name = \"prod\"\nlisten", "listen", std::string(kBase))));
  std::string reordered = next;
  reordered.replace(reordered.find("[server]\n"), 9, "[server]\nname = \"prod\"\n");
  expect_applied_only(plan_for(reordered), false, false, false);
}

// ---- Applied by a reload -------------------------------------------------------------------

TEST(ConfigReload, LimitsAreApplied) {
  for (auto [from, to] : std::vector<std::pair<std::string_view, std::string_view>>{
           {"idle_timeout = \"120s\"", "idle_timeout = \"30s\""},
           {"connections_per_ip = 100", "connections_per_ip = 5"},
           {"connection_rate_per_ip = 10", "connection_rate_per_ip = 0"},
           {"messages_per_second = 50", "messages_per_second = 500"},
           {"on_limit = \"error\"", "on_limit = \"close\""},
       }) {
    SCOPED_TRACE(std::string(from) + " -> " + std::string(to));
    expect_applied_only(plan_for(edited(from, to)), true, false, false);
  }
  // A limit the file did not set before, now set away from its default.
  expect_applied_only(plan_for(edited("[limits]\n", "[limits]\nmax_message_size = \"4MiB\"\n")), true, false, false);
}

TEST(ConfigReload, AuthIsApplied) {
  for (auto [from, to] : std::vector<std::pair<std::string_view, std::string_view>>{
           {"secret = \"first-secret\"", "secret = \"second-secret\""},
           {"algorithms = [\"HS256\"]", "algorithms = [\"HS256\", \"HS512\"]"},
           {"identity_claim = \"username\"", "identity_claim = \"sub\""},
           {"leeway = \"0s\"", "leeway = \"30s\""},
           {"required = true", "required = false"},
       }) {
    SCOPED_TRACE(std::string(from) + " -> " + std::string(to));
    expect_applied_only(plan_for(edited(from, to)), false, true, false);
  }
}

TEST(ConfigReload, LogSettingsAreApplied) {
  expect_applied_only(plan_for(edited("log_level = \"info\"", "log_level = \"debug\"")), false, false, true);
  expect_applied_only(plan_for(edited("log_format = \"text\"", "log_format = \"json\"")), false, false, true);
  // Both at once, and not reported under server.* as needing a restart.
  expect_applied_only(plan_for(edited("log_format = \"text\"\nlog_level = \"info\"", "log_format = \"json\"\nlog_level = \"warn\"")),
                      false, false, true);
}

// ---- Needs a restart -----------------------------------------------------------------------

TEST(ConfigReload, ListenNeedsARestart) {
  expect_restart_only(plan_for(edited("listen = [\"127.0.0.1:9001\", \"[::1]:9001\"]", "listen = [\"127.0.0.1:9002\", \"[::1]:9001\"]")),
                      Names{"server.listen"});
  expect_restart_only(plan_for(edited("listen = [\"127.0.0.1:9001\", \"[::1]:9001\"]", "listen = \"127.0.0.1:9001\"")),
                      Names{"server.listen"});
}

TEST(ConfigReload, ThreadsNeedARestart) {
  expect_restart_only(plan_for(edited("threads = 2", "threads = 4")), Names{"server.threads"});
  SCOPED_TRACE("threads removed: back to the default (0: one per core)");
  expect_restart_only(plan_for(edited("threads = 2\n", "")), Names{"server.threads"});
}

TEST(ConfigReload, OtherServerKeysNeedARestart) {
  struct Case {
    std::string_view from, to, key;
  };
  for (const Case& c : std::vector<Case>{
           {"prefix = \"/ws\"", "prefix = \"/socket\"", "server.prefix"},
           {"name = \"prod\"", "name = \"staging\"", "server.name"},
           {"runtime_dir = \"/run/capstan\"", "runtime_dir = \"/run/other\"", "server.runtime_dir"},
           {"static_dir = \"/srv/static\"", "static_dir = \"/srv/www\"", "server.static_dir"},
           {"allowed_origins = [\"https://a.example\"]", "allowed_origins = []", "server.allowed_origins"},
           {"shutdown_timeout = \"10s\"", "shutdown_timeout = \"1s\"", "server.shutdown_timeout"},
           {"trusted_proxies = [\"127.0.0.1\"]", "trusted_proxies = [\"10.0.0.0/8\"]", "server.trusted_proxies"},
           {"proxy_protocol = false", "proxy_protocol = true", "server.proxy_protocol"},
       }) {
    SCOPED_TRACE(c.key);
    expect_restart_only(plan_for(edited(c.from, c.to)), Names{std::string(c.key)});
  }
}

TEST(ConfigReload, RoutesNeedARestart) {
  // A route added, one removed, a path, a component's protocols, an action of a notify route.
  expect_restart_only(plan_for(std::string(kBase) + "\n[[routes]]\npath = \"/more\"\ncomponent = \"echo\"\n"), Names{"routes"});
  expect_restart_only(plan_for(edited("[[routes]]\ncomponent = \"echo\"\n\n", "")), Names{"routes"});
  expect_restart_only(plan_for(edited("path = \"/notify\"", "path = \"/events\"")), Names{"routes"});
  expect_restart_only(plan_for(edited("protocols = [\"v1\"]", "protocols = [\"v1\", \"v2\"]")), Names{"routes"});
  expect_restart_only(plan_for(edited("to = \"all\"", "to = \"sender\"")), Names{"routes"});
}

TEST(ConfigReload, UsersNeedARestart) {
  expect_restart_only(plan_for(edited("database = \"users.sqlite\"", "database = \"other.sqlite\"")), Names{"users"});
  expect_restart_only(plan_for(edited("workers = 2", "workers = 8")), Names{"users"});
  expect_restart_only(plan_for(edited("[users]\n", "[users]\nrecheck = \"message\"\n")), Names{"users"});
}

TEST(ConfigReload, CompressionNeedsARestart) {
  expect_restart_only(plan_for(edited("enabled = true", "enabled = false")), Names{"compression"});
  expect_restart_only(plan_for(edited("level = 1", "level = 9")), Names{"compression"});
  expect_restart_only(plan_for(edited("mode = \"shared\"", "mode = \"dedicated\"")), Names{"compression"});
}

// ---- Several at once -----------------------------------------------------------------------

TEST(ConfigReload, SeveralChangesAreAllReported) {
  std::string next = edited("connections_per_ip = 100", "connections_per_ip = 7");
  next = edited("log_level = \"info\"", "log_level = \"error\"", next);
  next = edited("threads = 2", "threads = 3", next);
  next = edited("level = 1", "level = 2", next);
  next = edited("path = \"/notify\"", "path = \"/n\"", next);
  const ReloadPlan plan = plan_for(next);
  EXPECT_TRUE(plan.limits);
  EXPECT_FALSE(plan.auth);
  EXPECT_TRUE(plan.log);
  EXPECT_EQ(plan.needs_restart, (Names{"server.threads", "compression", "routes"}));
}

TEST(ConfigReload, EverythingChangedAtOnce) {
  std::string next = edited("listen = [\"127.0.0.1:9001\", \"[::1]:9001\"]", "listen = \"127.0.0.1:1\"");
  next = edited("threads = 2", "threads = 1", next);
  next = edited("prefix = \"/ws\"", "prefix = \"\"", next);
  next = edited("name = \"prod\"", "name = \"x\"", next);
  next = edited("runtime_dir = \"/run/capstan\"", "runtime_dir = \"/tmp/r\"", next);
  next = edited("static_dir = \"/srv/static\"", "static_dir = \"\"", next);
  next = edited("allowed_origins = [\"https://a.example\"]", "allowed_origins = [\"https://b.example\"]", next);
  next = edited("shutdown_timeout = \"10s\"", "shutdown_timeout = \"3s\"", next);
  next = edited("log_format = \"text\"", "log_format = \"json\"", next);
  next = edited("idle_timeout = \"120s\"", "idle_timeout = \"1s\"", next);
  next = edited("secret = \"first-secret\"", "secret = \"s2\"", next);
  next = edited("enabled = true", "enabled = false", next);
  next = edited("workers = 2", "workers = 1", next);
  next = edited("to = \"all\"", "to = \"none\"", next);
  const ReloadPlan plan = plan_for(next);
  EXPECT_TRUE(plan.limits);
  EXPECT_TRUE(plan.auth);
  EXPECT_TRUE(plan.log);
  EXPECT_EQ(plan.needs_restart,
            (Names{"server.listen", "server.threads", "server.prefix", "server.name", "server.runtime_dir", "server.static_dir",
                   "server.allowed_origins", "server.shutdown_timeout", "compression", "users", "routes"}));
}

TEST(ConfigReload, PlanIsTheSameEitherWayRound) {
  // Swapping running and next finds the same differences.
  const Config a = load(kBase), b = load(edited("threads = 2", "threads = 5", edited("secret = \"first-secret\"", "secret = \"x\"")));
  const ReloadPlan ab = plan_reload(a, b), ba = plan_reload(b, a);
  EXPECT_TRUE(ab.auth);
  EXPECT_TRUE(ba.auth);
  EXPECT_EQ(ab.needs_restart, Names{"server.threads"});
  EXPECT_EQ(ba.needs_restart, Names{"server.threads"});
}

}  // namespace
}  // namespace capstan::app
