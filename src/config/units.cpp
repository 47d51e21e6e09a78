// Durations ("30s", "2m", "500ms") and sizes ("1MiB", "16KB", "4096") as config values.
#include <charconv>
#include <string_view>

#include "capstan/config.hpp"

namespace capstan {

namespace {

// Splits "123unit" into the number and the unit; false when there is no leading number.
bool split_number(std::string_view text, uint64_t& number, std::string_view& unit) noexcept {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end == text.data()) return false;
  unit = text.substr(static_cast<size_t>(end - text.data()));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return true;
}

bool multiply(uint64_t a, uint64_t b, uint64_t& out) noexcept { return !__builtin_mul_overflow(a, b, &out); }

}  // namespace

bool parse_duration(std::string_view text, Duration& out) noexcept {
  uint64_t n;
  std::string_view unit;
  if (!split_number(text, n, unit)) return false;
  uint64_t scale;
  if (unit == "ms") scale = 1;
  else if (unit == "s") scale = 1000;
  else if (unit == "m") scale = 60'000;
  else if (unit == "h") scale = 3'600'000;
  else if (unit == "d") scale = 86'400'000;
  else return false;
  uint64_t ms;
  if (!multiply(n, scale, ms) || ms > static_cast<uint64_t>(INT64_MAX)) return false;
  out = Duration(static_cast<int64_t>(ms));
  return true;
}

bool parse_size(std::string_view text, uint64_t& out) noexcept {
  uint64_t n;
  std::string_view unit;
  if (!split_number(text, n, unit)) return false;
  uint64_t scale;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "KB" || unit == "kB") scale = 1000;
  else if (unit == "MB") scale = 1000'000;
  else if (unit == "GB") scale = 1000'000'000;
  else if (unit == "KiB") scale = 1ULL << 10;
  else if (unit == "MiB") scale = 1ULL << 20;
  else if (unit == "GiB") scale = 1ULL << 30;
  else return false;
  return multiply(n, scale, out);
}

}  // namespace capstan
