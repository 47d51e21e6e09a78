// The output path over the in-memory transport (loop_harness.hpp): what a connection is owed
// within a turn (deferred frames) counts against its send buffer, buffered_amount and
// SendStatus; a slow reader is failed alone, and its component hears of it only after its
// own call returned; frames keep their order across the cork, the deferred output and the
// outbox; more deferred frames than one sendmsg takes still end with the close frame; and
// jobs offloaded for one connection are all answered, however many are in flight.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/connection_impl.hpp"
#include "app/ws_session.hpp"
#include "capstan/component.hpp"
#include "db/database.hpp"
#include "db/worker_pool.hpp"
#include "loop_harness.hpp"
#include "ws_test_support.hpp"

namespace capstan::app {
namespace {

using test::ServerFrame;
using ws::test::text_frame;

// Keeps its open connections in order, as a channel keeps its subscribers, and lets each test
// script what a message does. A connection that fails leaves the set in on_error, as a
// channel component would unsubscribe it.
struct Hub {
  std::vector<Connection*> members;
  std::vector<std::string> events;
  bool sending = false;  // inside a send call of the test's handler
  std::function<void(Connection&, std::string_view)> on_message;

  size_t index_of(const Connection& c) const {
    return static_cast<size_t>(std::find(members.begin(), members.end(), &c) - members.begin());
  }
};

class HubComponent final : public Component {
 public:
  explicit HubComponent(Hub& hub) : hub_(hub) {}
  void on_open(Connection& c) override { hub_.members.push_back(&c); }
  void on_message(Connection& c, Message m) override {
    if (hub_.on_message) hub_.on_message(c, m.data);
  }
  void on_error(Connection& c, const Error& e) override {
    if (hub_.sending) hub_.events.push_back("on_error inside a send call");
    hub_.events.push_back("error " + std::to_string(hub_.index_of(c)) + " " + std::to_string(close_code_of(e.code())));
    std::erase(hub_.members, &c);
  }
  void on_close(Connection& c, CloseInfo) override { std::erase(hub_.members, &c); }

 private:
  Hub& hub_;
};

class OutputPathTest : public test::LoopHarness {
 protected:
  void SetUp() override {
    config_.limits.send_buffer = 64 * 1024;
    start({{"/hub", "hub", [this] { return std::make_unique<HubComponent>(hub_); }, {}, false}});
  }
  int open(int server_send_buffer = 0) { return open_session("/hub", server_send_buffer); }
  std::vector<ServerFrame> frames_of(int fd) { return test::parse_server_frames(read_all(fd)); }
  static std::vector<std::string> payloads(const std::vector<ServerFrame>& frames) {
    std::vector<std::string> out;
    for (const ServerFrame& f : frames) out.push_back(f.payload.size() > 16 ? "big" + std::to_string(f.payload.size()) : f.payload);
    return out;
  }
  static bool readable(int fd) {
    char byte;
    return ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
  }

  Hub hub_;
};

using Strings = std::vector<std::string>;

TEST_F(OutputPathTest, BufferedAmountAndSendStatusCountWhatTheTurnAlreadyOwes) {
  const int a = open(), b = open();
  std::vector<SendStatus> statuses;
  std::vector<size_t> buffered;
  hub_.on_message = [&](Connection&, std::string_view) {
    Connection& to = *hub_.members[1];  // not the connection being handled: deferred
    for (int i = 0; i < 4; ++i) {
      statuses.push_back(to.send_text(std::string(10'000, 'x')));
      buffered.push_back(to.buffered_amount());
    }
  };
  write(a, text_frame("go"));
  settle();
  // 10,004 bytes a frame against a 64 KiB cap: backpressure past half of it.
  EXPECT_EQ(statuses, (std::vector<SendStatus>{SendStatus::sent, SendStatus::sent, SendStatus::sent, SendStatus::backpressure}));
  EXPECT_EQ(buffered, (std::vector<size_t>{10'004, 20'008, 30'012, 40'016}));
  EXPECT_EQ(payloads(frames_of(b)), (Strings{"big10000", "big10000", "big10000", "big10000"}));
  EXPECT_TRUE(hub_.events.empty());
}

TEST_F(OutputPathTest, ASlowReaderIsFailedAloneAndHearsOfItAfterTheCall) {
  const int a = open(), slow = open(4096), c = open();
  bool c_sent_early = true;
  std::vector<SendStatus> statuses;
  hub_.on_message = [&](Connection&, std::string_view) {
    Connection* to_slow = hub_.members[1];
    hub_.members[2]->send_text("for c");
    hub_.sending = true;
    for (int i = 0; i < 20; ++i) statuses.push_back(to_slow->send_text(std::string(10'000, 's')));
    hub_.sending = false;
    c_sent_early = readable(c);
    hub_.events.push_back("handler returned");
  };
  write(a, text_frame("go"));
  settle();
  EXPECT_FALSE(c_sent_early) << "one slow reader must not end the batching of the others";
  EXPECT_NE(std::find(statuses.begin(), statuses.end(), SendStatus::dropped), statuses.end())
      << "20 x 10 kB to a reader that reads nothing exceeds a 64 KiB send buffer within the turn";
  EXPECT_EQ(hub_.events, (Strings{"handler returned", "error 1 1008"}));
  EXPECT_EQ(payloads(frames_of(c)), Strings{"for c"});
  // The slow reader still gets what was accepted, then the close frame saying why.
  const std::vector<ServerFrame> got = test::parse_server_frames(read_until_hung_up(slow));
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().opcode, 0x8);
  EXPECT_EQ(test::close_code_in(got.back()), close_code::policy_violation);
  EXPECT_EQ(got.back().payload.substr(2), describe(WsError::send_buffer_full));
  EXPECT_EQ(hub_.members.size(), 2u);
}

TEST_F(OutputPathTest, SendToManyNeverCallsTheComponentBackWhileItIterates) {
  const int a = open(), slow = open(4096), c = open();
  size_t queued = 0;
  hub_.on_message = [&](Connection&, std::string_view) {
    for (int i = 0; i < 6; ++i) hub_.members[1]->send_text(std::string(10'000, 's'));  // near the cap
    hub_.sending = true;
    queued = Connection::send_to_many(hub_.members, std::string(30'000, 'm'));  // over it
    hub_.sending = false;
  };
  write(a, text_frame("go"));
  settle();
  EXPECT_EQ(hub_.events, Strings{"error 1 1008"}) << "the failure reaches on_error after send_to_many returned";
  EXPECT_EQ(queued, 2u) << "everyone but the slow reader";
  EXPECT_EQ(payloads(frames_of(a)), Strings{"big30000"});
  EXPECT_EQ(payloads(frames_of(c)), Strings{"big30000"});
  const std::vector<ServerFrame> got = test::parse_server_frames(read_until_hung_up(slow));
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(test::close_code_in(got.back()), close_code::policy_violation);
}

TEST_F(OutputPathTest, FramesKeepTheirOrderAcrossCorkDeferredOutputAndBroadcasts) {
  const int a = open(), b = open(), c = open();
  hub_.on_message = [&](Connection& from, std::string_view) {
    Connection* to_a = hub_.members[0];
    Connection* to_b = hub_.members[1];
    Connection* to_c = hub_.members[2];
    to_b->send_text("1");
    Connection* bca[] = {to_b, to_c, to_a};
    Connection::send_to_many(bca, "2");
    to_b->send_text(std::string(20'000, '3'));  // past the gather size: its own iovec
    from.send_text("a");                        // the handled connection's cork
    Connection* abc[] = {to_a, to_b, to_c};
    Connection::send_to_many(abc, "4");
  };
  write(a, text_frame("go"));
  settle();
  EXPECT_EQ(payloads(frames_of(a)), (Strings{"2", "a", "4"}));
  EXPECT_EQ(payloads(frames_of(b)), (Strings{"1", "2", "big20000", "4"}));
  EXPECT_EQ(payloads(frames_of(c)), (Strings{"2", "4"}));
}

TEST_F(OutputPathTest, MoreDeferredFramesThanOneSendmsgTakesStillEndWithTheCloseFrame) {
  const int a = open(), b = open(), c = open();
  hub_.on_message = [&](Connection&, std::string_view) {
    std::vector<Connection*> bc = {hub_.members[1], hub_.members[2]};
    // c's frames are all shared with b: an iovec each, 1,100 of them (IOV_MAX is 1,024).
    for (int i = 0; i < 1100; ++i) Connection::send_to_many(bc, "message " + std::to_string(100'000 + i) + " ......");
    // A fault of c's found in the same turn (as its own read would): our close frame is
    // deferred after the 1,100 frames, and c is draining.
    WsSession::fail(static_cast<ConnectionImpl&>(*hub_.members[2]), WsError::message_too_big);
  };
  write(a, text_frame("go"));
  settle();
  EXPECT_EQ(test::parse_server_frames(read_all(b)).size(), 1100u);
  bool hung_up = false;
  const std::vector<ServerFrame> got = test::parse_server_frames(read_all(c, &hung_up));
  ASSERT_EQ(got.size(), 1101u) << "every frame, then the close frame, before the half-close";
  EXPECT_EQ(got[1099].payload, "message 101099 ......");
  EXPECT_EQ(got.back().opcode, 0x8);
  EXPECT_EQ(test::close_code_in(got.back()), close_code::message_too_big);
  EXPECT_TRUE(hung_up);
}

class OffloadedJobs : public OutputPathTest {
 protected:
  void SetUp() override {
    workers_ = std::make_unique<db::WorkerPool>(1, [] { return Expected<std::unique_ptr<db::Database>>(Error{DbError::open_failed}); });
    shared_.workers = workers_.get();  // before the loop is made: it takes the pool then
    OutputPathTest::SetUp();
  }
  void TearDown() override {
    workers_.reset();  // finishes its jobs while the loop they post to still exists
    OutputPathTest::TearDown();
  }
  // Turns the loop until `done` reaches `want` or two seconds pass.
  void turn_until(const std::atomic<int>& done, int want) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (done.load() < want && std::chrono::steady_clock::now() < until) ctx_->loop().turn(10);
  }
  std::unique_ptr<db::WorkerPool> workers_;
};

TEST_F(OffloadedJobs, ThreeHundredJobsInFlightForOneConnectionAreAllAnswered) {
  const int a = open();
  std::atomic<int> answered{0};
  hub_.on_message = [&](Connection& c, std::string_view) {
    for (int i = 0; i < 300; ++i)
      c.offload([&answered](db::Database*, const Error&) { return [&answered](Connection&) { ++answered; }; });
  };
  write(a, text_frame("go"));
  turn_until(answered, 300);
  EXPECT_EQ(answered.load(), 300);
  EXPECT_EQ(ctx_->jobs().connections_waiting(), 0u);
}

TEST_F(OffloadedJobs, AConnectionGoneWithJobsInFlightIsForgotten) {
  int a = open();
  std::atomic<bool> release{false};
  std::atomic<int> started{0}, answered{0};
  hub_.on_message = [&](Connection& c, std::string_view) {
    for (int i = 0; i < 256; ++i)
      c.offload([&](db::Database*, const Error&) {
        ++started;
        while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return [&answered](Connection&) { ++answered; };
      });
  };
  write(a, text_frame("go"));
  settle();
  hang_up(a);  // reaped with 256 jobs in flight
  expect_reaped();
  EXPECT_EQ(ctx_->jobs().connections_waiting(), 0u) << "a reaped connection must not stay where continuations look";
  release = true;
  workers_.reset();  // every job done, every continuation posted
  settle();
  EXPECT_EQ(answered.load(), 0) << "continuations of a connection that is gone are not run";
}

}  // namespace
}  // namespace capstan::app
