// The /metrics counters and their text (src/app/metrics.*): label escaping, the histogram's
// cumulative buckets and +Inf, closes by code, and the counter operations. The integration
// test (tests/integration/test_metrics.py) checks the same text with real parsers.
#include "app/metrics.hpp"

#include <gtest/gtest.h>

#include <string>

namespace capstan::app::metrics {
namespace {

std::string label(std::string_view value) {
  std::string out;
  append_label_value(out, value);
  return out;
}

std::string seconds(uint64_t micros) {
  std::string out;
  append_seconds(out, micros);
  return out;
}

bool contains(const std::string& text, std::string_view line) { return text.find(line) != std::string::npos; }

TEST(MetricsText, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(label("/echo"), "/echo");
  EXPECT_EQ(label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(label("\\\\"), "\\\\\\\\");
  EXPECT_EQ(label("tab\tstays"), "tab\tstays");  // only \ " and newline are escaped (format 0.0.4)
}

TEST(MetricsText, MicrosecondsAsExactDecimalSeconds) {
  EXPECT_EQ(seconds(0), "0");
  EXPECT_EQ(seconds(500), "0.0005");
  EXPECT_EQ(seconds(1), "0.000001");
  EXPECT_EQ(seconds(1234567), "1.234567");
  EXPECT_EQ(seconds(2500000), "2.5");
  EXPECT_EQ(seconds(3000000), "3");
}

TEST(MetricsText, RoutesAreLabelledAndEscaped) {
  Snapshot s;
  s.routes.push_back({"/echo", 2, 5, 7, 70, 6, 60});
  s.routes.push_back({"/odd\"\\\npath", 0, 1, 0, 0, 0, 0});
  std::string text;
  format(s, text);
  EXPECT_TRUE(contains(text, "# HELP capstan_connections WebSocket connections open now, by route.\n"
                             "# TYPE capstan_connections gauge\n"
                             "capstan_connections{route=\"/echo\"} 2\n"
                             "capstan_connections{route=\"/odd\\\"\\\\\\npath\"} 0\n"));
  EXPECT_TRUE(contains(text, "capstan_connections_total{route=\"/echo\"} 5\n"));
  EXPECT_TRUE(contains(text, "capstan_messages_received_total{route=\"/echo\"} 7\n"));
  EXPECT_TRUE(contains(text, "capstan_bytes_received_total{route=\"/echo\"} 70\n"));
  EXPECT_TRUE(contains(text, "capstan_messages_sent_total{route=\"/echo\"} 6\n"));
  EXPECT_TRUE(contains(text, "capstan_bytes_sent_total{route=\"/echo\"} 60\n"));
}

TEST(MetricsText, EveryFamilyHasHelpThenType) {
  Snapshot s;
  std::string text;
  format(s, text);
  size_t families = 0;
  for (size_t at = text.find("# HELP "); at != std::string::npos; at = text.find("# HELP ", at + 1)) {
    const size_t name_end = text.find(' ', at + 7);
    const std::string name = text.substr(at + 7, name_end - at - 7);
    const size_t next_line = text.find('\n', at) + 1;
    EXPECT_EQ(text.compare(next_line, 8 + name.size(), "# TYPE " + name + " "), 0) << name;
    ++families;
  }
  EXPECT_EQ(families, 15u);
  EXPECT_EQ(text.back(), '\n');
}

TEST(MetricsText, HistogramBucketsAreCumulativeWithInfEqualToCount) {
  Snapshot s;
  s.handshake_buckets[0] = 3;                  // <= 0.5 ms
  s.handshake_buckets[2] = 1;                  // <= 2.5 ms
  s.handshake_buckets[kHandshakeBuckets] = 2;  // above 2.5 s
  s.handshake_sum_us = 7000123;
  std::string text;
  format(s, text);
  EXPECT_TRUE(contains(text, "# TYPE capstan_handshake_duration_seconds histogram\n"
                             "capstan_handshake_duration_seconds_bucket{le=\"0.0005\"} 3\n"
                             "capstan_handshake_duration_seconds_bucket{le=\"0.001\"} 3\n"
                             "capstan_handshake_duration_seconds_bucket{le=\"0.0025\"} 4\n"));
  EXPECT_TRUE(contains(text, "capstan_handshake_duration_seconds_bucket{le=\"2.5\"} 4\n"
                             "capstan_handshake_duration_seconds_bucket{le=\"+Inf\"} 6\n"
                             "capstan_handshake_duration_seconds_sum 7.000123\n"
                             "capstan_handshake_duration_seconds_count 6\n"));
}

TEST(MetricsText, ClosesByCodeInOrderAndReasonsAlwaysListed) {
  Snapshot s;
  s.closes[4001] = 1;
  s.closes[1000] = 2;
  s.closes_other = 3;
  s.auth_failures[static_cast<size_t>(AuthFailure::unknown_user)] = 4;
  std::string text;
  format(s, text);
  EXPECT_TRUE(contains(text, "capstan_closes_total{code=\"1000\"} 2\n"
                             "capstan_closes_total{code=\"4001\"} 1\n"
                             "capstan_closes_total{code=\"other\"} 3\n"));
  EXPECT_TRUE(contains(text, "capstan_auth_failures_total{reason=\"no_token\"} 0\n"
                             "capstan_auth_failures_total{reason=\"invalid_token\"} 0\n"
                             "capstan_auth_failures_total{reason=\"unknown_user\"} 4\n"
                             "capstan_auth_failures_total{reason=\"database\"} 0\n"));
  EXPECT_TRUE(contains(text, "capstan_limit_hits_total{kind=\"connections_per_ip\"} 0\n"));
  EXPECT_TRUE(contains(text, "capstan_handshake_failures_total{reason=\"timeout\"} 0\n"));
}

TEST(MetricsCounters, CloseCodesGetSlotsAsTheyCome) {
  LoopMetrics m;
  m.closed(1000);
  m.closed(1000);
  m.closed(1000 + CloseCodes::kSlots);  // same slot by hash: probes on
  m.closed(4001);
  Snapshot s;
  s.add(m);
  EXPECT_EQ(s.closes.at(1000), 2u);
  EXPECT_EQ(s.closes.at(1000 + CloseCodes::kSlots), 1u);
  EXPECT_EQ(s.closes.at(4001), 1u);
  EXPECT_EQ(s.closes_other, 0u);

  LoopMetrics full;
  for (uint16_t code = 3000; code < 3000 + CloseCodes::kSlots + 5; ++code) full.closed(code);
  Snapshot t;
  t.add(full);
  EXPECT_EQ(t.closes.size(), CloseCodes::kSlots);
  EXPECT_EQ(t.closes_other, 5u);
}

TEST(MetricsCounters, ConnectionLimitsAreAlsoRefusedHandshakes) {
  LoopMetrics m;
  m.limit_hit(LimitKind::messages);
  m.limit_hit(LimitKind::max_connections);
  m.limit_hit(LimitKind::connections_per_ip);
  EXPECT_EQ(m.limit_hits(LimitKind::messages).get(), 1u);
  EXPECT_EQ(m.limit_hits(LimitKind::max_connections).get(), 1u);
  EXPECT_EQ(m.handshake_failures(HandshakeFailure::too_many).get(), 2u);
}

TEST(MetricsCounters, HttpStatusesMapToReasons) {
  EXPECT_EQ(handshake_failure_for_status(400), HandshakeFailure::bad_request);
  EXPECT_EQ(handshake_failure_for_status(405), HandshakeFailure::bad_request);
  EXPECT_EQ(handshake_failure_for_status(505), HandshakeFailure::bad_request);
  EXPECT_EQ(handshake_failure_for_status(431), HandshakeFailure::too_large);
  EXPECT_EQ(handshake_failure_for_status(426), HandshakeFailure::version);
  EXPECT_EQ(handshake_failure_for_status(404), HandshakeFailure::not_found);
  EXPECT_EQ(handshake_failure_for_status(403), HandshakeFailure::origin);
  EXPECT_EQ(handshake_failure_for_status(503), HandshakeFailure::too_many);
}

TEST(MetricsCounters, HandshakeLandsInItsBucket) {
  LoopMetrics m;
  m.handshake_completed(now_us() - 30000);  // 30 ms ago: le="0.05" (unless this thread stalls 20 ms)
  Snapshot s;
  s.add(m);
  EXPECT_EQ(s.handshake_buckets[6], 1u);
  EXPECT_GE(s.handshake_sum_us, 30000u);
}

TEST(MetricsCounters, RouteCountersSurviveTheMoveIntoTheLoop) {
  RouteCounters a;
  a.received(10);
  a.sent(4);
  RouteCounters b = a;  // what moving a Route into its loop's vector does
  EXPECT_EQ(b.messages_received.get(), 1u);
  EXPECT_EQ(b.bytes_received.get(), 10u);
  EXPECT_EQ(b.messages_sent.get(), 1u);
  EXPECT_EQ(b.bytes_sent.get(), 4u);
}

}  // namespace
}  // namespace capstan::app::metrics
