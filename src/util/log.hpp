// The server's side of logging: what the configuration sets (format and level). Writing a
// line is the public API (capstan/log.hpp), shared by the server and every component so that
// both follow the same settings.
#pragma once

#include "capstan/config.hpp"
#include "capstan/log.hpp"

namespace capstan::log {

void set_format_json(bool json) noexcept;
void set_level(Level level) noexcept;
// The configuration's log settings (server.log_format, server.log_level).
void configure(LogFormat format, LogLevel level) noexcept;

}  // namespace capstan::log
