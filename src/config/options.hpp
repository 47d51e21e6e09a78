// The option table: every configuration key with its type, default, bounds and meaning,
// declared once. The loader, `capstan check` and `capstan config --describe` read it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capstan/config.hpp"

namespace capstan::config {

enum class Type : uint8_t { string, string_list, string_or_list, integer, boolean, duration, size };

// A parsed value, already checked against the option's type and bounds.
struct Value {
  std::string text;
  std::vector<std::string> list;
  int64_t integer = 0;
  bool boolean = false;
  Duration duration{};
  uint64_t size = 0;
};

struct ServerOption {
  std::string_view section;  // "server", "limits"
  std::string_view key;
  Type type;
  std::string_view default_text;  // as it would be written in the file
  std::string_view help;
  int64_t min = 0, max = INT64_MAX;  // integers, durations (ms), sizes (bytes)
  void (*apply)(Config&, const Value&);
};

struct RouteOption {
  std::string_view key;
  Type type;
  std::string_view help;
  void (*apply)(RouteConfig&, const Value&);
};

struct ActionOption {
  std::string_view key;
  Type type;
  std::string_view help;
  void (*apply)(ActionConfig&, const Value&);
};

std::span<const ServerOption> server_options();
std::span<const ActionOption> action_options();
std::span<const RouteOption> route_options();
std::string_view type_name(Type type);

}  // namespace capstan::config
