// load_config_string: a full file, every kind of fault (with its key and line), and the option
// table's default texts, which must load to exactly a default-constructed Config.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "capstan/config.hpp"
#include "config/options.hpp"
#include "config/reference.hpp"

namespace capstan {

// Found by GoogleTest through argument-dependent lookup, so it lives in the type's namespace.
void PrintTo(const ConfigFault& e, std::ostream* os) { *os << e.key << " (line " << e.line << "): " << e.message; }

namespace {

using namespace std::chrono_literals;

std::string describe(const LoadedConfig& c) {
  std::string s;
  for (const ConfigFault& e : c.errors) s += "\n  " + testing::PrintToString(e);
  return s;
}

Config load_ok(std::string_view toml) {
  LoadedConfig c = load_config_string(toml);
  EXPECT_TRUE(c.ok()) << "unexpected errors:" << describe(c) << "\nin:\n" << toml;
  return c.config;
}

// Expects exactly one error, on `key`, at `line` (0: any line), whose message contains `words`.
ConfigFault expect_one_error(std::string_view toml, std::string_view key, int line = 0, std::string_view words = {}) {
  LoadedConfig c = load_config_string(toml);
  EXPECT_EQ(c.errors.size(), 1u) << describe(c) << "\nin:\n" << toml;
  if (c.errors.empty()) return {};
  const ConfigFault& e = c.errors.front();
  EXPECT_EQ(e.key, key) << toml;
  if (line != 0) {
    EXPECT_EQ(e.line, line) << toml;
  }
  EXPECT_NE(e.message.find(words), std::string::npos) << "message '" << e.message << "' lacks '" << words << "'";
  return e;
}

void expect_configs_equal(const Config& a, const Config& b) {
  EXPECT_EQ(a.server.name, b.server.name);
  EXPECT_EQ(a.server.listen, b.server.listen);
  EXPECT_EQ(a.server.threads, b.server.threads);
  EXPECT_EQ(a.server.prefix, b.server.prefix);
  EXPECT_EQ(a.server.runtime_dir, b.server.runtime_dir);
  EXPECT_EQ(a.server.static_dir, b.server.static_dir);
  EXPECT_EQ(a.server.allowed_origins, b.server.allowed_origins);
  EXPECT_EQ(a.server.log_format, b.server.log_format);
  EXPECT_EQ(a.server.log_level, b.server.log_level);
  EXPECT_EQ(a.server.shutdown_timeout, b.server.shutdown_timeout);
  EXPECT_EQ(a.limits.max_message_size, b.limits.max_message_size);
  EXPECT_EQ(a.limits.max_header_size, b.limits.max_header_size);
  EXPECT_EQ(a.limits.handshake_timeout, b.limits.handshake_timeout);
  EXPECT_EQ(a.limits.idle_timeout, b.limits.idle_timeout);
  EXPECT_EQ(a.limits.ping_interval, b.limits.ping_interval);
  EXPECT_EQ(a.limits.close_timeout, b.limits.close_timeout);
  EXPECT_EQ(a.limits.send_buffer, b.limits.send_buffer);
  EXPECT_EQ(a.limits.max_connections, b.limits.max_connections);
  EXPECT_EQ(a.limits.connections_per_ip, b.limits.connections_per_ip);
  EXPECT_EQ(a.limits.connection_rate_per_ip, b.limits.connection_rate_per_ip);
  EXPECT_EQ(a.limits.messages_per_second, b.limits.messages_per_second);
  EXPECT_EQ(a.limits.message_burst, b.limits.message_burst);
  EXPECT_EQ(a.limits.on_limit, b.limits.on_limit);
  EXPECT_EQ(a.compression.enabled, b.compression.enabled);
  EXPECT_EQ(a.compression.level, b.compression.level);
  EXPECT_EQ(a.compression.threshold, b.compression.threshold);
  EXPECT_EQ(a.compression.mode, b.compression.mode);
  EXPECT_EQ(a.auth.required, b.auth.required);
  EXPECT_EQ(a.auth.sources, b.auth.sources);
  EXPECT_EQ(a.auth.algorithms, b.auth.algorithms);
  EXPECT_EQ(a.auth.public_key, b.auth.public_key);
  EXPECT_EQ(a.auth.private_key, b.auth.private_key);
  EXPECT_EQ(a.auth.passphrase, b.auth.passphrase);
  EXPECT_EQ(a.auth.secret, b.auth.secret);
  EXPECT_EQ(a.auth.jwks, b.auth.jwks);
  EXPECT_EQ(a.auth.identity_claim, b.auth.identity_claim);
  EXPECT_EQ(a.auth.leeway, b.auth.leeway);
  EXPECT_EQ(a.auth.issuer, b.auth.issuer);
  EXPECT_EQ(a.auth.audience, b.auth.audience);
  EXPECT_EQ(a.users.provider, b.users.provider);
  EXPECT_EQ(a.users.database, b.users.database);
  EXPECT_EQ(a.users.query, b.users.query);
  EXPECT_EQ(a.users.recheck, b.users.recheck);
  EXPECT_EQ(a.users.workers, b.users.workers);
  ASSERT_EQ(a.routes.size(), b.routes.size());
  for (size_t i = 0; i < a.routes.size(); ++i) {
    EXPECT_EQ(a.routes[i].path, b.routes[i].path);
    EXPECT_EQ(a.routes[i].component, b.routes[i].component);
    EXPECT_EQ(a.routes[i].protocols, b.routes[i].protocols);
  }
}

// ---- The option table and the struct agree ---------------------------------------------------

TEST(Config, EveryDefaultTextLoadsToTheStructDefault) {
  std::string toml;
  for (const config::ServerOption& opt : config::server_options())
    toml += std::string(opt.section) + "." + std::string(opt.key) + " = " + std::string(opt.default_text) + "\n";
  const Config loaded = load_ok(toml);
  expect_configs_equal(loaded, Config{});
}

TEST(Config, EveryOptionIsApplied) {
  // Guards the table the other way round: each option's apply writes its own field, so a file
  // that sets every option to a non-default value differs from the default in every field.
  const std::string toml = R"(
[server]
name = "other"
listen = ["127.0.0.1:1", "[::1]:2"]
threads = 3
prefix = "/p"
runtime_dir = "/run/x"
static_dir = "/srv/www"
allowed_origins = ["https://a.example"]
log_format = "json"
log_level = "debug"
shutdown_timeout = "1s"
trusted_proxies = ["10.0.0.0/8"]
proxy_protocol = true
[limits]
max_message_size = "2MiB"
max_header_size = "8KiB"
handshake_timeout = "11s"
idle_timeout = "121s"
ping_interval = "31s"
close_timeout = "6s"
send_buffer = "32MiB"
max_connections = 99
connections_per_ip = 5
connection_rate_per_ip = 7
messages_per_second = 9
message_burst = 11
on_limit = "close"
[compression]
enabled = false
level = 6
threshold = "1KiB"
mode = "dedicated"
[auth]
required = false
sources = ["cookie:JWT"]
algorithms = "HS512"
public_key = "pub.pem"
private_key = "priv.pem"
passphrase = "p"
secret = "s"
jwks = "keys.json"
identity_claim = "sub"
leeway = "5s"
require_exp = false
issuer = "i"
audience = "a"
[users]
provider = "sqlite"
database = "u.sqlite"
query = "SELECT id FROM users WHERE login = ?1"
recheck = "message"
workers = 3
[publish]
api_key = "k"
max_body = "2KiB"
max_batch = 7
[mercure]
path = "/.well-known/mercure"
publisher_jwt_key = "m"
publisher_jwt_alg = "HS512"
[cluster]
redis = "redis://127.0.0.1:6390"
channel = "other"
[auth.proxy]
url = "http://127.0.0.1:8000/ws/connect"
mode = "only"
[backend]
secret = "backend-secret"
timeout = "2s"
max_in_flight = 8
[server.tls]
listen = "127.0.0.1:8443"
cert = ["a.pem"]
key = ["a.key"]
passphrase = "tp"
min_version = "1.3"
ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256"
ciphersuites = "TLS_AES_128_GCM_SHA256"
)";
  const Config c = load_ok(toml);
  const Config d;
  EXPECT_NE(c.server.name, d.server.name);
  EXPECT_NE(c.server.listen, d.server.listen);
  EXPECT_NE(c.server.threads, d.server.threads);
  EXPECT_NE(c.server.prefix, d.server.prefix);
  EXPECT_NE(c.server.runtime_dir, d.server.runtime_dir);
  EXPECT_NE(c.server.static_dir, d.server.static_dir);
  EXPECT_NE(c.server.allowed_origins, d.server.allowed_origins);
  EXPECT_NE(c.server.log_format, d.server.log_format);
  EXPECT_NE(c.server.log_level, d.server.log_level);
  EXPECT_NE(c.server.shutdown_timeout, d.server.shutdown_timeout);
  EXPECT_NE(c.server.trusted_proxies, d.server.trusted_proxies);
  EXPECT_NE(c.server.proxy_protocol, d.server.proxy_protocol);
  EXPECT_NE(c.limits.max_message_size, d.limits.max_message_size);
  EXPECT_NE(c.limits.max_header_size, d.limits.max_header_size);
  EXPECT_NE(c.limits.handshake_timeout, d.limits.handshake_timeout);
  EXPECT_NE(c.limits.idle_timeout, d.limits.idle_timeout);
  EXPECT_NE(c.limits.ping_interval, d.limits.ping_interval);
  EXPECT_NE(c.limits.close_timeout, d.limits.close_timeout);
  EXPECT_NE(c.limits.send_buffer, d.limits.send_buffer);
  EXPECT_NE(c.limits.max_connections, d.limits.max_connections);
  EXPECT_NE(c.limits.connections_per_ip, d.limits.connections_per_ip);
  EXPECT_NE(c.limits.connection_rate_per_ip, d.limits.connection_rate_per_ip);
  EXPECT_NE(c.limits.messages_per_second, d.limits.messages_per_second);
  EXPECT_NE(c.limits.message_burst, d.limits.message_burst);
  EXPECT_NE(c.limits.on_limit, d.limits.on_limit);
  EXPECT_NE(c.compression.enabled, d.compression.enabled);
  EXPECT_NE(c.compression.level, d.compression.level);
  EXPECT_NE(c.compression.threshold, d.compression.threshold);
  EXPECT_NE(c.compression.mode, d.compression.mode);
  EXPECT_NE(c.auth.required, d.auth.required);
  EXPECT_NE(c.auth.sources, d.auth.sources);
  EXPECT_NE(c.auth.algorithms, d.auth.algorithms);
  EXPECT_NE(c.auth.public_key, d.auth.public_key);
  EXPECT_NE(c.auth.private_key, d.auth.private_key);
  EXPECT_NE(c.auth.passphrase, d.auth.passphrase);
  EXPECT_NE(c.auth.secret, d.auth.secret);
  EXPECT_NE(c.auth.jwks, d.auth.jwks);
  EXPECT_NE(c.auth.identity_claim, d.auth.identity_claim);
  EXPECT_NE(c.auth.leeway, d.auth.leeway);
  EXPECT_NE(c.auth.require_exp, d.auth.require_exp);
  EXPECT_NE(c.auth.issuer, d.auth.issuer);
  EXPECT_NE(c.auth.audience, d.auth.audience);
  EXPECT_NE(c.users.provider, d.users.provider);
  EXPECT_NE(c.users.database, d.users.database);
  EXPECT_NE(c.users.query, d.users.query);
  EXPECT_NE(c.users.recheck, d.users.recheck);
  EXPECT_NE(c.users.workers, d.users.workers);
  EXPECT_NE(c.publish.api_key, d.publish.api_key);
  EXPECT_NE(c.publish.max_body, d.publish.max_body);
  EXPECT_NE(c.publish.max_batch, d.publish.max_batch);
  EXPECT_NE(c.mercure.path, d.mercure.path);
  EXPECT_NE(c.mercure.publisher_jwt_key, d.mercure.publisher_jwt_key);
  EXPECT_NE(c.mercure.publisher_jwt_alg, d.mercure.publisher_jwt_alg);
  EXPECT_NE(c.cluster.redis, d.cluster.redis);
  EXPECT_NE(c.cluster.channel, d.cluster.channel);
  EXPECT_NE(c.auth.proxy.url, d.auth.proxy.url);
  EXPECT_NE(c.auth.proxy.mode, d.auth.proxy.mode);
  EXPECT_NE(c.backend.secret, d.backend.secret);
  EXPECT_NE(c.backend.timeout, d.backend.timeout);
  EXPECT_NE(c.backend.max_in_flight, d.backend.max_in_flight);
  EXPECT_NE(c.server.tls.listen, d.server.tls.listen);
  EXPECT_NE(c.server.tls.cert, d.server.tls.cert);
  EXPECT_NE(c.server.tls.key, d.server.tls.key);
  EXPECT_NE(c.server.tls.passphrase, d.server.tls.passphrase);
  EXPECT_NE(c.server.tls.min_version, d.server.tls.min_version);
  EXPECT_NE(c.server.tls.ciphers, d.server.tls.ciphers);
  EXPECT_NE(c.server.tls.ciphersuites, d.server.tls.ciphersuites);
  // And the table has one entry per field above (a new field needs a new option).
  EXPECT_EQ(config::server_options().size(), 67u);
}

TEST(Config, DefaultsAreWithinTheirOwnBounds) {
  for (const config::ServerOption& opt : config::server_options()) {
    SCOPED_TRACE(std::string(opt.section) + "." + std::string(opt.key));
    EXPECT_FALSE(opt.default_text.empty());
    EXPECT_FALSE(opt.help.empty());
    EXPECT_NE(opt.apply, nullptr);
    EXPECT_LE(opt.min, opt.max);
  }
}

TEST(Config, EmptyFileGivesDefaults) {
  expect_configs_equal(load_ok(""), Config{});
  expect_configs_equal(load_ok("# only a comment\n\n"), Config{});
}

// ---- A full valid file -----------------------------------------------------------------------

TEST(Config, FullValidFile) {
  const Config c = load_ok(R"(# capstan.toml
[server]
name = "prod"
listen = ["0.0.0.0:80", "[::]:8443", "localhost:9000"]
threads = 4
prefix = "/ws"
runtime_dir = "/run/capstan"
static_dir = "/srv/static"
allowed_origins = ["https://example.com", "https://www.example.com"]
log_format = "json"
shutdown_timeout = "30s"

[limits]
max_message_size = "16MiB"
max_header_size = 8192
handshake_timeout = "5s"
idle_timeout = "10m"
ping_interval = "45s"
close_timeout = "2500ms"
send_buffer = "64MB"
max_connections = 50000

[[routes]]
component = "echo"

[[routes]]
path = "/chat"
component = "chat"
protocols = ["chat.v2", "chat.v1"]
)");
  EXPECT_EQ(c.server.name, "prod");
  EXPECT_EQ(c.server.listen, (std::vector<std::string>{"0.0.0.0:80", "[::]:8443", "localhost:9000"}));
  EXPECT_EQ(c.server.threads, 4u);
  EXPECT_EQ(c.server.prefix, "/ws");
  EXPECT_EQ(c.server.runtime_dir, "/run/capstan");
  EXPECT_EQ(c.server.static_dir, "/srv/static");
  EXPECT_EQ(c.server.allowed_origins, (std::vector<std::string>{"https://example.com", "https://www.example.com"}));
  EXPECT_EQ(c.server.log_format, LogFormat::json);
  EXPECT_EQ(c.server.shutdown_timeout, 30s);
  EXPECT_EQ(c.limits.max_message_size, 16u << 20);
  EXPECT_EQ(c.limits.max_header_size, 8192u);
  EXPECT_EQ(c.limits.handshake_timeout, 5s);
  EXPECT_EQ(c.limits.idle_timeout, 10min);
  EXPECT_EQ(c.limits.ping_interval, 45s);
  EXPECT_EQ(c.limits.close_timeout, 2500ms);
  EXPECT_EQ(c.limits.send_buffer, 64'000'000u);
  EXPECT_EQ(c.limits.max_connections, 50000u);
  ASSERT_EQ(c.routes.size(), 2u);
  EXPECT_EQ(c.routes[0].component, "echo");
  EXPECT_EQ(c.routes[0].path, "");  // the default "/echo" is applied by the server
  EXPECT_TRUE(c.routes[0].protocols.empty());
  EXPECT_EQ(c.routes[1].path, "/chat");
  EXPECT_EQ(c.routes[1].component, "chat");
  EXPECT_EQ(c.routes[1].protocols, (std::vector<std::string>{"chat.v2", "chat.v1"}));
}

TEST(Config, ListenMayBeASingleString) {
  EXPECT_EQ(load_ok("server.listen = \"[::1]:7000\"\n").server.listen, std::vector<std::string>{"[::1]:7000"});
}

TEST(Config, SectionsAsDottedKeysOrInlineTables) {
  const Config c = load_ok("limits.idle_timeout = \"3s\"\nserver = { name = \"inline\" }\n");
  EXPECT_EQ(c.limits.idle_timeout, 3s);
  EXPECT_EQ(c.server.name, "inline");
}

TEST(Config, ConnectProxyUrlIsHttp) {
  expect_one_error("[auth.proxy]\nurl = \"ftp://127.0.0.1/c\"\n", "auth.proxy.url", 2, "http://");
  expect_one_error("[auth.proxy]\nmode = \"sometimes\"\n", "auth.proxy.mode", 2, "fallback");
}

// ---- Unknown keys ----------------------------------------------------------------------------

TEST(Config, UnknownKeyNamesKeyAndLine) {
  expect_one_error(R"([server]
name = "x"

[limits]
idl_timeout = "5s"
)",
                   "limits.idl_timeout", 5, "unknown");
  expect_one_error("[server]\nlisten = \"127.0.0.1:1\"\nthread = 2\n", "server.thread", 3, "unknown");
  expect_one_error("\n\n[limit]\nidle_timeout = \"5s\"\n", "limit", 3, "unknown");
  expect_one_error("verbose = true\n", "verbose", 1, "unknown");
  expect_one_error("[auth.proxy]\nurl = \"http://127.0.0.1:1/c\"\nmodes = \"only\"\n", "auth.proxy.modes", 3, "unknown");
  expect_one_error("[auth.proxi]\nurl = \"http://127.0.0.1:1/c\"\n", "auth.proxi", 1, "unknown");
  expect_one_error("[[routes]]\ncomponent = \"echo\"\nprotocol = [\"a\"]\n", "routes[0].protocol", 3, "unknown");
}

TEST(Config, EveryFaultIsReportedNotOnlyTheFirst) {
  LoadedConfig c = load_config_string("[server]\nnme = \"a\"\nthreads = \"many\"\n[limits]\nidle_timeout = 5\n");
  ASSERT_EQ(c.errors.size(), 3u) << describe(c);
  std::vector<std::pair<int, std::string>> got;
  for (const ConfigFault& e : c.errors) got.emplace_back(e.line, e.key);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::pair<int, std::string>>{{2, "server.nme"}, {3, "server.threads"}, {5, "limits.idle_timeout"}}));
}

// ---- Wrong types -----------------------------------------------------------------------------

TEST(Config, WrongTypes) {
  expect_one_error("[server]\nname = 5\n", "server.name", 2, "string");
  expect_one_error("[server]\nthreads = \"4\"\n", "server.threads", 2, "integer");
  expect_one_error("[server]\nthreads = 1.5\n", "server.threads", 2, "integer");
  expect_one_error("[server]\nallowed_origins = \"https://a\"\n", "server.allowed_origins", 2, "list");
  expect_one_error("[server]\nallowed_origins = [\"a\", 1]\n", "server.allowed_origins", 2, "list");
  expect_one_error("[server]\nlisten = 8080\n", "server.listen", 2, "string");
  expect_one_error("[limits]\nidle_timeout = 30\n", "limits.idle_timeout", 2, "duration");
  expect_one_error("[limits]\nidle_timeout = \"30\"\n", "limits.idle_timeout", 2, "duration");
  expect_one_error("[limits]\nidle_timeout = \"soon\"\n", "limits.idle_timeout", 2, "duration");
  expect_one_error("[limits]\nmax_message_size = \"1 megabyte\"\n", "limits.max_message_size", 2, "size");
  expect_one_error("[limits]\nmax_message_size = true\n", "limits.max_message_size", 2, "size");
  expect_one_error("[limits]\nmax_message_size = -1\n", "limits.max_message_size", 2, "size");
  expect_one_error("[[routes]]\ncomponent = \"echo\"\nprotocols = \"chat\"\n", "routes[0].protocols", 3, "list");
}

// ---- Bounds ------------------------------------------------------------------------------------

TEST(Config, DurationsOutOfRange) {
  expect_one_error("[limits]\nidle_timeout = \"0s\"\n", "limits.idle_timeout", 2, "0s is out of range");
  expect_one_error("[limits]\nping_interval = \"25h\"\n", "limits.ping_interval", 2, "out of range");
  expect_one_error("[server]\nshutdown_timeout = \"2d\"\n", "server.shutdown_timeout", 2, "out of range");
  EXPECT_EQ(load_ok("[server]\nshutdown_timeout = \"0ms\"\n").server.shutdown_timeout, 0ms);
  EXPECT_EQ(load_ok("[limits]\nclose_timeout = \"1d\"\n").limits.close_timeout, 24h);
  EXPECT_EQ(load_ok("[limits]\nhandshake_timeout = \"1ms\"\n").limits.handshake_timeout, 1ms);
}

TEST(Config, SizesOutOfRange) {
  expect_one_error("[limits]\nmax_message_size = 0\n", "limits.max_message_size", 2, "0 is out of range");
  expect_one_error("[limits]\nmax_message_size = \"5GiB\"\n", "limits.max_message_size", 2, "5GiB is out of range");
  expect_one_error("[limits]\nmax_header_size = 255\n", "limits.max_header_size", 2, "out of range");
  expect_one_error("[limits]\nmax_header_size = \"2MiB\"\n", "limits.max_header_size", 2, "out of range");
  expect_one_error("[limits]\nsend_buffer = \"1000B\"\n", "limits.send_buffer", 2, "out of range");
  expect_one_error("[limits]\nsend_buffer = \"65GiB\"\n", "limits.send_buffer", 2, "out of range");
  EXPECT_EQ(load_ok("[limits]\nmax_message_size = \"4GiB\"\n").limits.max_message_size, uint64_t{4} << 30);
  EXPECT_EQ(load_ok("[limits]\nmax_header_size = 256\n").limits.max_header_size, 256u);
  EXPECT_EQ(load_ok("[limits]\nmax_header_size = \"1MiB\"\n").limits.max_header_size, 1u << 20);
}

TEST(Config, IntegersOutOfRange) {
  expect_one_error("[server]\nthreads = -1\n", "server.threads", 2, "-1 is out of range");
  expect_one_error("[server]\nthreads = 1025\n", "server.threads", 2, "out of range");
  expect_one_error("[limits]\nmax_connections = 0\n", "limits.max_connections", 2, "out of range");
  expect_one_error("[limits]\nmax_connections = 100000001\n", "limits.max_connections", 2, "out of range");
  EXPECT_EQ(load_ok("[server]\nthreads = 1024\n").server.threads, 1024u);
  EXPECT_EQ(load_ok("[limits]\nmax_connections = 100000000\n").limits.max_connections, 100'000'000u);
}

// ---- Whole-file rules ------------------------------------------------------------------------

TEST(Config, InvalidListenAddress) {
  expect_one_error("[server]\nname = \"a\"\nlisten = \"example.com:80\"\n", "server.listen", 3, "invalid address");
  expect_one_error("[server]\nlisten = [\"127.0.0.1:80\", \"127.0.0.1\"]\n", "server.listen", 2, "HOST:PORT");
  expect_one_error("[server]\nlisten = \"127.0.0.1:70000\"\n", "server.listen", 2, "port");
  expect_one_error("[server]\nlisten = \"[::1:80\"\n", "server.listen", 2);
  expect_one_error("[server]\nlisten = []\n", "server.listen", 2, "at least one");
}

TEST(Config, TrustedProxiesAreAddressesOrCidrBlocks) {
  const Config c = load_ok("[server]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"fd00::/8\"]\nproxy_protocol = true\n");
  EXPECT_EQ(c.server.trusted_proxies.size(), 3u);
  EXPECT_TRUE(c.server.proxy_protocol);
  expect_one_error("[server]\nname = \"a\"\ntrusted_proxies = [\"10.0.0.0/33\"]\n", "server.trusted_proxies", 3, "10.0.0.0/33");
  expect_one_error("[server]\ntrusted_proxies = [\"proxy.example\"]\n", "server.trusted_proxies", 2, "CIDR");
  // A PROXY header is read only from trusted proxies: without any, the switch would do nothing.
  expect_one_error("[server]\nname = \"a\"\nproxy_protocol = true\n", "server.trusted_proxies", 3, "proxy_protocol needs");
}

TEST(Config, LogFormat) {
  expect_one_error("[server]\nlog_format = \"xml\"\n", "server.log_format", 2, "json");
  EXPECT_EQ(load_ok("[server]\nlog_format = \"text\"\n").server.log_format, LogFormat::text);
}

TEST(Config, PrefixRules) {
  EXPECT_EQ(load_ok("[server]\nprefix = \"/socket.io\"\n").server.prefix, "/socket.io");
  EXPECT_EQ(load_ok("[server]\nprefix = \"/a/b\"\n").server.prefix, "/a/b");
  expect_one_error("[server]\nprefix = \"ws\"\n", "server.prefix", 2, "start with '/'");
  expect_one_error("[server]\nprefix = \"/ws/\"\n", "server.prefix", 2, "not end with '/'");
  expect_one_error("[server]\nprefix = \"/\"\n", "server.prefix", 2);
}

TEST(Config, RoutesWithoutComponent) {
  expect_one_error("[[routes]]\npath = \"/x\"\n", "routes[0].component", 0, "missing");
  expect_one_error("[[routes]]\ncomponent = \"echo\"\n\n[[routes]]\npath = \"/y\"\n", "routes[1].component", 0, "missing");
  expect_one_error("[[routes]]\ncomponent = \"\"\n", "routes[0].component", 0, "missing");
}

TEST(Config, RoutePathMustStartWithSlash) {
  expect_one_error("[[routes]]\ncomponent = \"echo\"\npath = \"echo\"\n", "routes[0].path", 0, "'/'");
}

TEST(Config, RoutesMustBeAnArrayOfTables) {
  expect_one_error("[routes]\ncomponent = \"echo\"\n", "routes", 1);
  expect_one_error("routes = \"echo\"\n", "routes", 1);
  expect_one_error("routes = [\"echo\"]\n", "routes", 1);
}

TEST(Config, EmptyRoutesListMeansNoRoutes) {
  // `routes = []` is an empty array of tables: the same as no [[routes]] at all (routes may
  // come from C++ alone, Server::route). The loader refuses it as "expected [[routes]] tables".
  LoadedConfig c = load_config_string("routes = []\n");
  EXPECT_TRUE(c.ok()) << describe(c);
  EXPECT_TRUE(c.config.routes.empty());
}

TEST(Config, SectionThatIsNotATable) {
  LoadedConfig c = load_config_string("server = 5\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.errors[0].key, "server");
  EXPECT_EQ(c.errors[0].line, 1);
}

// ---- TOML syntax ---------------------------------------------------------------------------------

TEST(Config, SyntaxErrorHasItsLine) {
  LoadedConfig c = load_config_string("[server]\nname = \"a\"\nthreads = = 3\n");
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0].line, 3);
  EXPECT_FALSE(c.errors[0].message.empty());
  LoadedConfig dup = load_config_string("[server]\nname = \"a\"\nname = \"b\"\n");
  ASSERT_EQ(dup.errors.size(), 1u);
  EXPECT_EQ(dup.errors[0].line, 3);
  LoadedConfig unterminated = load_config_string("[server]\nname = \"a\n");
  EXPECT_FALSE(unterminated.ok());
}

TEST(Config, LoadConfigFileReadsAFile) {
  const std::string path = testing::TempDir() + "capstan_config_test.toml";
  {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("[server]\nname = \"from-file\"\n[limits]\nidl = 1\n", f);
    std::fclose(f);
  }
  LoadedConfig c = load_config_file(path);
  EXPECT_EQ(c.config.server.name, "from-file");
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0].key, "limits.idl");
  EXPECT_EQ(c.errors[0].line, 4);
  std::remove(path.c_str());
  EXPECT_FALSE(load_config_file(path + ".does-not-exist").ok());
}


// ---- notify routes and their actions ----------------------------------------------------------

TEST(Config, NotifyRouteWithActions) {
  const Config c = load_ok(R"(
[users]
provider = "sqlite"
database = "demo.sqlite"

[[routes]]
path = "/"
component = "notify"
auth = false
data_as_string = false

  [[routes.actions]]
  name = "message"
  kind = "relay"
  to = "users"
  from_field = "from"

  [[routes.actions]]
  name = "show"
  kind = "sql"
  query = "SELECT id, created_at FROM product WHERE id = :id"
  one = false
  not_found = "Product not found"
  relative_dates = ["created_at"]
  to = "sender"
)");
  ASSERT_EQ(c.routes.size(), 1u);
  const RouteConfig& r = c.routes[0];
  EXPECT_EQ(r.auth, 0);
  // notify's keys, as the loader checked them against notify's declarations.
  EXPECT_FALSE(r.keys.boolean("data_as_string", true));
  const auto actions = r.keys.tables("actions");
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].text("name"), "message");
  EXPECT_EQ(actions[0].text("kind"), "relay");
  EXPECT_EQ(actions[0].integer("kind", -1), 0);  // a choice's index
  EXPECT_EQ(actions[0].choice("to", Target::all), Target::users);
  EXPECT_EQ(actions[0].text("from_field"), "from");
  EXPECT_EQ(actions[1].text("kind"), "sql");
  EXPECT_EQ(actions[1].text("query"), "SELECT id, created_at FROM product WHERE id = :id");
  EXPECT_FALSE(actions[1].boolean("one", true));
  EXPECT_EQ(actions[1].text("not_found"), "Product not found");
  EXPECT_EQ(actions[1].list("relative_dates"), std::vector<std::string>{"created_at"});
  EXPECT_EQ(actions[1].choice("to", Target::all), Target::sender);
  EXPECT_EQ(actions[1].line, 18);  // its [[routes.actions]] line, for the type's faults
  EXPECT_EQ(Config{}.routes.size(), 0u);
  EXPECT_EQ(RouteConfig{}.auth, -1);  // the component decides
}

TEST(Config, NotifyRouteRatchetKeys) {
  EXPECT_TRUE(RouteConfig{}.keys.entries.empty());  // notify's defaults are its own (NotifyOptions)
  const Config c = load_ok(R"(
[[routes]]
path = "/app/*"
component = "notify"
fatal_close_code = 4001
binary_messages = false
unknown_action_message = "Unknown action"
)");
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].path, "/app/*");
  EXPECT_EQ(c.routes[0].keys.integer("fatal_close_code", 1000), 4001);
  EXPECT_FALSE(c.routes[0].keys.boolean("binary_messages", true));
  EXPECT_EQ(c.routes[0].keys.text("unknown_action_message"), "Unknown action");
  const std::string head = "[[routes]]\ncomponent = \"notify\"\n";
  expect_one_error(head + "fatal_close_code = 1005\n", "routes[0].fatal_close_code", 3, "close code");
  expect_one_error(head + "fatal_close_code = 66536\n", "routes[0].fatal_close_code", 3, "close code");
  expect_one_error(head + "fatal_close_code = 0\n", "routes[0].fatal_close_code", 3, "close code");
  expect_one_error(head + "path = \"/a*\"\n", "routes[0].path", 3, "'*'");
  expect_one_error(head + "path = \"/*/b\"\n", "routes[0].path", 3, "'*'");
  EXPECT_TRUE(load_config_string(head + "path = \"/*\"\n").ok());
}

TEST(Config, BadActionsNameTheirKey) {
  const std::string head = "[[routes]]\ncomponent = \"notify\"\n[[routes.actions]]\n";
  // A choice names the allowed values, at the value's own line.
  expect_one_error(head + "name = \"a\"\nkind = \"teleport\"\n", "routes[0].actions[0].kind", 5, "\"relay\", \"sql\" or \"http\"");
  expect_one_error(head + "name = \"a\"\nkind = \"relay\"\nto = \"everyone\"\n", "routes[0].actions[0].to", 6,
                   "\"all\", \"sender\", \"self\", \"users\" or \"none\"");
  expect_one_error(head + "name = \"a\"\n", "routes[0].actions[0].kind", 3, "missing");
  expect_one_error("[users]\nprovider = \"sqlite\"\ndatabase = \"d\"\n" + head + "name = \"a\"\nkind = \"sql\"\n",
                   "routes[0].actions[0].query", 6);
  expect_one_error(head + "name = \"a\"\nkind = \"sql\"\nquery = \"SELECT 1\"\n", "routes[0].actions[0].kind", 0,
                   "user database");
  expect_one_error(head + "kind = \"relay\"\n", "routes[0].actions[0].name", 3);
  expect_one_error(head + "name = \"a\"\nkind = \"relay\"\nqueri = \"x\"\n", "routes[0].actions[0].queri", 6);
  // http actions: a URL of their own, and a secret to sign with.
  const std::string secret = "[backend]\nsecret = \"s\"\n";
  expect_one_error(secret + head + "name = \"a\"\nkind = \"http\"\n", "routes[0].actions[0].url", 5, "http://");
  expect_one_error(secret + head + "name = \"a\"\nkind = \"relay\"\nurl = \"http://127.0.0.1:1/a\"\n", "routes[0].actions[0].url", 5,
                   "only http actions");
  expect_one_error(head + "name = \"a\"\nkind = \"http\"\nurl = \"http://127.0.0.1:1/a\"\n", "routes[0].actions[0].kind", 3,
                   "backend.secret");
  EXPECT_TRUE(load_config_string(secret + head + "name = \"a\"\nkind = \"http\"\nurl = \"http://127.0.0.1:1/a\"\n").ok());
}

TEST(Config, ProxyRoutesNeedAUrlAndASecret) {
  const std::string route = "[[routes]]\ncomponent = \"proxy\"\n";
  expect_one_error("[backend]\nsecret = \"s\"\n" + route, "routes[0].url", 0, "http://");
  expect_one_error(route + "url = \"http://127.0.0.1:1/e\"\n", "routes[0].component", 3, "backend.secret");
  EXPECT_TRUE(load_config_string("[backend]\nsecret = \"s\"\n" + route + "url = \"http://127.0.0.1:1/e\"\ntimer_interval = \"1s\"\n").ok());
}

TEST(Config, KeysOfAnotherComponentAreUnknownOnARoute) {
  expect_one_error("[[routes]]\ncomponent = \"echo\"\ndata_as_string = false\n", "routes[0].data_as_string", 3, "unknown key");
  expect_one_error("[[routes]]\ncomponent = \"echo\"\n[[routes.actions]]\nname = \"a\"\n", "routes[0].actions", 3, "unknown key");
  // A component the loader was not given: only the keys every route has.
  expect_one_error("[[routes]]\ncomponent = \"chat\"\nvolume = 3\n", "routes[0].volume", 3, "unknown key");
  EXPECT_TRUE(load_config_string("[[routes]]\ncomponent = \"chat\"\npath = \"/c\"\n").ok());
  // Without a component its keys cannot be told from typos: only the missing one is a fault.
  expect_one_error("[[routes]]\ndata_as_string = false\n", "routes[0].component", 0, "missing");
}

TEST(Config, BadAuthAndUsersNameTheirKey) {
  expect_one_error("[auth]\nalgorithms = [\"RS256\", \"none\"]\n", "auth.algorithms", 2);
  expect_one_error("[auth]\nsources = [\"query:\"]\n", "auth.sources", 2);
  expect_one_error("[auth]\nleeway = \"soon\"\n", "auth.leeway", 2);
  expect_one_error("[users]\nprovider = \"mysql\"\ndatabase = \"x\"\n", "users.provider", 2);
  expect_one_error("[users]\nprovider = \"sqlite\"\n", "users.database", 0);
  expect_one_error("[users]\nrecheck = \"always\"\n", "users.recheck", 2);
}

// ---- the generated reference ------------------------------------------------------------------

TEST(Config, TheReferenceInDocsIsGeneratedFromTheOptionTable) {
  std::ifstream in(std::string(CAPSTAN_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), config::reference_markdown())
      << "docs/configuration.md is stale: regenerate it with build/release/capstan check --reference > docs/configuration.md";
}

TEST(Config, TheReferenceNamesEveryKeyAndItsChoices) {
  const std::string reference = config::reference_markdown();
  for (const auto& o : config::server_options())
    EXPECT_NE(reference.find("| `" + std::string(o.key) + "` |"), std::string::npos) << o.key;
  EXPECT_NE(reference.find("\"debug\", \"info\", \"warn\" or \"error\""), std::string::npos);
  EXPECT_NE(reference.find("\"all\", \"sender\", \"self\", \"users\" or \"none\""), std::string::npos);
  // Each component's own keys, under its name; nested tables under theirs.
  EXPECT_NE(reference.find("### component = \"echo\"\n\nNo keys of its own."), std::string::npos);
  const size_t notify = reference.find("### component = \"notify\"");
  ASSERT_NE(notify, std::string::npos);
  EXPECT_NE(reference.find("| `data_as_string` |", notify), std::string::npos);
  EXPECT_NE(reference.find("#### [[routes.actions]]", notify), std::string::npos);
}

}  // namespace
}  // namespace capstan
