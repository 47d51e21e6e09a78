#include "config/options.hpp"

namespace capstan::config {

namespace {

constexpr int64_t kDay = 24LL * 3600 * 1000;
constexpr int64_t kGiB = 1LL << 30;

#define SET(field, member) [](Config& c, const Value& v) { c.field = v.member; }

const ServerOption kServerOptions[] = {
    {"server", "name", Type::string, "\"capstan\"", "instance name for list / stop / status", 0, 0, SET(server.name, text)},
    {"server", "listen", Type::string_or_list, "\"127.0.0.1:8080\"", "HOST:PORT, or a list of them", 0, 0, SET(server.listen, list)},
    {"server", "threads", Type::integer, "0", "event loops; 0 = one per core", 0, 1024,
     [](Config& c, const Value& v) { c.server.threads = static_cast<unsigned>(v.integer); }},
    {"server", "prefix", Type::string, "\"\"", "prepended to every route, e.g. \"/socket.io\"", 0, 0, SET(server.prefix, text)},
    {"server", "runtime_dir", Type::string, "\"\"", "state files; default $XDG_RUNTIME_DIR/capstan or /tmp/capstan-<uid>", 0, 0, SET(server.runtime_dir, text)},
    {"server", "static_dir", Type::string, "\"\"", "files served to plain GETs", 0, 0, SET(server.static_dir, text)},
    {"server", "allowed_origins", Type::string_list, "[]", "Origin values allowed to upgrade; empty: any", 0, 0, SET(server.allowed_origins, list)},
    {"server", "log_format", Type::string, "\"text\"", "\"text\" or \"json\"", 0, 0, SET(server.log_format, text)},
    {"server", "shutdown_timeout", Type::duration, "\"10s\"", "how long a stop lets queued sends drain", 0, kDay, SET(server.shutdown_timeout, duration)},

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

    {"compression", "enabled", Type::boolean, "true", "negotiate permessage-deflate when a client offers it", 0, 0, SET(compression.enabled, boolean)},
    {"compression", "level", Type::integer, "1", "zlib compression level, 0-9", 0, 9,
     [](Config& c, const Value& v) { c.compression.level = static_cast<int>(v.integer); }},
    {"compression", "threshold", Type::size, "\"256B\"", "messages smaller than this are sent uncompressed", 0, 1LL << 30, SET(compression.threshold, size)},
    {"compression", "mode", Type::string, "\"shared\"", "\"shared\" (per loop, no context takeover) or \"dedicated\" (per connection)", 0, 0, SET(compression.mode, text)},
};

#undef SET

const RouteOption kRouteOptions[] = {
    {"path", Type::string, "URL path; default \"/\" + component (the server prefix is prepended)",
     [](RouteConfig& r, const Value& v) { r.path = v.text; }},
    {"component", Type::string, "echo, or a component registered in C++",
     [](RouteConfig& r, const Value& v) { r.component = v.text; }},
    {"protocols", Type::string_list, "subprotocols this route accepts (Sec-WebSocket-Protocol)",
     [](RouteConfig& r, const Value& v) { r.protocols = v.list; }},
};

}  // namespace

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
  }
  return "?";
}

}  // namespace capstan::config
