// Topic families (capstan/topics.hpp) over the in-memory transport, with two loops of one
// server turned by the test: a publication to some members reaches their connections on both
// loops, each connection once however many keys find it, nobody else; it keeps its order
// against topic publications; its count sums the loops; it is relayed to other nodes once, and
// what another node relays reaches every loop. The family's lookup is a component's own index,
// as notify's users are.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capstan/component.hpp"
#include "loop_harness.hpp"
#include "ws_test_support.hpp"

namespace capstan::app {
namespace {

using ws::test::text_frame;
using Strings = std::vector<std::string>;

Strings split(const std::string& list) {
  Strings out;
  size_t at = 0;
  for (size_t comma; (comma = list.find(',', at)) != std::string::npos; at = comma + 1) out.push_back(list.substr(at, comma - at));
  out.push_back(list.substr(at));
  return out;
}

std::optional<size_t> counted;  // publish_to_members_counted's answer, from the last loop

// "name K1,K2": this connection is member K1 and K2 of the family; "to K1,K2 text": text to
// those members; "count K1,K2 text": the same, counted; "pub T text": to topic T; "sub T".
class Members final : public Component {
 public:
  void on_start() override {
    topics().add_family("f", [this](std::string_view key, std::vector<Connection*>& found) {
      auto [first, last] = by_key_.equal_range(std::string(key));
      for (auto it = first; it != last; ++it) found.push_back(it->second);
    });
  }
  void on_close(Connection& c, CloseInfo) override {
    std::erase_if(by_key_, [&c](const auto& entry) { return entry.second == &c; });
  }
  void on_message(Connection& c, Message m) override {
    const std::string text(m.data);
    const size_t space = text.find(' ');
    const std::string verb = text.substr(0, space), rest = text.substr(space + 1);
    const size_t at = rest.find(' ');
    const std::string first = rest.substr(0, at), tail = at == std::string::npos ? "" : rest.substr(at + 1);
    if (verb == "name")
      for (const std::string& key : split(first)) by_key_.emplace(key, &c);
    if (verb == "to") topics().publish_to_members("f", split(first), tail);
    if (verb == "count") topics().publish_to_members_counted("f", split(first), tail, Opcode::text, [](size_t n) { counted = n; });
    if (verb == "pub") topics().publish(first, tail);
    if (verb == "sub") topics().subscribe(c, first);
  }

 private:
  std::multimap<std::string, Connection*> by_key_;
};

// What a cluster would send the other nodes.
struct Relayed {
  std::string family;
  Strings keys;
  std::string data;
};
class FakeRelay final : public TopicRelay {
 public:
  void relay_topic(std::string_view, std::string_view, Opcode) override { ++topics; }
  void relay_members(std::string_view family, std::span<const std::string> keys, std::string_view data, Opcode) override {
    members.push_back({std::string(family), Strings(keys.begin(), keys.end()), std::string(data)});
  }
  int topics = 0;
  std::vector<Relayed> members;
};

class TopicFamiliesTest : public test::LoopHarness {
 protected:
  void SetUp() override {
    counted.reset();
    start({{"/m", "members", [] { return std::make_unique<Members>(); }, {}, false}});
    second_ = &add_loop();
  }
  int open(LoopContext* loop = nullptr) { return open_session("/m", 0, loop); }
  void say(int fd, std::string_view text) {
    write(fd, text_frame(text));
    settle();
  }
  Strings heard(int fd) {
    Strings out;
    for (const test::ServerFrame& f : test::parse_server_frames(read_all(fd))) out.push_back(f.payload);
    return out;
  }
  LoopTopics& topics_of(LoopContext& loop) { return static_cast<LoopTopics&>(loop.routes().front().component->topics()); }
  LoopContext* second_ = nullptr;
};

TEST_F(TopicFamiliesTest, MembersOnEveryLoopGetItOnceAndNobodyElse) {
  const int alice1 = open(), alice2 = open(second_), bob = open(second_), carol = open(), sender = open(second_);
  say(alice1, "name alice,7");  // one user known by an identity and an id
  say(alice2, "name alice,7");
  say(bob, "name bob");
  say(carol, "name carol");
  say(sender, "to alice,7,bob,nobody hi");  // alice twice over: by identity and by id
  EXPECT_EQ(heard(alice1), Strings{"hi"});
  EXPECT_EQ(heard(alice2), Strings{"hi"}) << "the other loop's connection of the same user";
  EXPECT_EQ(heard(bob), Strings{"hi"});
  EXPECT_EQ(heard(carol), Strings{});
  EXPECT_EQ(heard(sender), Strings{});
  say(carol, "to 7 by id");  // from the other loop, one key
  EXPECT_EQ(heard(alice1), Strings{"by id"});
  EXPECT_EQ(heard(alice2), Strings{"by id"});
  EXPECT_EQ(heard(bob), Strings{});
}

TEST_F(TopicFamiliesTest, TheCountSumsEveryLoopAndCountsEachConnectionOnce) {
  const int a = open(), b = open(second_), c = open(second_), d = open();
  say(a, "name u,1");
  say(b, "name u,1");
  say(c, "name u,1");
  say(d, "count 1,u,u,nobody x");
  ASSERT_TRUE(counted.has_value()) << "every loop has answered after a settle";
  EXPECT_EQ(*counted, 3u);
  for (int fd : {a, b, c}) EXPECT_EQ(heard(fd), Strings{"x"});
  counted.reset();
  say(d, "count nobody y");
  ASSERT_TRUE(counted.has_value());
  EXPECT_EQ(*counted, 0u);
}

TEST_F(TopicFamiliesTest, FamilyAndTopicPublicationsOfOneLoopKeepTheirOrderOnEveryLoop) {
  const int here = open(), there = open(second_), sender = open();
  for (int fd : {here, there}) {
    say(fd, "name u");
    say(fd, "sub room");
  }
  write(sender, text_frame("pub room 1") + text_frame("to u 2") + text_frame("pub room 3") + text_frame("to u 4"));
  settle();
  EXPECT_EQ(heard(here), (Strings{"1", "2", "3", "4"}));
  EXPECT_EQ(heard(there), (Strings{"1", "2", "3", "4"}));
}

TEST_F(TopicFamiliesTest, AClosedConnectionIsNoLongerFoundAndALoopWithoutTheFamilyHasNoMembers) {
  int gone = open(second_);
  const int stays = open(), sender = open();
  say(gone, "name u");
  say(stays, "name u");
  hang_up(gone);
  say(sender, "to u after");
  EXPECT_EQ(heard(stays), Strings{"after"});
  // A family nobody registered: nothing to find, on any loop.
  EXPECT_EQ(topics_of(*ctx_).publish_to_members("other", Strings{"u"}, "x", Opcode::text), 0u);
  settle();
  EXPECT_EQ(heard(stays), Strings{});
}

TEST_F(TopicFamiliesTest, OtherNodesGetOneRelayAndWhatTheyRelayReachesEveryLoop) {
  FakeRelay relay;
  shared_.topics.relay = &relay;
  const int here = open(), there = open(second_), sender = open();
  say(here, "name u,5");
  say(there, "name u");
  say(sender, "to u,5 out");
  ASSERT_EQ(relay.members.size(), 1u) << "one relay per publication, not one per loop or key";
  EXPECT_EQ(relay.members[0].family, "f");
  EXPECT_EQ(relay.members[0].keys, (Strings{"u", "5"}));
  EXPECT_EQ(relay.members[0].data, "out");
  EXPECT_EQ(relay.topics, 0);
  heard(here);
  heard(there);
  // As the cluster delivers another node's publication: posted to every loop, sent there, and
  // not relayed again.
  auto in = std::make_shared<LoopTopics::PostedToMembers>();
  in->family = "f";
  in->keys = {"5", "u"};
  in->data = "in";
  in->opcode = Opcode::text;
  for (LoopTopics* loop : shared_.topics.loops) loop->post_members_here(in);
  settle();
  EXPECT_EQ(heard(here), Strings{"in"});
  EXPECT_EQ(heard(there), Strings{"in"});
  EXPECT_EQ(relay.members.size(), 1u);
  shared_.topics.relay = nullptr;
}

}  // namespace
}  // namespace capstan::app
