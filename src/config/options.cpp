#include "config/options.hpp"

namespace capstan::config {

const std::string_view kLogFormats[2] = {"text", "json"};
const std::string_view kLogLevels[4] = {"debug", "info", "warn", "error"};
const std::string_view kOnLimits[2] = {"error", "close"};
const std::string_view kCompressionModes[2] = {"shared", "dedicated"};
const std::string_view kUserProviders[3] = {"none", "sqlite", "postgres"};
const std::string_view kProxyModes[2] = {"fallback", "only"};
const std::string_view kTlsVersions[2] = {"1.2", "1.3"};

namespace {

constexpr int64_t kDay = 24LL * 3600 * 1000;
constexpr int64_t kGiB = 1LL << 30;

#define SET(field, member) [](Config& c, const Value& v) { c.field = v.member; }
#define CHOOSE(field, Enum) [](Config& c, const Value& v) { c.field = static_cast<Enum>(v.integer); }

const ServerOption kServerOptions[] = {
    {"server", "name", Type::string, "\"capstan\"", "instance name for list / stop / status", 0, 0, SET(server.name, text)},
    {"server", "listen", Type::string_or_list, "\"127.0.0.1:8080\"", "HOST:PORT, or a list of them", 0, 0, SET(server.listen, list)},
    {"server", "threads", Type::integer, "0", "event loops; 0 = one per core", 0, 1024,
     [](Config& c, const Value& v) { c.server.threads = static_cast<unsigned>(v.integer); }},
    {"server", "prefix", Type::string, "\"\"", "prepended to every route, e.g. \"/socket.io\"", 0, 0, SET(server.prefix, text)},
    {"server", "runtime_dir", Type::string, "\"\"", "state files; default $XDG_RUNTIME_DIR/capstan or /tmp/capstan-<uid>", 0, 0, SET(server.runtime_dir, text)},
    {"server", "static_dir", Type::string, "\"\"", "files served to plain GETs", 0, 0, SET(server.static_dir, text)},
    {"server", "allowed_origins", Type::string_list, "[]", "Origin values allowed to upgrade; empty: any", 0, 0, SET(server.allowed_origins, list)},
    {"server", "log_format", Type::choice, "\"text\"", "one line per event, human-readable or JSON", 0, 0, CHOOSE(server.log_format, LogFormat), kLogFormats},
    {"server", "log_level", Type::choice, "\"info\"", "the least severe level logged", 0, 0, CHOOSE(server.log_level, LogLevel), kLogLevels},
    {"server", "shutdown_timeout", Type::duration, "\"10s\"", "how long a stop lets queued sends drain", 0, kDay, SET(server.shutdown_timeout, duration)},
    {"server", "trusted_proxies", Type::string_list, "[]",
     "proxies whose X-Forwarded-For or PROXY header names the client: addresses or CIDR blocks, e.g. [\"127.0.0.1\", \"10.0.0.0/8\"]; empty: none",
     0, 0, SET(server.trusted_proxies, list)},
    {"server", "proxy_protocol", Type::boolean, "false",
     "connections from trusted_proxies start with a PROXY protocol header (v1 or v2; nginx proxy_protocol on, HAProxy send-proxy)",
     0, 0, SET(server.proxy_protocol, boolean)},

    {"server.tls", "listen", Type::string_or_list, "[]", "HOST:PORT served with TLS (wss://, https://), beside server.listen's plain ones", 0, 0, SET(server.tls.listen, list)},
    {"server.tls", "cert", Type::string_or_list, "[]", "PEM certificate chain, leaf first; a list for several, chosen by SNI from their names (the first is the default); reread on SIGHUP", 0, 0, SET(server.tls.cert, list)},
    {"server.tls", "key", Type::string_or_list, "[]", "PEM private key of each certificate, in the same order", 0, 0, SET(server.tls.key, list)},
    {"server.tls", "passphrase", Type::string, "\"\"", "for encrypted keys; or CAPSTAN_TLS_PASSPHRASE", 0, 0, SET(server.tls.passphrase, text)},
    {"server.tls", "min_version", Type::choice, "\"1.2\"", "the oldest TLS version accepted", 0, 0,
     [](Config& c, const Value& v) { c.server.tls.min_version = std::string(kTlsVersions[v.integer]); }, kTlsVersions},
    {"server.tls", "ciphers", Type::string, "\"\"", "TLS 1.2 cipher list in OpenSSL's syntax; empty: OpenSSL's default", 0, 0, SET(server.tls.ciphers, text)},
    {"server.tls", "ciphersuites", Type::string, "\"\"", "TLS 1.3 cipher suites in OpenSSL's syntax; empty: OpenSSL's default", 0, 0, SET(server.tls.ciphersuites, text)},

    {"limits", "max_message_size", Type::size, "\"1MiB\"", "largest frame or reassembled message; then close 1009", 1, 4 * kGiB, SET(limits.max_message_size, size)},
    {"limits", "max_header_size", Type::size, "\"16KiB\"", "largest HTTP request head; then 431", 256, 1 << 20,
     [](Config& c, const Value& v) { c.limits.max_header_size = static_cast<size_t>(v.size); }},
    {"limits", "handshake_timeout", Type::duration, "\"10s\"", "time allowed from accept to a complete upgrade request", 1, kDay, SET(limits.handshake_timeout, duration)},
    {"limits", "idle_timeout", Type::duration, "\"120s\"", "silence after which a connection is closed (pings count as traffic)", 1, kDay, SET(limits.idle_timeout, duration)},
    {"limits", "ping_interval", Type::duration, "\"30s\"", "silence after which the server pings", 1, kDay, SET(limits.ping_interval, duration)},
    {"limits", "close_timeout", Type::duration, "\"5s\"", "wait for the peer's close frame or hang-up", 1, kDay, SET(limits.close_timeout, duration)},
    {"limits", "send_buffer", Type::size, "\"16MiB\"", "unsent bytes per connection; a slower reader is closed with 1008", 1024, 64 * kGiB,
     [](Config& c, const Value& v) { c.limits.send_buffer = static_cast<size_t>(v.size); }},
    {"limits", "max_connections", Type::integer, "100000", "concurrent connections in total; then 503", 1, 100'000'000,
     [](Config& c, const Value& v) { c.limits.max_connections = static_cast<uint32_t>(v.integer); }},
    {"limits", "connections_per_ip", Type::integer, "1000", "concurrent connections per client address; then 429", 1, 100'000'000,
     [](Config& c, const Value& v) { c.limits.connections_per_ip = static_cast<uint32_t>(v.integer); }},
    {"limits", "connection_rate_per_ip", Type::integer, "0", "new connections per second per client address, 0 = off; then 429", 0, 1'000'000,
     [](Config& c, const Value& v) { c.limits.connection_rate_per_ip = static_cast<uint32_t>(v.integer); }},
    {"limits", "messages_per_second", Type::integer, "100", "per connection, a token bucket refilled at this rate, 0 = off", 0, 1'000'000,
     [](Config& c, const Value& v) { c.limits.messages_per_second = static_cast<uint32_t>(v.integer); }},
    {"limits", "message_burst", Type::integer, "200", "depth of that bucket: messages allowed at once", 1, 1'000'000,
     [](Config& c, const Value& v) { c.limits.message_burst = static_cast<uint32_t>(v.integer); }},
    {"limits", "on_limit", Type::choice, "\"error\"", "a message over the rate: refused with an error (the connection stays) or close 1008", 0, 0, CHOOSE(limits.on_limit, OnLimit), kOnLimits},

    {"compression", "enabled", Type::boolean, "true", "negotiate permessage-deflate when a client offers it", 0, 0, SET(compression.enabled, boolean)},
    {"compression", "level", Type::integer, "1", "zlib compression level, 0-9", 0, 9,
     [](Config& c, const Value& v) { c.compression.level = static_cast<int>(v.integer); }},
    {"compression", "threshold", Type::size, "\"256B\"", "messages smaller than this are sent uncompressed", 0, 1LL << 30, SET(compression.threshold, size)},
    {"compression", "mode", Type::choice, "\"shared\"", "codecs per loop without context takeover, or per connection with it", 0, 0, CHOOSE(compression.mode, CompressionMode), kCompressionModes},

    {"auth", "required", Type::boolean, "true", "false: anonymous connections allowed, the user attached when a token is valid", 0, 0, SET(auth.required, boolean)},
    {"auth", "sources", Type::string_list, "[\"query:token\", \"header:Authorization\", \"protocol\", \"cookie:BEARER\"]",
     "where the JWT is looked for, in order", 0, 0, SET(auth.sources, list)},
    {"auth", "algorithms", Type::string_or_list, "[\"RS256\"]", "accepted JWT algorithms: HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512, EdDSA", 0, 0, SET(auth.algorithms, list)},
    {"auth", "public_key", Type::string, "\"config/jwt/public.pem\"", "PEM public key (Lexik's config/jwt/public.pem works as it is)", 0, 0, SET(auth.public_key, text)},
    {"auth", "private_key", Type::string, "\"config/jwt/private.pem\"", "PEM private key, only for `capstan token`", 0, 0, SET(auth.private_key, text)},
    {"auth", "passphrase", Type::string, "\"\"", "private key passphrase; or CAPSTAN_JWT_PASSPHRASE", 0, 0, SET(auth.passphrase, text)},
    {"auth", "secret", Type::string, "\"\"", "HS256/384/512 secret; or CAPSTAN_JWT_SECRET", 0, 0, SET(auth.secret, text)},
    {"auth", "jwks", Type::string, "\"\"", "a JWKS file, as an alternative to public_key", 0, 0, SET(auth.jwks, text)},
    {"auth", "identity_claim", Type::string, "\"username\"", "the claim naming the user (Lexik: username)", 0, 0, SET(auth.identity_claim, text)},
    {"auth", "leeway", Type::duration, "\"0s\"", "clock skew allowed for exp, nbf and iat (Lexik's clock_skew default)", 0, kDay, SET(auth.leeway, duration)},
    {"auth", "require_exp", Type::boolean, "true", "refuse tokens without exp, as Lexik does", 0, 0, SET(auth.require_exp, boolean)},
    {"auth", "issuer", Type::string, "\"\"", "required iss, when set", 0, 0, SET(auth.issuer, text)},
    {"auth", "audience", Type::string, "\"\"", "required aud, when set", 0, 0, SET(auth.audience, text)},

    {"users", "provider", Type::choice, "\"none\"", "where users are looked up; none: the token is trusted", 0, 0, CHOOSE(users.provider, UserProvider), kUserProviders},
    {"users", "database", Type::string, "\"\"", "sqlite: file path; postgres: a libpq connection string", 0, 0, SET(users.database, text)},
    {"users", "query", Type::string, "\"SELECT id FROM user WHERE email = ?1\"", "identity -> user id; no row: fatalError", 0, 0, SET(users.query, text)},
    {"users", "recheck", Type::string, "\"never\"", "\"never\", \"message\" (look the user up on every message) or a duration of 1s or more (look every connected user up that often)", 0, 0,
     [](Config& c, const Value& v) {
       // A text that is none of these is the loader's fault to report (it names the line).
       const RecheckSetting r = parse_recheck(v.text).value_or(RecheckSetting{});
       c.users.recheck = r.mode;
       c.users.recheck_interval = r.interval;
     }},
    {"users", "workers", Type::integer, "2", "threads running user lookups, sql actions and components' blocking work", 1, 256,
     [](Config& c, const Value& v) { c.users.workers = static_cast<unsigned>(v.integer); }},

    {"auth.proxy", "url", Type::string, "\"\"", "the connect proxy: each new connection's request is POSTed here; empty: none", 0, 0, SET(auth.proxy.url, text)},
    {"auth.proxy", "mode", Type::choice, "\"fallback\"", "fallback: a JWT first, the proxy when there is no token; only: the proxy alone", 0, 0,
     CHOOSE(auth.proxy.mode, ProxyMode), kProxyModes},

    {"backend", "secret", Type::string, "\"\"", "HMAC key of X-Capstan-Signature on requests to the application; or CAPSTAN_BACKEND_SECRET", 0, 0, SET(backend.secret, text)},
    {"backend", "timeout", Type::duration, "\"5s\"", "per request to the application", 1, kDay, SET(backend.timeout, duration)},
    {"backend", "max_in_flight", Type::integer, "256", "requests to the application in flight per route; then an error", 1, 1'000'000,
     [](Config& c, const Value& v) { c.backend.max_in_flight = static_cast<unsigned>(v.integer); }},

    {"publish", "api_key", Type::string, "\"\"", "Bearer key of POST /publish; or CAPSTAN_PUBLISH_KEY; empty: no publish API", 0, 0, SET(publish.api_key, text)},
    {"publish", "max_body", Type::size, "\"1MiB\"", "largest publish request; then 413", 1, kGiB,
     [](Config& c, const Value& v) { c.publish.max_body = static_cast<size_t>(v.size); }},
    {"publish", "max_batch", Type::integer, "1000", "publications in one JSON array; then 413", 1, 1'000'000,
     [](Config& c, const Value& v) { c.publish.max_batch = static_cast<unsigned>(v.integer); }},

    {"cluster", "redis", Type::string, "\"\"", "Redis that nodes share deliveries through, e.g. \"redis://127.0.0.1:6379\"; empty: one node", 0, 0, SET(cluster.redis, text)},
    {"cluster", "channel", Type::string, "\"capstan\"", "the Redis pub/sub channel of this cluster's nodes", 0, 0, SET(cluster.channel, text)},

    {"mercure", "path", Type::string, "\"\"", "Mercure hub path, e.g. \"/.well-known/mercure\"; empty: none", 0, 0, SET(mercure.path, text)},
    {"mercure", "publisher_jwt_key", Type::string, "\"\"", "HS* secret or PEM public key file for publishers' JWTs; or CAPSTAN_MERCURE_PUBLISHER_JWT_KEY", 0, 0, SET(mercure.publisher_jwt_key, text)},
    {"mercure", "publisher_jwt_alg", Type::string, "\"HS256\"", "the publishers' JWT algorithm: HS256/384/512, RS256/384/512, ES256/384/512...", 0, 0, SET(mercure.publisher_jwt_alg, text)},
};

#undef SET
#undef CHOOSE

const RouteOption kRouteOptions[] = {
    {"path", Type::string, "\"/\" + component", "URL path; default \"/\" + component (the server prefix is prepended)",
     [](RouteConfig& r, const Value& v) { r.path = v.text; }},
    {"component", Type::string, "(required)", "echo, notify, or a component registered in C++; its own keys are below",
     [](RouteConfig& r, const Value& v) { r.component = v.text; }},
    {"protocols", Type::string_list, "[]", "subprotocols this route accepts (Sec-WebSocket-Protocol)",
     [](RouteConfig& r, const Value& v) { r.protocols = v.list; }},
    {"auth", Type::boolean, "the component's", "authenticate connections; default true for notify, false for echo",
     [](RouteConfig& r, const Value& v) { r.auth = v.boolean ? 1 : 0; }},
};

}  // namespace

std::optional<RecheckSetting> parse_recheck(std::string_view text) noexcept {
  if (text == "never") return RecheckSetting{};
  if (text == "message") return RecheckSetting{Recheck::message, Duration{0}};
  Duration every{};
  if (parse_duration(text, every) && every.count() >= 1000) return RecheckSetting{Recheck::periodic, every};
  return std::nullopt;
}

std::span<const ServerOption> server_options() { return kServerOptions; }
std::span<const RouteOption> route_options() { return kRouteOptions; }

std::string_view type_name(Type type) {
  switch (type) {
    case Type::string: return "a string";
    case Type::string_list: return "a list of strings";
    case Type::string_or_list: return "a string or a list of strings";
    case Type::integer: return "an integer";
    case Type::boolean: return "true or false";
    case Type::duration: return "a duration such as \"30s\"";
    case Type::size: return "a size such as \"1MiB\"";
    case Type::choice: return "one of the listed strings";
    case Type::tables: return "an array of tables";
  }
  return "?";
}

std::string list_choices(Choices choices) {
  std::string out;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i) out += i + 1 == choices.size() ? " or " : ", ";
    out += '"';
    out += choices[i];
    out += '"';
  }
  return out;
}

}  // namespace capstan::config
