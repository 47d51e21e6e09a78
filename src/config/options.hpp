// The option table: every configuration key with its type, default, bounds and meaning,
// declared once; a component type's own route keys are declared by the type (ComponentType::keys).
// The loader, `capstan check` and the reference read both.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capstan/config.hpp"
#include "capstan/route_keys.hpp"

namespace capstan::config {

// The same types and values as a component's keys (capstan/route_keys.hpp). `choice`: a string
// out of the option's `choices`; the value's `integer` is its index, the order of the enum it
// maps to. `tables` is for component keys only.
using Type = KeyType;
using Choices = std::span<const std::string_view>;
using Value = KeyValue;

struct ServerOption {
  std::string_view section;  // "server", "limits"
  std::string_view key;
  Type type;
  std::string_view default_text;  // as it would be written in the file
  std::string_view help;
  int64_t min = 0, max = INT64_MAX;  // integers, durations (ms), sizes (bytes)
  void (*apply)(Config&, const Value&);
  Choices choices = {};
};

// The keys every route has, whatever its component.
struct RouteOption {
  std::string_view key;
  Type type;
  std::string_view default_text;
  std::string_view help;
  void (*apply)(RouteConfig&, const Value&);
  Choices choices = {};
};

std::span<const ServerOption> server_options();
std::span<const RouteOption> route_options();
std::string_view type_name(Type type);
// "\"a\", \"b\" or \"c\"": the choices as an error message or the reference lists them.
std::string list_choices(Choices choices);
// The spelling of enum value `index` of an option's choices (for --json output and logs).
template <class Enum>
std::string_view choice_name(Choices choices, Enum value) {
  const auto i = static_cast<size_t>(value);
  return i < choices.size() ? choices[i] : std::string_view("?");
}
// users.recheck's text read once, for the option and for the loader's check: "never",
// "message" or a duration of 1 s or more (the interval); nullopt for anything else.
struct RecheckSetting {
  Recheck mode = Recheck::never;
  Duration interval{0};
};
std::optional<RecheckSetting> parse_recheck(std::string_view text) noexcept;
// The choices of the enum-valued keys, in enum order: the one place that spells them.
extern const std::string_view kLogFormats[2], kLogLevels[4], kOnLimits[2], kCompressionModes[2], kUserProviders[3],
    kProxyModes[2], kTlsVersions[2];

}  // namespace capstan::config
