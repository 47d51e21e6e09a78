// Log lines for components, written the server's way: the format (`server.log_format`, text
// or json) and the threshold (`server.log_level`) the configuration chose, one line per call,
// each in a single write(2) to stderr so lines from different loops never interleave.
//
// Fields are key/value pairs of views, printed `key=value` in text and as JSON members in
// json, so a component's lines are as parseable as the server's own:
//
//   capstan::log::warn("payment refused", {{"user", id}, {"reason", why}});
//
// Values are copied into the line before the call returns. A call whose level is below the
// threshold returns before formatting anything; guard expensive field values with enabled().
// Logging builds a line (it allocates): it is for events, not for every message.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <utility>

namespace capstan::log {

enum class Level : uint8_t { debug, info, warn, error };

using Field = std::pair<std::string_view, std::string_view>;
using Fields = std::initializer_list<Field>;

// Whether a line of `level` would be written now (the level can change on reload).
bool enabled(Level level) noexcept;
void write(Level level, std::string_view message, Fields fields = {});

inline void debug(std::string_view message, Fields fields = {}) { write(Level::debug, message, fields); }
inline void info(std::string_view message, Fields fields = {}) { write(Level::info, message, fields); }
inline void warn(std::string_view message, Fields fields = {}) { write(Level::warn, message, fields); }
inline void error(std::string_view message, Fields fields = {}) { write(Level::error, message, fields); }

}  // namespace capstan::log
