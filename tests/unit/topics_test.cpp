// Topics (capstan/topics.hpp) over the in-memory transport, with two loops of one server
// turned by the test: a publish reaches subscribers on both loops and nobody else, in the
// order published; unsubscribing and closing leave topics, and emptied topics are dropped.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "capstan/component.hpp"
#include "loop_harness.hpp"
#include "ws_test_support.hpp"

namespace capstan::app {
namespace {

using ws::test::text_frame;
using Strings = std::vector<std::string>;

// "sub T", "unsub T", "pub T text", "burst T n": a room component in four commands. Answers
// what subscribe/unsubscribe returned, so the test sees refusals.
class Rooms final : public Component {
 public:
  void on_message(Connection& c, Message m) override {
    const std::string text(m.data);
    const size_t space = text.find(' ');
    const std::string verb = text.substr(0, space), rest = text.substr(space + 1);
    if (verb == "sub") c.send_text(topics().subscribe(c, rest) ? "subscribed" : "refused");
    if (verb == "unsub") c.send_text(topics().unsubscribe(c, rest) ? "unsubscribed" : "refused");
    if (verb == "pub") {
      const size_t at = rest.find(' ');
      topics().publish(rest.substr(0, at), rest.substr(at + 1));
    }
    if (verb == "burst") {
      const size_t at = rest.find(' ');
      const int n = std::stoi(rest.substr(at + 1));
      for (int i = 0; i < n; ++i) topics().publish(rest.substr(0, at), std::to_string(i));
    }
  }
};

class TopicsTest : public test::LoopHarness {
 protected:
  void SetUp() override {
    start({{"/rooms", "rooms", [] { return std::make_unique<Rooms>(); }, {}, false}});
    second_ = &add_loop();
  }
  int open(LoopContext* loop = nullptr) { return open_session("/rooms", 0, loop); }
  void say(int fd, std::string_view text) {
    write(fd, text_frame(text));
    settle();
  }
  Strings heard(int fd) {
    Strings out;
    for (const test::ServerFrame& f : test::parse_server_frames(read_all(fd))) out.push_back(f.payload);
    return out;
  }
  LoopTopics& topics_of(LoopContext& loop) {
    return static_cast<LoopTopics&>(loop.routes().front().component->topics());
  }
  LoopContext* second_ = nullptr;
};

TEST_F(TopicsTest, APublishReachesTheSubscribersOfEveryLoopAndNobodyElse) {
  const int a = open(), b = open(), c = open(second_), d = open(second_);
  say(a, "sub room");
  say(c, "sub room");
  say(d, "sub elsewhere");
  EXPECT_EQ(heard(a), Strings{"subscribed"});
  EXPECT_EQ(heard(c), Strings{"subscribed"});
  EXPECT_EQ(heard(d), Strings{"subscribed"});
  say(b, "pub room hello");  // a publisher need not subscribe
  EXPECT_EQ(heard(a), Strings{"hello"});
  EXPECT_EQ(heard(c), Strings{"hello"}) << "the other loop's subscriber";
  EXPECT_EQ(heard(b), Strings{});
  EXPECT_EQ(heard(d), Strings{});
}

TEST_F(TopicsTest, PublicationsArriveInTheOrderPublishedOnEveryLoop) {
  const int a = open(), c = open(second_);
  say(a, "sub room");
  say(c, "sub room");
  heard(a);
  heard(c);
  say(a, "burst room 200");
  Strings expected;
  for (int i = 0; i < 200; ++i) expected.push_back(std::to_string(i));
  EXPECT_EQ(heard(a), expected);
  EXPECT_EQ(heard(c), expected);
}

TEST_F(TopicsTest, SubscribingTwiceIsRefusedAndUnsubscribingLeaves) {
  const int a = open(), b = open(), c = open();
  for (int fd : {a, b, c}) say(fd, "sub room");
  say(b, "sub room");
  EXPECT_EQ(heard(b), (Strings{"subscribed", "refused"}));
  say(a, "unsub room");  // from the front: the last subscriber moves into its place
  say(a, "unsub room");
  EXPECT_EQ(heard(a), (Strings{"subscribed", "unsubscribed", "refused"}));
  heard(c);
  say(c, "pub room one");
  EXPECT_EQ(heard(a), Strings{});
  EXPECT_EQ(heard(b), Strings{"one"});
  EXPECT_EQ(heard(c), Strings{"one"});
  EXPECT_EQ(topics_of(*ctx_).subscribers_here("room").size(), 2u);
}

TEST_F(TopicsTest, AClosedConnectionLeavesEveryTopicAndEmptiedTopicsAreDropped) {
  int c = open(second_);
  const int d = open(second_), a = open();
  for (const char* topic : {"sub one", "sub two", "sub three"}) say(c, topic);
  say(d, "sub two");
  LoopTopics& second = topics_of(*second_);
  EXPECT_EQ(second.topic_count(), 3u);
  hang_up(c);
  EXPECT_EQ(second.topic_count(), 1u) << "one and three had only the closed connection";
  EXPECT_EQ(second.subscribers_here("two").size(), 1u);
  heard(d);
  say(a, "pub two still here");
  EXPECT_EQ(heard(d), Strings{"still here"});
}

TEST_F(TopicsTest, ManySubscribersLeavingInAnyOrderKeepTheTableConsistent) {
  std::vector<int> fds;
  for (int i = 0; i < 40; ++i) fds.push_back(open(i % 2 ? second_ : nullptr));
  for (int fd : fds) say(fd, "sub room");
  for (int fd : fds) heard(fd);
  for (size_t i = 0; i < fds.size(); i += 3) say(fds[i], "unsub room");  // every third leaves
  for (size_t i = 1; i < fds.size(); i += 3) hang_up(fds[i]);            // and the next one closes
  say(fds[2], "pub room left");
  for (size_t i = 0; i < fds.size(); ++i) {
    if (fds[i] < 0) continue;
    const Strings got = heard(fds[i]);
    if (i % 3 == 0) EXPECT_EQ(got, Strings{"unsubscribed"}) << i;
    else EXPECT_EQ(got, Strings{"left"}) << i;
  }
  EXPECT_EQ(topics_of(*ctx_).subscribers_here("room").size() + topics_of(*second_).subscribers_here("room").size(), 13u);
}

}  // namespace
}  // namespace capstan::app
