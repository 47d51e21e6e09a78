#include "util/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "util/json_string.hpp"

namespace capstan::log {

namespace {

std::atomic<bool> g_json{false};
std::atomic<Level> g_level{Level::info};

const char* level_name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

void set_format_json(bool json) noexcept { g_json = json; }

void configure(LogFormat format, LogLevel level) noexcept {
  set_format_json(format == LogFormat::json);
  switch (level) {
    case LogLevel::debug: return set_level(Level::debug);
    case LogLevel::info: return set_level(Level::info);
    case LogLevel::warn: return set_level(Level::warn);
    case LogLevel::error: return set_level(Level::error);
  }
}
void set_level(Level level) noexcept { g_level = level; }
bool enabled(Level level) noexcept { return level >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view message, Fields fields) {
  if (!enabled(level)) return;
  std::string line;
  if (g_json) {
    line = "{\"time\":\"" + timestamp() + "\",\"level\":\"" + level_name(level) + "\",\"msg\":";
    util::append_json_string(line, message);
    for (auto& [k, v] : fields) {
      line.push_back(',');
      util::append_json_string(line, k);
      line.push_back(':');
      util::append_json_string(line, v);
    }
    line += "}\n";
  } else {
    line = timestamp() + " " + level_name(level) + " " + std::string(message);
    for (auto& [k, v] : fields) {
      line.append(" ").append(k).append("=").append(v);
    }
    line.push_back('\n');
  }
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace capstan::log
