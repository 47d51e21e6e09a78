// capstan::Watch (capstan/watch.hpp, src/net/watch.cpp) on a real EventLoop driven one turn at
// a time over socketpairs and pipes: readiness per wanted side, toggling (and epoll told only
// of changes), destruction and close from inside a callback with the same turn still holding
// events for it, a throwing callback, hang-up and error reported to the wanted side, refusals.
#include "capstan/watch.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>

#include "net/event_loop.hpp"
#include "net/syscalls.hpp"

namespace capstan {
namespace {

// A connected pair of non-blocking stream sockets, closed at the end of the test.
struct Pair {
  int fd[2] = {-1, -1};
  Pair() {
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd), 0);
  }
  ~Pair() {
    close_end(0);
    close_end(1);
  }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
  void send_byte(int i = 1) { ASSERT_EQ(::write(fd[i], "x", 1), 1); }
};

// Reads what is there; the number read, 0 at end of file, -1 when nothing was waiting.
ssize_t drain(int fd) {
  char buf[256];
  return ::read(fd, buf, sizeof buf);
}

class WatchTest : public ::testing::Test {
 protected:
  net::EventLoop loop{0};
  void turn() { loop.turn(0); }
};

TEST_F(WatchTest, ReadableFiresWhileDataWaitsAndReadIsWanted) {
  Pair p;
  int reads = 0;
  Watch w(loop, p.fd[0], [&] { ++reads; drain(p.fd[0]); });
  p.send_byte();
  turn();
  EXPECT_EQ(reads, 0) << "nothing is wanted at first";
  ASSERT_TRUE(w.want_read(true));
  EXPECT_TRUE(w.wants_read());
  turn();
  EXPECT_EQ(reads, 1);
  turn();
  EXPECT_EQ(reads, 1) << "drained: no more readiness";
  p.send_byte();
  turn();
  EXPECT_EQ(reads, 2);
}

TEST_F(WatchTest, ReadinessIsLevelTriggered) {
  Pair p;
  int reads = 0;
  Watch w(loop, p.fd[0], [&] { ++reads; });  // never reads
  ASSERT_TRUE(w.want_read(true));
  p.send_byte();
  turn();
  turn();
  EXPECT_EQ(reads, 2);
}

TEST_F(WatchTest, WritableFiresOnlyWhileWanted) {
  Pair p;
  int writes = 0, reads = 0;
  Watch w(loop, p.fd[0], [&] { ++reads; }, [&] { ++writes; });
  turn();
  EXPECT_EQ(writes, 0);
  ASSERT_TRUE(w.want_write(true));
  turn();
  turn();
  EXPECT_EQ(writes, 2);
  ASSERT_TRUE(w.want_write(false));
  EXPECT_FALSE(w.wants_write());
  turn();
  EXPECT_EQ(writes, 2);
  EXPECT_EQ(reads, 0);
}

TEST_F(WatchTest, TogglingOneSideLeavesTheOther) {
  Pair p;
  int reads = 0, writes = 0;
  Watch w(loop, p.fd[0], [&] { ++reads; drain(p.fd[0]); }, [&] { ++writes; });
  ASSERT_TRUE(w.want_read(true));
  ASSERT_TRUE(w.want_write(true));
  p.send_byte();
  turn();
  EXPECT_EQ(reads, 1);
  EXPECT_EQ(writes, 1);
  ASSERT_TRUE(w.want_read(false));
  p.send_byte();
  turn();
  EXPECT_EQ(reads, 1) << "read is off; the byte waits";
  EXPECT_EQ(writes, 2);
  ASSERT_TRUE(w.want_read(true));
  ASSERT_TRUE(w.want_write(false));
  turn();
  EXPECT_EQ(reads, 2) << "the waiting byte is reported once read is back on";
  EXPECT_EQ(writes, 2);
}

// epoll_ctl calls, counted through the syscall table.
int epoll_ctl_calls = 0;
struct CountEpollCtl {
  CountEpollCtl() {
    epoll_ctl_calls = 0;
    net::syscalls.epoll_ctl = [](int epfd, int op, int fd, epoll_event* ev) {
      ++epoll_ctl_calls;
      return net::kRealSyscalls.epoll_ctl(epfd, op, fd, ev);
    };
  }
  ~CountEpollCtl() { net::syscalls = net::kRealSyscalls; }
};

TEST_F(WatchTest, EpollIsToldOnlyOfChanges) {
  Pair p;
  Watch w(loop, p.fd[0], [] {}, [] {});
  CountEpollCtl count;
  ASSERT_TRUE(w.want_read(true));  // ADD
  ASSERT_TRUE(w.want_read(true));
  EXPECT_EQ(epoll_ctl_calls, 1);
  ASSERT_TRUE(w.want_write(true));  // MOD
  ASSERT_TRUE(w.want_write(true));
  EXPECT_EQ(epoll_ctl_calls, 2);
  ASSERT_TRUE(w.want_read(false));  // MOD
  ASSERT_TRUE(w.want_write(false));  // DEL: nothing wanted
  ASSERT_TRUE(w.want_write(false));
  EXPECT_EQ(epoll_ctl_calls, 4);
  w.close();  // not registered: nothing to remove
  EXPECT_EQ(epoll_ctl_calls, 4);
}

TEST_F(WatchTest, RefusedDescriptorLeavesTheWishUnchanged) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  Watch w(loop, ::fileno(file), [] {});
  errno = 0;
  EXPECT_FALSE(w.want_read(true)) << "epoll refuses regular files";
  EXPECT_EQ(errno, EPERM);
  EXPECT_FALSE(w.wants_read());
  std::fclose(file);

  Pair p;
  Watch read_only(loop, p.fd[0], [] {});
  EXPECT_FALSE(read_only.want_write(true)) << "no writable callback";
  EXPECT_EQ(errno, EINVAL);
  Watch empty;
  EXPECT_FALSE(empty);
  EXPECT_FALSE(empty.want_read(true));
  EXPECT_EQ(empty.fd(), -1);
}

TEST_F(WatchTest, DestroyedInsideItsOwnCallbackWithTheOtherSideStillDue) {
  Pair p;
  int reads = 0, writes = 0;
  auto w = std::make_unique<Watch>();
  *w = Watch(loop, p.fd[0], [&] { ++reads; w.reset(); }, [&] { ++writes; });
  ASSERT_TRUE(w->want_read(true));
  ASSERT_TRUE(w->want_write(true));
  p.send_byte();
  turn();  // one event with both sides ready; read runs first and destroys the Watch
  EXPECT_EQ(reads, 1);
  EXPECT_EQ(writes, 0);
  EXPECT_EQ(w, nullptr);
  turn();
  EXPECT_EQ(reads, 1);
}

TEST_F(WatchTest, ClosedByAnotherWatchWhoseEventCameFirstInTheSameTurn) {
  // Both are ready in one turn; whichever runs first closes the other, whose event epoll had
  // already handed over: it must not run (and its state must still be there to say so).
  Pair p, q;
  int calls = 0;
  Watch a, b;
  a = Watch(loop, p.fd[0], [&] { ++calls; b.close(); });
  b = Watch(loop, q.fd[0], [&] { ++calls; a.close(); });
  ASSERT_TRUE(a.want_read(true));
  ASSERT_TRUE(b.want_read(true));
  p.send_byte();
  q.send_byte();
  turn();
  EXPECT_EQ(calls, 1);
  EXPECT_NE(static_cast<bool>(a), static_cast<bool>(b));
}

TEST_F(WatchTest, TurningTheOtherSideOffInsideACallbackCancelsItForThisEvent) {
  Pair p;
  int writes = 0;
  Watch w;
  w = Watch(loop, p.fd[0], [&] { drain(p.fd[0]); w.want_write(false); }, [&] { ++writes; });
  ASSERT_TRUE(w.want_read(true));
  ASSERT_TRUE(w.want_write(true));
  p.send_byte();
  turn();
  EXPECT_EQ(writes, 0);
}

TEST_F(WatchTest, AThrowingCallbackIsContained) {
  Pair p, q;
  int throws = 0, others = 0;
  Watch thrower(loop, p.fd[0], [&] {
    ++throws;
    throw std::runtime_error("from a watch");
  });
  Watch other(loop, q.fd[0], [&] { ++others; drain(q.fd[0]); });
  ASSERT_TRUE(thrower.want_read(true));
  ASSERT_TRUE(other.want_read(true));
  p.send_byte();
  q.send_byte();
  EXPECT_NO_THROW(turn());
  EXPECT_EQ(throws, 1);
  EXPECT_EQ(others, 1);
  EXPECT_TRUE(thrower.wants_read()) << "the Watch keeps what it wants";
  EXPECT_NO_THROW(turn());
  EXPECT_EQ(throws, 2);
}

TEST_F(WatchTest, HangUpIsReportedAsReadableAndTheReadSeesEndOfFile) {
  Pair p;
  std::optional<ssize_t> got;
  Watch w(loop, p.fd[0], [&] { got = drain(p.fd[0]); });
  ASSERT_TRUE(w.want_read(true));
  p.close_end(1);
  turn();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, 0);
}

TEST_F(WatchTest, PipeHangUpAndErrorGoToTheWantedSide) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  // The read end: EPOLLHUP once the writer is gone, with nothing to read.
  std::optional<ssize_t> got;
  Watch reader(loop, fds[0], [&] { got = drain(fds[0]); });
  ASSERT_TRUE(reader.want_read(true));
  // The write end, wanting to read (which a write end never is): only EPOLLERR can wake it.
  int errors = 0;
  Watch writer(loop, fds[1], [&] { ++errors; });
  ASSERT_TRUE(writer.want_read(true));
  turn();
  EXPECT_EQ(errors, 0);
  EXPECT_FALSE(got.has_value());

  reader.close();
  ::close(fds[0]);  // the writer's pipe now has no reader: EPOLLERR
  turn();
  EXPECT_EQ(errors, 1);
  writer.close();
  ::close(fds[1]);
}

TEST_F(WatchTest, AHungUpDescriptorWithNothingWantedDoesNotWakeTheLoop) {
  Pair p;
  int calls = 0;
  Watch w(loop, p.fd[0], [&] { ++calls; }, [&] { ++calls; });
  ASSERT_TRUE(w.want_read(true));
  ASSERT_TRUE(w.want_read(false));
  p.close_end(1);
  turn();
  EXPECT_EQ(calls, 0);
}

TEST_F(WatchTest, AMovedWatchGoesOnWatching) {
  Pair p;
  int reads = 0;
  Watch first(loop, p.fd[0], [&] { ++reads; drain(p.fd[0]); });
  ASSERT_TRUE(first.want_read(true));
  Watch second(std::move(first));
  EXPECT_FALSE(first);
  EXPECT_EQ(second.fd(), p.fd[0]);
  p.send_byte();
  turn();
  EXPECT_EQ(reads, 1);
}

TEST_F(WatchTest, DestroyedOutsideATurnIsFreedByTheLoop) {
  // The state waits for the end of the next turn or the loop's end; ASan says it is freed.
  Pair p;
  {
    Watch w(loop, p.fd[0], [] {});
    ASSERT_TRUE(w.want_read(true));
  }
  p.send_byte();
  turn();
  { Watch never_turned(loop, p.fd[0], [] {}); }
}

}  // namespace
}  // namespace capstan
