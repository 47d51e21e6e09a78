// parse_timestamp on arbitrary text, and format_diff on arbitrary and on nearby instants.
// Parsing never reads past the input and an accepted text gives back the same instant when
// it is printed as "YYYY-MM-DD HH:MM:SS" and parsed again; format_diff says "now" exactly for
// equal times, "ago" for the past and "in" for the future, and below a day it is the plain
// count of the largest unit (no calendar arithmetic can change that).
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "app/notify/relative_time.hpp"
#include "fuzz_common.hpp"

using capstan::app::format_diff;
using capstan::app::parse_timestamp;

namespace {

int64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return static_cast<int64_t>(v);
}

// "in 3 days" / "3 days ago" / "1 day ago" -> count 3 and unit "day".
void split(const std::string& s, bool& ago, uint64_t& count, std::string& unit) {
  std::string_view v = s;
  ago = v.size() > 4 && v.substr(v.size() - 4) == " ago";
  const bool in = v.substr(0, 3) == "in ";
  FUZZ_CHECK(ago != in);
  v = ago ? v.substr(0, v.size() - 4) : v.substr(3);
  const size_t space = v.find(' ');
  FUZZ_CHECK(space != std::string_view::npos && space > 0);
  count = 0;
  for (char c : v.substr(0, space)) {
    FUZZ_CHECK(c >= '0' && c <= '9');
    count = count * 10 + static_cast<uint64_t>(c - '0');
  }
  unit = std::string(v.substr(space + 1));
  FUZZ_CHECK(count >= 1);
  if (count == 1) {
    FUZZ_CHECK(unit.back() != 's');
  } else {
    FUZZ_CHECK(unit.back() == 's');
    unit.pop_back();
  }
}

void check_diff(int64_t from, int64_t now) {
  const std::string s = format_diff(from, now);
  if (from == now) {
    FUZZ_CHECK(s == "now");
    return;
  }
  bool ago;
  uint64_t count;
  std::string unit;
  split(s, ago, count, unit);
  FUZZ_CHECK(ago == (from < now));
  const uint64_t gap = from < now ? static_cast<uint64_t>(now) - static_cast<uint64_t>(from)
                                  : static_cast<uint64_t>(from) - static_cast<uint64_t>(now);
  if (gap < 60) {
    FUZZ_CHECK(unit == "second" && count == gap);
  } else if (gap < 3600) {
    FUZZ_CHECK(unit == "minute" && count == gap / 60);
  } else if (gap < 86400) {
    FUZZ_CHECK(unit == "hour" && count == gap / 3600);
  } else if (unit == "day") {
    FUZZ_CHECK(count <= 30 && count <= gap / 86400);
  } else if (unit == "month") {
    FUZZ_CHECK(count <= 11 && gap >= 28 * 86400ULL);
  } else {
    FUZZ_CHECK(unit == "year");
    FUZZ_CHECK(count <= gap / (365 * 86400ULL) && count + 1 >= gap / (366 * 86400ULL));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  int64_t t = 0;
  if (parse_timestamp(text, t)) {
    FUZZ_CHECK(format_diff(t, t) == "now");
    // Years 0000..9999 with an offset of up to a day either way: print it back in UTC.
    if (t >= -62167219200 && t <= 253402300799) {
      const int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
      const int64_t secs = t - days * 86400;
      // civil_from_days (Howard Hinnant), kept apart from the code under test.
      const int64_t z = days + 719468;
      const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
      const int64_t doe = z - era * 146097;
      const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
      const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
      const int64_t mp = (5 * doy + 2) / 153;
      const int64_t d = doy - (153 * mp + 2) / 5 + 1;
      const int64_t m = mp < 10 ? mp + 3 : mp - 9;
      const int64_t y = yoe + era * 400 + (m <= 2);
      char buf[64];
      std::snprintf(buf, sizeof buf, "%04" PRId64 "-%02" PRId64 "-%02" PRId64 " %02" PRId64 ":%02" PRId64 ":%02" PRId64,
                    y, m, d, secs / 3600, secs / 60 % 60, secs % 60);
      int64_t again = 0;
      FUZZ_CHECK(parse_timestamp(buf, again));
      FUZZ_CHECK(again == t);
    }
    check_diff(t, 1795255200);
  }
  if (size >= 16) {
    const int64_t a = load64(data), b = load64(data + 8);
    check_diff(a, b);
    // Nearby instants, where the calendar borrowing happens: a within 800 years of 1970, b up
    // to about 3 years either side of it.
    const int64_t near_a = a % (800LL * 366 * 86400);
    const int64_t near_b = near_a + b % (3LL * 366 * 86400);
    check_diff(near_a, near_b);
    check_diff(near_b, near_a);
  }
  return 0;
}
