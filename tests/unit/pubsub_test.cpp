// The pubsub component's pieces on their own: channel names and patterns, and the registry's
// recovery arithmetic (which history reaches back far enough), presence counts and limits;
// and the public counters it reports to /metrics through.
#include <gtest/gtest.h>

#include "capstan/metrics.hpp"
#include "components/pubsub/channel_names.hpp"
#include "components/pubsub/channel_registry.hpp"

namespace capstan::pubsub {
namespace {

TEST(ChannelNames, PrintableAsciiWithoutSpacesUpTo255Bytes) {
  EXPECT_EQ(channel_name_fault("news"), "");
  EXPECT_EQ(channel_name_fault("https://example.com/books/1"), "");
  EXPECT_NE(channel_name_fault(""), "");
  EXPECT_NE(channel_name_fault("a b"), "");
  EXPECT_NE(channel_name_fault("caf\xc3\xa9"), "");
  EXPECT_NE(channel_name_fault("tab\there"), "");
  EXPECT_EQ(channel_name_fault(std::string(255, 'x')), "");
  EXPECT_NE(channel_name_fault(std::string(256, 'x')), "");
}

TEST(ChannelNames, StarMatchesAnyRunAndIdIsTheUsersOwn) {
  EXPECT_TRUE(glob_matches("chat.*", "chat.lobby"));
  EXPECT_TRUE(glob_matches("chat.*", "chat."));
  EXPECT_FALSE(glob_matches("chat.*", "chatroom"));
  EXPECT_TRUE(glob_matches("*", "anything"));
  EXPECT_TRUE(glob_matches("a*b*c", "axxbyyc"));
  EXPECT_FALSE(glob_matches("a*b*c", "axxbyy"));
  EXPECT_TRUE(glob_matches("news", "news"));
  EXPECT_FALSE(glob_matches("news", "news2"));
  // Many stars against a long name: no exponential backtracking.
  EXPECT_FALSE(glob_matches("*a*a*a*a*a*a*a*a*b", std::string(200, 'a')));
  EXPECT_EQ(with_user_id("user.{id}", "42"), "user.42");
  EXPECT_EQ(with_user_id("{id}.{id}", "7"), "7.7");
  EXPECT_EQ(with_user_id("plain", "7"), "plain");
}

PubsubOptions history_options(uint32_t size, Duration ttl = Duration{0}) {
  PubsubOptions o;
  o.channels.push_back({"h.*", true, size, ttl});
  return o;
}

std::string frame(uint64_t offset, std::string_view epoch) { return std::to_string(offset) + "@" + std::string(epoch); }

TEST(ChannelRegistry, RecoveryReplaysWhatHistoryStillHoldsAndRefusesWhatItDoesNot) {
  const PubsubOptions options = history_options(3);
  ChannelRegistry r(options);
  const auto now = Clock::now();
  Joined first = r.join("h.1", "u1", "u1", std::nullopt, now);
  ASSERT_TRUE(first.history);
  EXPECT_EQ(first.offset, 0u);
  std::vector<uint64_t> published;
  for (int i = 0; i < 5; ++i)
    r.publish("h.1", frame, [&](const std::string&, uint64_t offset) { published.push_back(offset); }, now);
  EXPECT_EQ(published, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  // History keeps 3..5: since 2 recovers 3, 4, 5; since 5 recovers nothing, still true.
  Joined back = r.join("h.1", "u2", "u2", Since{2, first.epoch}, now);
  EXPECT_TRUE(back.recovered);
  EXPECT_EQ(back.offset, 5u);
  EXPECT_EQ(back.missed, (std::vector<std::string>{"3@" + first.epoch, "4@" + first.epoch, "5@" + first.epoch}));
  EXPECT_TRUE(r.join("h.1", "u3", "u3", Since{5, first.epoch}, now).recovered);
  EXPECT_FALSE(r.join("h.1", "u4", "u4", Since{1, first.epoch}, now).recovered);   // 2 is gone
  EXPECT_FALSE(r.join("h.1", "u5", "u5", Since{6, first.epoch}, now).recovered);   // from the future
  EXPECT_FALSE(r.join("h.1", "u6", "u6", Since{4, "other"}, now).recovered);       // another history
  // A channel without a rule has no history and numbers nothing.
  Joined plain = r.join("p", "u1", "u1", Since{0, "x"}, now);
  EXPECT_FALSE(plain.history);
  EXPECT_FALSE(plain.recovered);
  r.publish("p", frame, [&](const std::string& f, uint64_t offset) { EXPECT_EQ(offset, 0u); EXPECT_EQ(f, "0@"); }, now);
}

TEST(ChannelRegistry, HistoryOlderThanItsTtlIsNotReplayed) {
  const PubsubOptions options = history_options(100, Duration(1000));
  ChannelRegistry r(options);
  const auto then = Clock::now();
  Joined first = r.join("h.t", "", "", std::nullopt, then);
  r.publish("h.t", frame, [](const std::string&, uint64_t) {}, then);
  r.publish("h.t", frame, [](const std::string&, uint64_t) {}, then + std::chrono::seconds(2));
  Joined back = r.join("h.t", "", "", Since{0, first.epoch}, then + std::chrono::milliseconds(2500));
  EXPECT_FALSE(back.recovered);  // offset 1 expired
  Joined later = r.join("h.t", "", "", Since{1, first.epoch}, then + std::chrono::milliseconds(2500));
  EXPECT_TRUE(later.recovered);
  EXPECT_EQ(later.missed.size(), 1u);
}

TEST(ChannelRegistry, PresenceCountsConnectionsPerUserAndTheLimitHoldsAcrossUsers) {
  PubsubOptions options = history_options(0);
  options.max_subscribers_per_channel = 3;
  ChannelRegistry r(options);
  const auto now = Clock::now();
  EXPECT_TRUE(r.join("h.p", "1", "alice", std::nullopt, now).first_of_user);
  EXPECT_FALSE(r.join("h.p", "1", "alice", std::nullopt, now).first_of_user);
  EXPECT_TRUE(r.join("h.p", "2", "bob", std::nullopt, now).first_of_user);
  EXPECT_FALSE(r.join("h.p", "3", "carol", std::nullopt, now).refusal.empty());
  auto present = r.presence("h.p");
  ASSERT_EQ(present.size(), 2u);
  EXPECT_FALSE(r.leave("h.p", "1"));
  EXPECT_TRUE(r.leave("h.p", "1"));
  EXPECT_TRUE(r.leave("h.p", "2"));
  EXPECT_EQ(r.presence("h.p").size(), 0u);
  EXPECT_EQ(r.channel_count(), 0u);  // nothing left to keep
}

TEST(RegisteredCounters, SameNameAndLabelsGiveOneCounterRenderedOnce) {
  Counter& a = counter("capstan_unit_test_total", "a \"test\" counter", {{"kind", "x"}});
  Counter& b = counter("capstan_unit_test_total", "ignored", {{"kind", "y"}});
  EXPECT_EQ(&a, &counter("capstan_unit_test_total", "", {{"kind", "x"}}));
  a.add(2);
  b.add();
  std::string out;
  append_registered_counters(out);
  EXPECT_NE(out.find("# HELP capstan_unit_test_total a \\\"test\\\" counter\n# TYPE capstan_unit_test_total counter\n"
                     "capstan_unit_test_total{kind=\"x\"} 2\ncapstan_unit_test_total{kind=\"y\"} 1\n"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace capstan::pubsub
