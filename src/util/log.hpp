// One line per event, human-readable by default or JSON (`server.log_format = "json"`).
// Each line leaves in a single write(2), so lines from different loops never interleave.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <utility>

#include "capstan/config.hpp"

namespace capstan::log {

enum class Level : uint8_t { debug, info, warn, error };

void set_format_json(bool json) noexcept;
void set_level(Level level) noexcept;
// The configuration's log settings (server.log_format, server.log_level).
void configure(LogFormat format, LogLevel level) noexcept;
bool enabled(Level level) noexcept;
// `fields` are extra key=value pairs for JSON and text alike.
void write(Level level, std::string_view message,
           std::initializer_list<std::pair<std::string_view, std::string_view>> fields = {});

inline void info(std::string_view m, std::initializer_list<std::pair<std::string_view, std::string_view>> f = {}) { write(Level::info, m, f); }
inline void warn(std::string_view m, std::initializer_list<std::pair<std::string_view, std::string_view>> f = {}) { write(Level::warn, m, f); }
inline void error(std::string_view m, std::initializer_list<std::pair<std::string_view, std::string_view>> f = {}) { write(Level::error, m, f); }

}  // namespace capstan::log
