// Dates as KnpTimeBundle's English DateTimeFormatter::formatDiff renders them: "now", then
// the largest non-zero unit of PHP's DateTime::diff (years, months, days, hours, minutes,
// seconds), never rounded, "1 minute ago" / "5 minutes ago" / "in 2 hours".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace capstan::app {

// `from` relative to `now`, both Unix seconds (UTC calendar, as PHP with UTC as its zone).
std::string format_diff(int64_t from_unix_seconds, int64_t now_unix_seconds);

// "2026-11-21 10:00:00" (SQLite's datetime('now'), UTC), "2026-11-21T10:00:00Z",
// "2026-11-21 10:00:00.123+02", "2026-11-21 10:00:00+02:00", "2026-11-21": a timestamp
// without a zone is UTC. False when `text` is none of these.
bool parse_timestamp(std::string_view text, int64_t& unix_seconds) noexcept;

}  // namespace capstan::app
