// KnpTimeBundle's English formatDiff, and the timestamp texts the databases hand back.
//
// formatDiff (KnpTimeBundle src/DateTimeFormatter.php) does `$to->diff($from)` with $to = now,
// then renders the first non-zero of y, m, d, h, i, s as "diff.ago.<unit>" when the interval
// is inverted (from is before now) and "diff.in.<unit>" otherwise; all zero is "diff.empty".
//
// DateTime::diff is timelib's timelib_diff (interval.c) as shipped with PHP 8.1 and later
// (timelib 2021.x/2022.x): two times in the same named zone (here "UTC", PHP's default zone
// set to UTC) take timelib_diff_with_tzid, which for UTC reduces to
//   1. sort_old_to_new: order by wall fields; swapping sets invert;
//   2. field-wise later - earlier (y, m, d, h, i, s);
//   3. timelib_do_rel_normalize(base = invert ? earlier : later): carry s -> i -> h -> d and
//      m -> y, then do_range_limit_days_relative borrows days for a negative d: when not
//      inverted, from the months *before* the later date's month (dec_month, then its length);
//      when inverted, from the earlier date's month and onwards (its length, then inc_month);
//      then m -> y again.
//   The DST corrections that follow never apply in UTC (offset 0, no transitions).
// PHP 8.0 and older (timelib 2020 and before) diffed through the Unix timestamps and borrowed
// days differently; those results are not reproduced. Times are whole seconds here, while
// PHP's "now" carries microseconds: for a `from` in the future PHP's interval is that fraction
// shorter, so at an exact boundary PHP says "in 59 seconds" where this says "in 1 minute"
// (and "now" for one second ahead).
#include "app/notify/relative_time.hpp"

#include <cstdio>
#include <utility>

namespace capstan::app {

namespace {

struct Civil {
  int64_t y, m, d, h, i, s;
};

constexpr int64_t kSecondsPerDay = 86400;

bool is_leap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int64_t days_in_month(int64_t y, int64_t m) {
  static constexpr int kDays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m];
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a % b < 0) != (b < 0)); }

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, as timelib).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = floor_div(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Civil civil_from_unix(int64_t t) {
  // Floor division without forming days * 86400, which overflows near INT64_MIN.
  const bool before_midnight = t % kSecondsPerDay < 0;
  const int64_t days = t / kSecondsPerDay - before_midnight;
  const int64_t secs = t % kSecondsPerDay + (before_midnight ? kSecondsPerDay : 0);
  const int64_t z = days + 719468;
  const int64_t era = floor_div(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return Civil{yoe + era * 400 + (m <= 2), m, d, secs / 3600, secs % 3600 / 60, secs % 60};
}

// timelib's do_range_limit(start = 0, end = adj, adj): brings *a into [0, adj), carrying
// into *b.
void range_limit(int64_t adj, int64_t& a, int64_t& b) {
  if (a < 0) {
    const int64_t borrow = (-a - 1) / adj + 1;
    b -= borrow;
    a += adj * borrow;
  }
  if (a >= adj) {
    b += a / adj;
    a %= adj;
  }
}

// timelib's do_range_limit_days_relative (see the top of the file for the two directions).
void range_limit_days_relative(int64_t year, int64_t month, Civil& rt, bool invert) {
  while (rt.d < 0) {
    if (!invert) {
      if (--month < 1) month += 12, --year;
      rt.d += days_in_month(year, month);
      --rt.m;
    } else {
      rt.d += days_in_month(year, month);
      --rt.m;
      if (++month > 12) month -= 12, ++year;
    }
  }
}

std::string render(int64_t count, const char* unit, bool ago) {
  char buf[64];
  if (count == 1) {
    std::snprintf(buf, sizeof buf, ago ? "1 %s ago" : "in 1 %s", unit);
  } else {
    std::snprintf(buf, sizeof buf, ago ? "%lld %ss ago" : "in %lld %ss", static_cast<long long>(count), unit);
  }
  return buf;
}

// Fixed-width digits; false unless all of text[pos, pos + n) are digits.
bool digits(std::string_view text, size_t pos, size_t n, int64_t& out) {
  if (pos + n > text.size()) return false;
  out = 0;
  for (size_t k = pos; k < pos + n; ++k) {
    if (text[k] < '0' || text[k] > '9') return false;
    out = out * 10 + (text[k] - '0');
  }
  return true;
}

}  // namespace

std::string format_diff(int64_t from_unix_seconds, int64_t now_unix_seconds) {
  // $now->diff($from): timelib_diff(one = now, two = from); sorting swaps when now is later.
  const bool invert = now_unix_seconds > from_unix_seconds;
  const Civil earlier = civil_from_unix(invert ? from_unix_seconds : now_unix_seconds);
  const Civil later = civil_from_unix(invert ? now_unix_seconds : from_unix_seconds);
  Civil rt{later.y - earlier.y, later.m - earlier.m, later.d - earlier.d,
           later.h - earlier.h, later.i - earlier.i, later.s - earlier.s};

  // timelib_do_rel_normalize, base = invert ? one (the earlier) : two (the later).
  range_limit(60, rt.s, rt.i);
  range_limit(60, rt.i, rt.h);
  range_limit(24, rt.h, rt.d);
  range_limit(12, rt.m, rt.y);
  const Civil& base = invert ? earlier : later;
  range_limit_days_relative(base.y, base.m, rt, invert);
  range_limit(12, rt.m, rt.y);

  const std::pair<int64_t, const char*> units[] = {
      {rt.y, "year"}, {rt.m, "month"}, {rt.d, "day"}, {rt.h, "hour"}, {rt.i, "minute"}, {rt.s, "second"}};
  for (const auto& [count, unit] : units) {
    if (count != 0) return render(count, unit, invert);
  }
  return "now";
}

bool parse_timestamp(std::string_view text, int64_t& unix_seconds) noexcept {
  // YYYY-MM-DD
  int64_t y, mo, d, h = 0, mi = 0, s = 0;
  if (!digits(text, 0, 4, y) || text.size() < 10 || text[4] != '-' || !digits(text, 5, 2, mo) ||
      text[7] != '-' || !digits(text, 8, 2, d)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return false;
  size_t pos = 10;
  int64_t offset = 0;
  if (pos < text.size()) {
    // [T ]HH:MM:SS
    if ((text[pos] != 'T' && text[pos] != ' ') || !digits(text, pos + 1, 2, h) || text.size() < pos + 9 ||
        text[pos + 3] != ':' || !digits(text, pos + 4, 2, mi) || text[pos + 6] != ':' ||
        !digits(text, pos + 7, 2, s)) {
      return false;
    }
    if (h > 23 || mi > 59 || s > 59) return false;
    pos += 9;
    // .fraction (1 to 9 digits; below a second, so dropped)
    if (pos < text.size() && text[pos] == '.') {
      size_t n = 0;
      while (pos + 1 + n < text.size() && text[pos + 1 + n] >= '0' && text[pos + 1 + n] <= '9') ++n;
      if (n == 0 || n > 9) return false;
      pos += 1 + n;
    }
    // Z, +HH, +HHMM, +HH:MM (or -)
    if (pos < text.size()) {
      if (text[pos] == 'Z') {
        ++pos;
      } else if (text[pos] == '+' || text[pos] == '-') {
        const int64_t sign = text[pos] == '-' ? -1 : 1;
        int64_t oh, om = 0;
        if (!digits(text, pos + 1, 2, oh)) return false;
        pos += 3;
        if (pos < text.size()) {
          if (text[pos] == ':') ++pos;
          if (!digits(text, pos, 2, om)) return false;
          pos += 2;
        }
        if (oh > 23 || om > 59) return false;
        offset = sign * (oh * 3600 + om * 60);
      } else {
        return false;
      }
    }
    if (pos != text.size()) return false;
  }
  unix_seconds = days_from_civil(y, mo, d) * kSecondsPerDay + h * 3600 + mi * 60 + s - offset;
  return true;
}

}  // namespace capstan::app
