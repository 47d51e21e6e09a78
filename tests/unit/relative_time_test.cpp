// format_diff against KnpTimeBundle's English formatDiff on PHP 8.1+ (timelib_diff_with_tzid in
// UTC), and parse_timestamp's accepted and refused texts.
//
// PHP is not run here: the expected strings were derived by hand from timelib's algorithm
// (relative_time.cpp sums it up). The month-end cases say how; several are the cases of PHP's
// own ext/date/tests/DateTime_data-february.inc (bug 49081), read as `$now->diff($from)`:
// examine_diff(end = from, start = now, "P+..." → "in", "P-..." → "ago").
#include "app/notify/relative_time.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace capstan::app {
namespace {

int64_t at(const char* text) {
  int64_t t = 0;
  EXPECT_TRUE(parse_timestamp(text, t)) << text;
  return t;
}

// The diff as KnpTimeBundle shows `from` when it is `now`.
std::string diff(const char* from, const char* now) { return format_diff(at(from), at(now)); }

TEST(RelativeTime, ZeroIsNow) {
  EXPECT_EQ(format_diff(0, 0), "now");
  EXPECT_EQ(diff("2026-11-21 10:00:00", "2026-11-21 10:00:00"), "now");
}

TEST(RelativeTime, SecondsBothDirections) {
  const int64_t now = at("2026-11-21 10:00:00");
  EXPECT_EQ(format_diff(now - 1, now), "1 second ago");
  EXPECT_EQ(format_diff(now - 2, now), "2 seconds ago");
  EXPECT_EQ(format_diff(now - 59, now), "59 seconds ago");
  EXPECT_EQ(format_diff(now + 1, now), "in 1 second");
  EXPECT_EQ(format_diff(now + 45, now), "in 45 seconds");
}

TEST(RelativeTime, MinutesNeverRounded) {
  const int64_t now = at("2026-11-21 10:00:00");
  EXPECT_EQ(format_diff(now - 60, now), "1 minute ago");
  EXPECT_EQ(format_diff(now - 119, now), "1 minute ago");
  EXPECT_EQ(format_diff(now - 120, now), "2 minutes ago");
  EXPECT_EQ(format_diff(now - 3599, now), "59 minutes ago");
  EXPECT_EQ(format_diff(now + 60, now), "in 1 minute");
  EXPECT_EQ(format_diff(now + 5 * 60 + 30, now), "in 5 minutes");
}

TEST(RelativeTime, HoursNeverRounded) {
  const int64_t now = at("2026-11-21 10:00:00");
  EXPECT_EQ(format_diff(now - 3600, now), "1 hour ago");
  EXPECT_EQ(format_diff(now - (3600 + 59 * 60), now), "1 hour ago");  // 1h59m
  EXPECT_EQ(format_diff(now - (2 * 3600 - 1), now), "1 hour ago");
  EXPECT_EQ(format_diff(now - 2 * 3600, now), "2 hours ago");
  EXPECT_EQ(format_diff(now - (86400 - 1), now), "23 hours ago");
  EXPECT_EQ(format_diff(now + 3600, now), "in 1 hour");
  EXPECT_EQ(format_diff(now + 2 * 3600 + 1, now), "in 2 hours");
}

TEST(RelativeTime, Days) {
  EXPECT_EQ(diff("2026-11-20 10:00:00", "2026-11-21 10:00:00"), "1 day ago");
  EXPECT_EQ(diff("2026-11-20 10:00:01", "2026-11-21 10:00:00"), "23 hours ago");
  EXPECT_EQ(diff("2026-11-14 09:00:00", "2026-11-21 10:00:00"), "7 days ago");
  EXPECT_EQ(diff("2026-11-22 10:00:00", "2026-11-21 10:00:00"), "in 1 day");
  EXPECT_EQ(diff("2026-11-24 23:59:59", "2026-11-21 10:00:00"), "in 3 days");
  // A calendar day across midnight is still 1 second.
  EXPECT_EQ(diff("2026-11-20 23:59:59", "2026-11-21 00:00:00"), "1 second ago");
}

TEST(RelativeTime, Months) {
  EXPECT_EQ(diff("2026-10-21 10:00:00", "2026-11-21 10:00:00"), "1 month ago");
  EXPECT_EQ(diff("2026-10-21 10:00:01", "2026-11-21 10:00:00"), "30 days ago");  // Oct has 31
  EXPECT_EQ(diff("2026-08-01 00:00:00", "2026-11-21 10:00:00"), "3 months ago");
  EXPECT_EQ(diff("2026-12-21 10:00:00", "2026-11-21 10:00:00"), "in 1 month");
  EXPECT_EQ(diff("2027-04-30 00:00:00", "2026-11-21 10:00:00"), "in 5 months");
}

TEST(RelativeTime, Years) {
  EXPECT_EQ(diff("2025-11-21 10:00:00", "2026-11-21 10:00:00"), "1 year ago");
  EXPECT_EQ(diff("2025-11-21 10:00:01", "2026-11-21 10:00:00"), "11 months ago");
  EXPECT_EQ(diff("2019-01-01 00:00:00", "2026-11-21 10:00:00"), "7 years ago");
  EXPECT_EQ(diff("2027-11-21 10:00:00", "2026-11-21 10:00:00"), "in 1 year");
  EXPECT_EQ(diff("2036-02-01 00:00:00", "2026-11-21 10:00:00"), "in 9 years");
}

TEST(RelativeTime, NewYearBoundary) {
  // rt = {y 1, m -11, d -30, h -23, i -59, s -59}: s, i, h carry down to d -31; m -11 -> m 1,
  // y 0; d -31 borrows December (31) when inverted, January's previous month (December)
  // when not: everything ends at 0 but the second.
  EXPECT_EQ(diff("2025-12-31 23:59:59", "2026-01-01 00:00:00"), "1 second ago");
  EXPECT_EQ(diff("2026-01-01 00:00:00", "2025-12-31 23:59:59"), "in 1 second");
  EXPECT_EQ(diff("2025-12-31 00:00:00", "2026-01-01 00:00:00"), "1 day ago");
  EXPECT_EQ(diff("2025-12-01 00:00:00", "2026-01-01 00:00:00"), "1 month ago");
}

TEST(RelativeTime, MonthEndBorrowsTheRightMonth) {
  // from 2026-01-31, now 2026-03-01 ("ago", inverted): rt = {m 2, d -30}; the borrow uses the
  // earlier date's month, January (31): d 1, m 1 -> "1 month 1 day".
  EXPECT_EQ(diff("2026-01-31 00:00:00", "2026-03-01 00:00:00"), "1 month ago");
  // The mirror ("in", not inverted) borrows from the months before the later date's month:
  // February (28): d -2, m 1; January (31): d 29, m 0 -> "29 days".
  EXPECT_EQ(diff("2026-03-01 00:00:00", "2026-01-31 00:00:00"), "in 29 days");
  // Hours carried into the days first: rt = {m 2, d -30, h -22} -> h 2, d -31; inverted:
  // January gives d 0, m 1. Not inverted: February then January gives d 28, m 0.
  EXPECT_EQ(diff("2026-01-31 23:00:00", "2026-03-01 01:00:00"), "1 month ago");
  EXPECT_EQ(diff("2026-03-01 01:00:00", "2026-01-31 23:00:00"), "in 28 days");
  // February 28 to March 27: inverted borrows February (28): d 27.
  EXPECT_EQ(diff("2026-02-28 00:00:00", "2026-03-27 00:00:00"), "27 days ago");
  EXPECT_EQ(diff("2026-02-28 00:00:00", "2026-03-28 00:00:00"), "1 month ago");
  // January 30 to February 28: inverted borrows January (31): d 29.
  EXPECT_EQ(diff("2026-01-30 00:00:00", "2026-02-28 00:00:00"), "29 days ago");
  EXPECT_EQ(diff("2026-02-28 00:00:00", "2026-01-30 00:00:00"), "in 29 days");
  // March 31 to May 1: "ago" borrows March (31): d 1, m 1; "in" borrows April (30): d 0, m 1.
  EXPECT_EQ(diff("2026-03-31 00:00:00", "2026-05-01 00:00:00"), "1 month ago");
  EXPECT_EQ(diff("2026-05-01 00:00:00", "2026-03-31 00:00:00"), "in 1 month");
  // A year less a day: rt = {y 1, d -1}; inverted borrows June 2025 (30): d 29, m -1 -> 11.
  EXPECT_EQ(diff("2025-06-15 00:00:00", "2026-06-14 00:00:00"), "11 months ago");
  EXPECT_EQ(diff("2026-06-14 00:00:00", "2025-06-15 00:00:00"), "in 11 months");
}

TEST(RelativeTime, LeapYears) {
  // The non-inverted borrow of March 1 from January 31 goes through February: 29 days in
  // 2024 (d -1, then January: 30), 28 in 2023 (d -2, then January: 29).
  EXPECT_EQ(diff("2024-03-01 00:00:00", "2024-01-31 00:00:00"), "in 30 days");
  EXPECT_EQ(diff("2023-03-01 00:00:00", "2023-01-31 00:00:00"), "in 29 days");
  EXPECT_EQ(diff("2024-01-31 00:00:00", "2024-03-01 00:00:00"), "1 month ago");
  // Inverted from February 29: rt = {m 1, d -1} borrows February 2024 (29): d 28.
  EXPECT_EQ(diff("2024-02-29 00:00:00", "2024-03-28 00:00:00"), "28 days ago");
  EXPECT_EQ(diff("2025-02-28 00:00:00", "2025-03-27 00:00:00"), "27 days ago");
  // Feb 29 to Feb 28 next year: rt = {y 1, d -1} -> d 28 (Feb 2024), m -1 -> 11 months.
  EXPECT_EQ(diff("2024-02-29 00:00:00", "2025-02-28 00:00:00"), "11 months ago");
  EXPECT_EQ(diff("2025-02-28 00:00:00", "2024-02-29 00:00:00"), "in 11 months");
  // Feb 29 to Mar 1 next year: rt = {y 1, m 1, d -28} -> d 1, m 0: a year.
  EXPECT_EQ(diff("2024-02-29 00:00:00", "2025-03-01 00:00:00"), "1 year ago");
  // Four Februaries on, a day short: {y 4, d -1} -> 3 years 11 months 28 days.
  EXPECT_EQ(diff("2020-02-29 00:00:00", "2024-02-28 00:00:00"), "3 years ago");
  // 1900 is not a leap year, 2000 is.
  EXPECT_EQ(diff("1900-03-01 00:00:00", "1900-01-31 00:00:00"), "in 29 days");
  EXPECT_EQ(diff("2000-03-01 00:00:00", "2000-01-31 00:00:00"), "in 30 days");
}

TEST(RelativeTime, PhpBug49081Cases) {
  // DateTime_data-february.inc: the "P+" rows are "in", the "P-" rows "ago".
  EXPECT_EQ(diff("2010-03-31", "2010-03-01"), "in 30 days");    // __1  +0Y0M30D
  EXPECT_EQ(diff("2010-04-01", "2010-03-01"), "in 1 month");    // __2  +0Y1M0D
  EXPECT_EQ(diff("2010-04-30", "2010-03-31"), "in 30 days");    // __5  +0Y0M30D
  EXPECT_EQ(diff("2010-04-30", "2010-03-29"), "in 1 month");    // __7  +0Y1M1D
  EXPECT_EQ(diff("2010-02-28", "2010-01-31"), "in 28 days");    // __14 +0Y0M28D
  EXPECT_EQ(diff("2010-02-28", "2010-01-28"), "in 1 month");    // __17 +0Y1M0D
  EXPECT_EQ(diff("2010-03-01", "2010-01-31"), "in 29 days");    // __20 +0Y0M29D
  EXPECT_EQ(diff("2010-03-27", "2010-01-31"), "in 1 month");    // __21 +0Y1M24D
  EXPECT_EQ(diff("2010-03-31", "2010-01-30"), "in 2 months");   // __26 +0Y2M1D
  EXPECT_EQ(diff("2010-03-27", "2010-02-28"), "in 27 days");    // __28 +0Y0M27D
  EXPECT_EQ(diff("2010-03-01", "2010-03-31"), "30 days ago");   // negative__1  -0Y0M30D
  EXPECT_EQ(diff("2010-03-31", "2010-04-30"), "30 days ago");   // negative__5  -0Y0M30D
  EXPECT_EQ(diff("2010-01-31", "2010-02-28"), "28 days ago");   // negative__14 -0Y0M28D
  EXPECT_EQ(diff("2010-01-31", "2010-03-01"), "1 month ago");   // negative__20 -0Y1M1D
  EXPECT_EQ(diff("2010-02-28", "2010-03-27"), "27 days ago");   // negative__28 -0Y0M27D
  EXPECT_EQ(diff("2010-02-28", "2010-03-28"), "1 month ago");   // negative__29 -0Y1M0D
  // Years: +6Y11M30D and -6Y11M28D (February 2000 has 29 days).
  EXPECT_EQ(diff("2007-02-06", "2000-02-07"), "in 6 years");
  EXPECT_EQ(diff("2000-02-07", "2007-02-06"), "6 years ago");
  EXPECT_EQ(diff("2007-01-07", "2000-02-07"), "in 6 years");    // +6Y11M0D
}

TEST(RelativeTime, ExtremeInputsDoNotOverflow) {
  constexpr int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(format_diff(lo, lo), "now");
  EXPECT_NE(format_diff(lo, hi).find("years ago"), std::string::npos);
  EXPECT_NE(format_diff(hi, lo).find("years"), std::string::npos);
  EXPECT_EQ(format_diff(-1, 0), "1 second ago");
  EXPECT_EQ(diff("0970-01-01", "1970-01-01"), "1000 years ago");
}

TEST(RelativeTimeParse, AcceptedForms) {
  int64_t t = -1;
  ASSERT_TRUE(parse_timestamp("2026-11-21 10:00:00", t));
  EXPECT_EQ(t, 1795255200);
  ASSERT_TRUE(parse_timestamp("2026-11-21T10:00:00", t));
  EXPECT_EQ(t, 1795255200);
  ASSERT_TRUE(parse_timestamp("2026-11-21T10:00:00Z", t));
  EXPECT_EQ(t, 1795255200);
  ASSERT_TRUE(parse_timestamp("2026-11-21 10:00:00+00", t));
  EXPECT_EQ(t, 1795255200);
  ASSERT_TRUE(parse_timestamp("2026-11-21 10:00:00.123+02", t));
  EXPECT_EQ(t, 1795248000);
  ASSERT_TRUE(parse_timestamp("2026-11-21 10:00:00+02:00", t));
  EXPECT_EQ(t, 1795248000);
  ASSERT_TRUE(parse_timestamp("2026-11-21 10:00:00+0200", t));
  EXPECT_EQ(t, 1795248000);
  ASSERT_TRUE(parse_timestamp("2026-11-21 10:00:00-05:30", t));
  EXPECT_EQ(t, 1795275000);
  ASSERT_TRUE(parse_timestamp("2026-11-21T10:00:00.123456789Z", t));
  EXPECT_EQ(t, 1795255200);
  ASSERT_TRUE(parse_timestamp("2026-11-21 10:00:00.5", t));
  EXPECT_EQ(t, 1795255200);
  ASSERT_TRUE(parse_timestamp("2026-11-21", t));
  EXPECT_EQ(t, 1795219200);
  ASSERT_TRUE(parse_timestamp("2024-02-29", t));
  EXPECT_EQ(t, 1709164800);
  ASSERT_TRUE(parse_timestamp("1970-01-01 00:00:00", t));
  EXPECT_EQ(t, 0);
  ASSERT_TRUE(parse_timestamp("1969-12-31 23:59:59", t));
  EXPECT_EQ(t, -1);
  ASSERT_TRUE(parse_timestamp("0000-01-01", t));
  EXPECT_EQ(t, -62167219200);
  ASSERT_TRUE(parse_timestamp("9999-12-31 23:59:59", t));
  EXPECT_EQ(t, 253402300799);
}

TEST(RelativeTimeParse, RefusedForms) {
  const char* bad[] = {
      "", "2026", "2026-11", "2026-11-2", "2026-1-21", " 2026-11-21", "2026-11-21 ",
      "2026/11/21", "1795255200", "2026-11-21Z", "2026-11-21+02", "2026-11-21 10:00",
      "2026-11-21 10:00:0", "2026-11-21x10:00:00", "2026-11-21t10:00:00", "2026-11-21 10:00:00z",
      "2026-11-21  10:00:00", "2026-11-21 10:00:00 +02", "2026-11-21 10:00:00.",
      "2026-11-21 10:00:00.1234567890", "2026-11-21 10:00:00+2", "2026-11-21 10:00:00+02:0",
      "2026-11-21 10:00:00+020", "2026-11-21 10:00:00+02:00:00", "2026-11-21 10:00:00+24",
      "2026-11-21 10:00:00+02:60", "2026-11-21 10:00:00Z ", "2026-00-10", "2026-13-01",
      "2026-11-00", "2026-11-31", "2026-02-29", "1900-02-29", "2026-11-21 24:00:00",
      "2026-11-21 10:60:00", "2026-11-21 10:00:60", "-026-11-21", "+2026-11-21",
      "2026-11-21 10:00:00 BC", "infinity",
  };
  for (const char* text : bad) {
    int64_t t = 12345;
    EXPECT_FALSE(parse_timestamp(text, t)) << '"' << text << '"';
    EXPECT_EQ(t, 12345) << "left untouched on failure: " << text;
  }
  int64_t t = 0;
  EXPECT_FALSE(parse_timestamp(std::string_view("2026-11-21\0 10:00:00", 20), t)) << "embedded NUL";
}

}  // namespace
}  // namespace capstan::app
