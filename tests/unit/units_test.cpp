// parse_duration and parse_size: every unit, whitespace, malformed text and overflow.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "capstan/config.hpp"

namespace capstan {
namespace {

std::optional<int64_t> duration_ms(std::string_view text) {
  Duration d{-12345};
  if (!parse_duration(text, d)) {
    EXPECT_EQ(d.count(), -12345) << "output written on failure for '" << text << "'";
    return std::nullopt;
  }
  return d.count();
}

std::optional<uint64_t> size_bytes(std::string_view text) {
  uint64_t n = 0;
  if (!parse_size(text, n)) return std::nullopt;
  return n;
}

TEST(ParseDuration, Units) {
  EXPECT_EQ(duration_ms("0ms"), 0);
  EXPECT_EQ(duration_ms("500ms"), 500);
  EXPECT_EQ(duration_ms("30s"), 30'000);
  EXPECT_EQ(duration_ms("2m"), 120'000);
  EXPECT_EQ(duration_ms("1h"), 3'600'000);
  EXPECT_EQ(duration_ms("1d"), 86'400'000);
  EXPECT_EQ(duration_ms("0s"), 0);
  EXPECT_EQ(duration_ms("007s"), 7'000);
}

TEST(ParseDuration, SurroundingSpacesAndSpaceBeforeUnit) {
  EXPECT_EQ(duration_ms(" 30s "), 30'000);
  EXPECT_EQ(duration_ms("30 s"), 30'000);
  EXPECT_EQ(duration_ms("  5  ms"), 5);
}

TEST(ParseDuration, Malformed) {
  for (const char* bad : {"", " ", "s", "30", "30 ", "-5s", "+5s", "1.5s", "5sec", "5S", "5 m s", "5ms5", "5 h1", "5\ts",
                          "\t5s", "0x10s", "ms", "5us", "5ns", "5M", "5w", "s30"}) {
    EXPECT_EQ(duration_ms(bad), std::nullopt) << "'" << bad << "'";
  }
}

TEST(ParseDuration, Overflow) {
  // Largest value that fits in int64 milliseconds.
  EXPECT_EQ(duration_ms("9223372036854775807ms"), INT64_MAX);
  EXPECT_EQ(duration_ms("9223372036854775808ms"), std::nullopt);
  EXPECT_EQ(duration_ms("18446744073709551615ms"), std::nullopt);
  EXPECT_EQ(duration_ms("18446744073709551616ms"), std::nullopt);  // does not even fit uint64
  EXPECT_EQ(duration_ms("9223372036854775s"), 9'223'372'036'854'775'000);
  EXPECT_EQ(duration_ms("9223372036854776s"), std::nullopt);
  EXPECT_EQ(duration_ms("106751991167d"), 106751991167LL * 86'400'000);
  EXPECT_EQ(duration_ms("106751991168d"), std::nullopt);
  EXPECT_EQ(duration_ms("5124095576030431h"), std::nullopt);  // wraps uint64 when multiplied
  EXPECT_EQ(duration_ms("99999999999999999999999s"), std::nullopt);
}

TEST(ParseSize, Units) {
  EXPECT_EQ(size_bytes("0"), 0u);
  EXPECT_EQ(size_bytes("4096"), 4096u);
  EXPECT_EQ(size_bytes("4096B"), 4096u);
  EXPECT_EQ(size_bytes("1KB"), 1000u);
  EXPECT_EQ(size_bytes("1kB"), 1000u);
  EXPECT_EQ(size_bytes("16MB"), 16'000'000u);
  EXPECT_EQ(size_bytes("2GB"), 2'000'000'000u);
  EXPECT_EQ(size_bytes("512KiB"), 512u * 1024);
  EXPECT_EQ(size_bytes("1MiB"), 1u << 20);
  EXPECT_EQ(size_bytes("16MiB"), 16u << 20);
  EXPECT_EQ(size_bytes("4GiB"), uint64_t{4} << 30);
  EXPECT_EQ(size_bytes(" 1 MiB "), 1u << 20);
}

TEST(ParseSize, Malformed) {
  for (const char* bad : {"", " ", "MiB", "-1", "+1", "1.5MiB", "1mib", "1MIB", "1Mb", "1kb", "1K", "1M", "1G", "1TB",
                          "1TiB", "1 B B", "1b", "0x10", "1KiB1", "one"}) {
    EXPECT_EQ(size_bytes(bad), std::nullopt) << "'" << bad << "'";
  }
}

TEST(ParseSize, Overflow) {
  EXPECT_EQ(size_bytes("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(size_bytes("18446744073709551616"), std::nullopt);
  EXPECT_EQ(size_bytes("17179869183GiB"), uint64_t{17179869183} << 30);
  EXPECT_EQ(size_bytes("17179869184GiB"), std::nullopt);  // 2^34 GiB = 2^64
  EXPECT_EQ(size_bytes("18446744073709552KB"), std::nullopt);
  EXPECT_EQ(size_bytes("18446744073709551KB"), 18446744073709551000u);
}

}  // namespace
}  // namespace capstan
