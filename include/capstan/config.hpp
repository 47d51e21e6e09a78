// The server's configuration: what the TOML file says, with every default filled in.
//
// The keys, their types, bounds and defaults are declared once, in the option table behind
// load_config (src/config/options.cpp), and a component type's own route keys by the type
// (ComponentType::keys); `capstan check` and the docs read the same declarations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "capstan/error.hpp"
#include "capstan/route_keys.hpp"
#include "capstan/types.hpp"

namespace capstan {

// The values of the configuration's choice keys. Their spellings in the file are declared
// once, with the keys, in the option table (src/config/options.cpp).
enum class LogFormat : uint8_t { text, json };
enum class LogLevel : uint8_t { debug, info, warn, error };
enum class OnLimit : uint8_t { error, close };        // limits.on_limit
enum class CompressionMode : uint8_t { shared, dedicated };
enum class UserProvider : uint8_t { none, sqlite, postgres };
enum class Recheck : uint8_t { never, message, periodic };  // users.recheck
enum class ProxyMode : uint8_t { fallback, only };  // auth.proxy.mode

// [server.tls]: native TLS on its own listeners, beside the plain ones (server.listen).
struct TlsConfig {
  std::vector<std::string> listen;  // HOST:PORT addresses served with TLS; empty: no TLS
  std::vector<std::string> cert;    // PEM chains (leaf first), one per certificate; SNI picks by their names
  std::vector<std::string> key;     // the matching private keys, in the same order
  std::string passphrase;           // for encrypted keys; or CAPSTAN_TLS_PASSPHRASE
  std::string min_version = "1.2";  // "1.2" or "1.3"
  std::string ciphers;              // TLS 1.2 cipher list, OpenSSL syntax; empty: OpenSSL's default
  std::string ciphersuites;         // TLS 1.3 suites; empty: OpenSSL's default

  bool operator==(const TlsConfig&) const = default;
};

struct ServerConfig {
  std::string name = "capstan";
  std::vector<std::string> listen = {"127.0.0.1:8080"};
  unsigned threads = 0;  // 0: one event loop per core
  std::string prefix;    // prepended to every route
  std::string runtime_dir;
  std::string static_dir;
  std::vector<std::string> allowed_origins;  // empty: any origin
  LogFormat log_format = LogFormat::text;
  LogLevel log_level = LogLevel::info;
  Duration shutdown_timeout{std::chrono::seconds(10)};
  // Proxies (addresses, CIDR blocks) whose X-Forwarded-For or PROXY header names the client;
  // empty: every peer is the client itself.
  std::vector<std::string> trusted_proxies;
  bool proxy_protocol = false;  // trusted proxies start each connection with a PROXY header
  TlsConfig tls;

  bool operator==(const ServerConfig&) const = default;
};

struct Limits {
  uint64_t max_message_size = 1 << 20;  // frame and reassembled message; then close 1009
  size_t max_header_size = 16 * 1024;   // HTTP request head; then 431
  Duration handshake_timeout{std::chrono::seconds(10)};
  Duration idle_timeout{std::chrono::seconds(120)};
  Duration ping_interval{std::chrono::seconds(30)};
  Duration close_timeout{std::chrono::seconds(5)};  // wait for the peer's close frame
  size_t send_buffer = 16 << 20;  // per connection; a slower reader is closed with 1008
  uint32_t max_connections = 100000;
  uint32_t connections_per_ip = 1000;   // concurrent, per client address; then 429
  uint32_t connection_rate_per_ip = 0;  // new connections per second per address (0: off); then 429
  uint32_t messages_per_second = 100;   // per connection, a token bucket (0: off) ...
  uint32_t message_burst = 200;         // ... this deep
  OnLimit on_limit = OnLimit::error;    // error: the message is refused, the connection kept; close: 1008

  bool operator==(const Limits&) const = default;
};

// permessage-deflate (RFC 7692), used when a client offers it.
struct CompressionConfig {
  bool enabled = true;
  int level = 1;             // zlib level 0-9: 1 is fast and does most of the work on JSON
  uint64_t threshold = 256;  // smaller messages are sent uncompressed
  // "shared": one compressor and inflater per loop, no context takeover either way (a few
  // hundred KiB per loop, nothing per connection). "dedicated": a compressor per connection
  // with context takeover (better ratio, ~300 KiB per compressing connection).
  CompressionMode mode = CompressionMode::shared;

  bool operator==(const CompressionConfig&) const = default;
};

// JWT authentication of upgrade requests (SPEC section 5). Relative paths are resolved
// against the configuration file's folder.
// The connect proxy (SPEC 5a): the web application decides who a new connection is.
struct AuthProxyConfig {
  std::string url;  // empty: no connect proxy
  ProxyMode mode = ProxyMode::fallback;  // fallback: a JWT first, the proxy when there is none

  bool operator==(const AuthProxyConfig&) const = default;
};

struct AuthConfig {
  bool required = true;  // false: anonymous connections allowed, the user attached when valid
  // Where a token is looked for, in order: "query:NAME", "header:NAME" (a Bearer value),
  // "protocol" (an offered Sec-WebSocket-Protocol that is a JWT), "cookie:NAME".
  std::vector<std::string> sources = {"query:token", "header:Authorization", "protocol", "cookie:BEARER"};
  std::vector<std::string> algorithms = {"RS256"};
  std::string public_key = "config/jwt/public.pem";
  std::string private_key = "config/jwt/private.pem";  // only for `capstan token`
  std::string passphrase;  // of private_key; or CAPSTAN_JWT_PASSPHRASE
  std::string secret;      // HS256/384/512; or CAPSTAN_JWT_SECRET
  std::string jwks;        // a JWKS file, instead of public_key
  std::string identity_claim = "username";
  Duration leeway{0};     // clock skew allowed for exp, nbf and iat (Lexik's clock_skew: 0)
  bool require_exp = true;  // a token without exp is refused, as Lexik refuses it
  std::string issuer;    // checked when set
  std::string audience;  // checked when set
  AuthProxyConfig proxy;

  bool operator==(const AuthConfig&) const = default;
};

// Maps a token's identity to a user id (SPEC section 5).
struct UsersConfig {
  UserProvider provider = UserProvider::none;
  std::string database;           // sqlite: file path; postgres: a libpq connection string
  std::string query = "SELECT id FROM user WHERE email = ?1";  // no row: fatalError
  // message: look the user up again on every message; periodic (a duration in the file,
  // "60s"): look every connected user up again every recheck_interval, and end the
  // connections of users that are gone.
  Recheck recheck = Recheck::never;
  Duration recheck_interval{0};
  unsigned workers = 2;           // threads running lookups and sql actions off the loops

  bool operator==(const UsersConfig&) const = default;
};

// The publish API (SPEC section 4): POST /publish for the web application's backend.
struct PublishConfig {
  std::string api_key;             // Bearer key; or CAPSTAN_PUBLISH_KEY; empty (both): no /publish
  size_t max_body = 1024 * 1024;   // a larger request is answered 413
  unsigned max_batch = 1000;       // publications in one array; more is answered 413

  bool operator==(const PublishConfig&) const = default;
};

// Publishing as a Mercure hub accepts it (Symfony's Mercure component, SPEC section 4).
struct MercureConfig {
  std::string path;                // e.g. "/.well-known/mercure"; empty: no Mercure endpoint
  std::string publisher_jwt_key;   // HS* secret or a PEM public key file; or CAPSTAN_MERCURE_PUBLISHER_JWT_KEY
  std::string publisher_jwt_alg = "HS256";

  bool operator==(const MercureConfig&) const = default;
};

// The web application, when Capstan calls it (SPEC 5a): the connect proxy, `http` actions, the
// `proxy` component.
struct BackendConfig {
  std::string secret;                // HMAC key of X-Capstan-Signature; or CAPSTAN_BACKEND_SECRET
  Duration timeout{5000};            // per request
  unsigned max_in_flight = 256;      // per route (the connect proxy: per server); then an error

  bool operator==(const BackendConfig&) const = default;
};

// Many nodes through Redis pub/sub (SPEC section 4).
struct ClusterConfig {
  std::string redis;              // "redis://127.0.0.1:6379"; empty: this node runs alone
  std::string channel = "capstan";  // the Redis channel the nodes of one cluster share

  bool operator==(const ClusterConfig&) const = default;
};

// One `[[routes]]` table. The keys every route has are fields; the rest belong to the route's
// component type, which declares them (ComponentType::keys) and reads them in for_route.
struct RouteConfig {
  std::string path;       // before the server prefix; default "/" + component
  std::string component;  // echo, notify, or a component registered in C++
  std::vector<std::string> protocols;  // subprotocols the route accepts
  int auth = -1;                       // -1: the component's default (notify: on, echo: off)
  RouteKeys keys;                      // the component's own keys, as the file set them

  bool operator==(const RouteConfig&) const = default;
};

struct Config {
  ServerConfig server;
  Limits limits;
  CompressionConfig compression;
  AuthConfig auth;
  UsersConfig users;
  PublishConfig publish;
  MercureConfig mercure;
  ClusterConfig cluster;
  BackendConfig backend;
  std::vector<RouteConfig> routes;
  std::string base_dir;  // the configuration file's folder; relative paths start here
  std::string source_path;  // the file it was loaded from (load_config_file), for the state file
};

// A fault in a configuration file, pointing at the key. Loading reports every fault at once,
// so a file is mended in one pass.
struct ConfigFault {
  std::error_code code;  // a ConfigError: unknown_key, wrong_type, not_a_choice, missing...
  std::string key;       // "limits.idle_timeout", "routes[1].component"
  int line = 0;          // 1-based, 0 when unknown
  std::string message;   // what is wrong and what would be right
};

struct LoadedConfig {
  Config config;
  std::vector<ConfigFault> errors;
  bool ok() const noexcept { return errors.empty(); }
};

class ComponentType;
// The component types a configuration may name, by name: what the loader checks a route's
// own keys against. builtin_component_types() (capstan/component_type.hpp) gives echo and
// notify; a program with types of its own adds them, loads with the result and gives the same
// map to its Server.
using ComponentTypes = std::map<std::string, std::shared_ptr<ComponentType>, std::less<>>;

// Without `types`: the built-in ones. A key of a type the loader is not given is unknown.
LoadedConfig load_config_file(const std::string& path);
LoadedConfig load_config_file(const std::string& path, const ComponentTypes& types);
LoadedConfig load_config_string(std::string_view toml, std::string_view source_name = "config");
LoadedConfig load_config_string(std::string_view toml, const ComponentTypes& types, std::string_view source_name = "config");

// "30s", "2m", "500ms", "1h" -> milliseconds; false when malformed.
bool parse_duration(std::string_view text, Duration& out) noexcept;
// "1MiB", "512KiB", "16MB", "4096" -> bytes; false when malformed.
bool parse_size(std::string_view text, uint64_t& out) noexcept;

}  // namespace capstan
