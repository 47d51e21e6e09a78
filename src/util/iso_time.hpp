// Wall-clock times as ISO 8601, for /status, state files and the CLI.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

namespace capstan::util {

// 1700000000 -> "2023-11-14T22:13:20Z"
inline std::string iso8601_utc(int64_t unix_seconds) {
  const time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace capstan::util
