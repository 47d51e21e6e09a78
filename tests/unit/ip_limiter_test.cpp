// IpLimiter (src/app/ip_limiter.*): concurrent connections per address (too_many, release),
// which addresses count as one (the port does not; IPv4 and IPv6 are apart, but an IPv4-mapped
// IPv6 client is its IPv4 address), the GCRA rate one second deep (too_fast, admitted again
// after 1/R s), rate owed without an open connection, configure() at run time (debts rescaled
// to a new rate), forgetting idle addresses (tracked()), and admit/release from
// several threads. The limiter's clock is the now_ms argument: time is driven, never slept.
#include "app/ip_limiter.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <atomic>
#include <cstring>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace capstan::app {

void PrintTo(IpLimiter::Verdict v, std::ostream* os) {
  switch (v) {
    case IpLimiter::Verdict::admitted: *os << "admitted"; return;
    case IpLimiter::Verdict::too_many: *os << "too_many"; return;
    case IpLimiter::Verdict::too_fast: *os << "too_fast"; return;
  }
  *os << "Verdict(" << static_cast<int>(v) << ")";
}

namespace {

using Verdict = IpLimiter::Verdict;
using net::CompactAddress;

CompactAddress v4(const char* text, uint16_t port = 40000) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  EXPECT_EQ(inet_pton(AF_INET, text, &sa.sin_addr), 1) << text;
  return CompactAddress::from(reinterpret_cast<const sockaddr*>(&sa));
}

CompactAddress v6(const char* text, uint16_t port = 40000) {
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(port);
  EXPECT_EQ(inet_pton(AF_INET6, text, &sa.sin6_addr), 1) << text;
  return CompactAddress::from(reinterpret_cast<const sockaddr*>(&sa));
}

constexpr uint64_t t0 = 1'000'000;  // an arbitrary "now" of the limiter's clock, in ms

// ---- Concurrent connections ----------------------------------------------------------------

TEST(IpLimiter, AdmitsUpToTheLimitThenRefusesTooMany) {
  IpLimiter limiter(3, 0);
  const auto a = v4("192.0.2.1");
  EXPECT_EQ(limiter.admit(a, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::too_many);
  EXPECT_EQ(limiter.admit(a, t0 + 60'000), Verdict::too_many) << "time does not close connections";
}

TEST(IpLimiter, ReleaseLetsExactlyOneMoreIn) {
  IpLimiter limiter(2, 0);
  const auto a = v4("192.0.2.1");
  ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  ASSERT_EQ(limiter.admit(a, t0), Verdict::too_many);
  limiter.release(a, t0);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::too_many);
  limiter.release(a, t0);
  limiter.release(a, t0);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::too_many);
}

TEST(IpLimiter, RefusalIsNotCountedAsAnOpenConnection) {
  IpLimiter limiter(1, 0);
  const auto a = v4("192.0.2.1");
  ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(limiter.admit(a, t0), Verdict::too_many);
  limiter.release(a, t0);  // the one admitted connection closes
  EXPECT_EQ(limiter.admit(a, t0), Verdict::admitted);
}

TEST(IpLimiter, ReleaseOfAnUnknownAddressIsHarmless) {
  IpLimiter limiter(1, 0);
  const auto a = v4("192.0.2.1"), stranger = v4("192.0.2.99");
  ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  limiter.release(stranger, t0);
  EXPECT_EQ(limiter.tracked(), 1u);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::too_many) << "a stranger's release freed a's slot";
  EXPECT_EQ(limiter.admit(stranger, t0), Verdict::admitted);
}

// ---- Which addresses count as one ----------------------------------------------------------

TEST(IpLimiter, AddressesAreCountedApart) {
  IpLimiter limiter(1, 0);
  const auto a4 = v4("192.0.2.1"), b4 = v4("192.0.2.2"), a6 = v6("2001:db8::1"), b6 = v6("2001:db8::2");
  EXPECT_EQ(limiter.admit(a4, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(b4, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(a6, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(b6, t0), Verdict::admitted);
  EXPECT_EQ(limiter.tracked(), 4u);
  EXPECT_EQ(limiter.admit(a4, t0), Verdict::too_many);
  EXPECT_EQ(limiter.admit(b4, t0), Verdict::too_many);
  EXPECT_EQ(limiter.admit(a6, t0), Verdict::too_many);
  EXPECT_EQ(limiter.admit(b6, t0), Verdict::too_many);
  limiter.release(a6, t0);
  EXPECT_EQ(limiter.admit(a6, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(a4, t0), Verdict::too_many) << "a release of one address freed another's slot";
  // The family is part of the address: an IPv6 address whose first four bytes are those of
  // 192.0.2.1 (and the rest zero, as an IPv4 CompactAddress keeps them) is another one.
  EXPECT_EQ(limiter.admit(v6("c000:201::"), t0), Verdict::admitted);
}

TEST(IpLimiter, IPv6AddressesDifferingOnlyInTheirLastBytesAreApart) {
  // The whole 16 bytes are the key, not a prefix of them.
  IpLimiter limiter(1, 0);
  EXPECT_EQ(limiter.admit(v6("2001:db8:1:2:3:4:5:6"), t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(v6("2001:db8:1:2:3:4:5:7"), t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(v6("2001:db8:1:2:3:4:6:6"), t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(v6("2001:db8:1:2:3:4:5:6"), t0), Verdict::too_many);
}

TEST(IpLimiter, AnIPv4MappedClientIsTheSameAddressAsOverIPv4) {
  // A dual-stack listener ([::]) reports an IPv4 client as ::ffff:a.b.c.d; over an IPv4
  // listener the same client is a.b.c.d. Both count against one budget.
  IpLimiter limiter(2, 0);
  const auto plain = v4("203.0.113.9"), mapped = v6("::ffff:203.0.113.9");
  EXPECT_EQ(limiter.admit(plain, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(mapped, t0), Verdict::admitted);
  EXPECT_EQ(limiter.tracked(), 1u);
  EXPECT_EQ(limiter.admit(plain, t0), Verdict::too_many);
  EXPECT_EQ(limiter.admit(mapped, t0), Verdict::too_many);
  limiter.release(mapped, t0);  // released through either form
  EXPECT_EQ(limiter.admit(plain, t0), Verdict::admitted);
  limiter.release(plain, t0);
  limiter.release(plain, t0);
  EXPECT_EQ(limiter.tracked(), 0u);
  // Only ::ffff:0:0/96 is mapped: the deprecated IPv4-compatible form and NAT64 stay IPv6.
  EXPECT_EQ(limiter.admit(v6("::203.0.113.9"), t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(v6("64:ff9b::203.0.113.9"), t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(plain, t0), Verdict::admitted);
  EXPECT_EQ(limiter.tracked(), 3u);
}

TEST(IpLimiter, AnIPv4MappedClientSharesTheRateOfIPv4) {
  IpLimiter limiter(1000, 2);
  EXPECT_EQ(limiter.admit(v4("203.0.113.9"), t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(v6("::ffff:203.0.113.9"), t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(v6("::ffff:203.0.113.9"), t0), Verdict::too_fast);
  EXPECT_EQ(limiter.admit(v4("203.0.113.9"), t0), Verdict::too_fast);
}

TEST(IpLimiter, PortsOfOneAddressCountAsOneAddress) {
  IpLimiter limiter(2, 0);
  const auto a = v4("198.51.100.7", 50001), same_other_port = v4("198.51.100.7", 50002);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(same_other_port, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(v4("198.51.100.7", 60000), t0), Verdict::too_many);
  EXPECT_EQ(limiter.tracked(), 1u);
  // A release names the connection's own port; it frees the address's count all the same.
  limiter.release(same_other_port, t0);
  EXPECT_EQ(limiter.admit(v4("198.51.100.7", 1), t0), Verdict::admitted);

  IpLimiter six(1, 0);
  EXPECT_EQ(six.admit(v6("2001:db8::1", 1000), t0), Verdict::admitted);
  EXPECT_EQ(six.admit(v6("2001:db8::1", 2000), t0), Verdict::too_many);
}

// ---- Connection rate (GCRA, one second deep) -----------------------------------------------

TEST(IpLimiter, RateAdmitsOneSecondsBurstThenRefusesTooFast) {
  IpLimiter limiter(1000, 10);
  const auto a = v4("192.0.2.1");
  for (int i = 0; i < 10; ++i) ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted) << "connection " << i;
  EXPECT_EQ(limiter.admit(a, t0), Verdict::too_fast);
  EXPECT_EQ(limiter.admit(a, t0 + 99), Verdict::too_fast) << "1/R s has not passed yet";
  EXPECT_EQ(limiter.admit(a, t0 + 100), Verdict::admitted) << "after 1/R s one more is allowed";
  EXPECT_EQ(limiter.admit(a, t0 + 100), Verdict::too_fast) << "... and only one";
  EXPECT_EQ(limiter.admit(a, t0 + 200), Verdict::admitted);
}

TEST(IpLimiter, BurstNeedNotArriveAtOnce) {
  // Five at rate 5 spread over 150 ms all fit; the bucket is then full until the first
  // interval (200 ms) after the burst began has passed.
  IpLimiter limiter(1000, 5);
  const auto a = v4("192.0.2.1");
  for (uint64_t ms : {0, 10, 50, 100, 150}) ASSERT_EQ(limiter.admit(a, t0 + ms), Verdict::admitted) << ms;
  EXPECT_EQ(limiter.admit(a, t0 + 199), Verdict::too_fast);
  EXPECT_EQ(limiter.admit(a, t0 + 200), Verdict::admitted);
  EXPECT_EQ(limiter.admit(a, t0 + 200), Verdict::too_fast);
}

TEST(IpLimiter, SteadyStreamAtTheRateIsNeverRefused) {
  IpLimiter limiter(1000, 4);
  const auto a = v4("192.0.2.1");
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(limiter.admit(a, t0 + 250 * i), Verdict::admitted) << "connection " << i;
    limiter.release(a, t0 + 250 * i + 10);
  }
}

TEST(IpLimiter, AFullBucketRefillsAfterAnIdleSecond) {
  IpLimiter limiter(1000, 3);
  const auto a = v4("192.0.2.1");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  ASSERT_EQ(limiter.admit(a, t0), Verdict::too_fast);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.admit(a, t0 + 1000), Verdict::admitted) << "connection " << i;
  EXPECT_EQ(limiter.admit(a, t0 + 1000), Verdict::too_fast);
}

TEST(IpLimiter, RateIsPerAddress) {
  IpLimiter limiter(1000, 2);
  const auto a = v4("192.0.2.1"), b = v6("2001:db8::1");
  ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  ASSERT_EQ(limiter.admit(a, t0), Verdict::too_fast);
  EXPECT_EQ(limiter.admit(b, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(b, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(b, t0), Verdict::too_fast);
  EXPECT_EQ(limiter.admit(v4("192.0.2.1", 1234), t0), Verdict::too_fast) << "another port is the same address";
}

TEST(IpLimiter, RateOwedWithoutAnOpenConnectionStillLimits) {
  // A client that connects and hangs up in a loop must still meet the rate.
  IpLimiter limiter(1000, 2);
  const auto a = v4("192.0.2.1");
  ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  limiter.release(a, t0);
  ASSERT_EQ(limiter.admit(a, t0 + 1), Verdict::admitted);
  limiter.release(a, t0 + 1);
  EXPECT_EQ(limiter.tracked(), 1u) << "an address that owes rate is kept";
  EXPECT_EQ(limiter.admit(a, t0 + 2), Verdict::too_fast);
  EXPECT_EQ(limiter.admit(a, t0 + 500), Verdict::admitted);
}

TEST(IpLimiter, TooManyIsCheckedBeforeRate) {
  IpLimiter limiter(1, 1);
  const auto a = v4("192.0.2.1");
  ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::too_many);
  EXPECT_EQ(limiter.admit(a, t0 + 5000), Verdict::too_many) << "at the limit it is too many, whatever the rate";
  limiter.release(a, t0 + 5000);
  EXPECT_EQ(limiter.admit(a, t0 + 5000), Verdict::admitted);
}

TEST(IpLimiter, RefusedTooFastDoesNotPushTheNextAdmissionFurther) {
  // A refused attempt costs nothing: hammering while limited does not extend the wait.
  IpLimiter limiter(1000, 10);
  const auto a = v4("192.0.2.1");
  for (int i = 0; i < 10; ++i) ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  for (uint64_t ms = 0; ms < 100; ms += 5) ASSERT_EQ(limiter.admit(a, t0 + ms), Verdict::too_fast) << ms;
  EXPECT_EQ(limiter.admit(a, t0 + 100), Verdict::admitted);
}

// ---- configure() at run time ---------------------------------------------------------------

TEST(IpLimiter, ConfigureChangesTheConnectionLimitAndKeepsOpenConnections) {
  IpLimiter limiter(2, 0);
  const auto a = v4("192.0.2.1");
  ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  ASSERT_EQ(limiter.admit(a, t0), Verdict::too_many);
  limiter.configure(3, 0, t0);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::too_many);
  limiter.configure(1, 0, t0);  // 3 open, limit 1: they stay, nothing new until under the limit
  EXPECT_EQ(limiter.admit(a, t0), Verdict::too_many);
  limiter.release(a, t0);
  limiter.release(a, t0);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::too_many) << "one still open, at the new limit of 1";
  limiter.release(a, t0);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::admitted);
}

TEST(IpLimiter, ConfigureTurnsTheRateOnAndOff) {
  IpLimiter limiter(1000, 0);
  const auto a = v4("192.0.2.1");
  for (int i = 0; i < 50; ++i) ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted) << "rate 0 is off";
  limiter.configure(1000, 1, t0);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::too_fast);
  limiter.configure(1000, 0, t0);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::admitted);
}

TEST(IpLimiter, ARaisedRateCountsTheDebtInConnectionsNotSeconds) {
  // One connection at 1/s owes a second; at 1000/s that connection is a thousandth of the
  // burst, not a second's worth of refusals.
  IpLimiter limiter(10'000, 1);
  const auto a = v4("192.0.2.1");
  ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  ASSERT_EQ(limiter.admit(a, t0), Verdict::too_fast);
  limiter.configure(10'000, 1000, t0);
  int admitted = 0;
  while (admitted < 2000 && limiter.admit(a, t0) == Verdict::admitted) ++admitted;
  EXPECT_EQ(admitted, 999) << "the burst of 1000 less the one connection already made";
}

TEST(IpLimiter, ALoweredRateKeepsTheBurstOwed) {
  // 100 connections in a burst at 100/s; at 1/s they are 100 seconds of debt, not the one
  // second they were worth at the old rate.
  IpLimiter limiter(10'000, 100);
  const auto a = v4("192.0.2.1");
  for (int i = 0; i < 100; ++i) ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted) << i;
  ASSERT_EQ(limiter.admit(a, t0), Verdict::too_fast);
  limiter.configure(10'000, 1, t0);
  EXPECT_EQ(limiter.admit(a, t0 + 1'000), Verdict::too_fast);
  EXPECT_EQ(limiter.admit(a, t0 + 99'999), Verdict::too_fast);
  EXPECT_EQ(limiter.admit(a, t0 + 100'000), Verdict::admitted);
  EXPECT_EQ(limiter.admit(a, t0 + 100'000), Verdict::too_fast);
}

TEST(IpLimiter, RescaledDebtCountsFromTheReload) {
  // Half the debt was paid before the reload: the other half is rescaled.
  IpLimiter limiter(10'000, 10);
  const auto a = v4("192.0.2.1");
  for (int i = 0; i < 10; ++i) ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);  // owes 1 s
  limiter.configure(10'000, 1, t0 + 500);  // 0.5 s left = 5 connections = 5 s at 1/s
  EXPECT_EQ(limiter.admit(a, t0 + 5'499), Verdict::too_fast);
  EXPECT_EQ(limiter.admit(a, t0 + 5'500), Verdict::admitted);
}

TEST(IpLimiter, TurningTheRateOffForgetsDebtsAndAddressesWithNothingOpen) {
  IpLimiter limiter(10, 1);
  const auto a = v4("192.0.2.1"), b = v4("192.0.2.2");
  ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  ASSERT_EQ(limiter.admit(b, t0), Verdict::admitted);
  limiter.release(b, t0);  // b left owing
  ASSERT_EQ(limiter.tracked(), 2u);
  limiter.configure(10, 0, t0);
  EXPECT_EQ(limiter.tracked(), 1u) << "b owes nothing without a rate and has nothing open";
  limiter.configure(10, 1, t0);  // back on: what was made while off is not owed
  EXPECT_EQ(limiter.admit(a, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(a, t0), Verdict::too_fast);
}

TEST(IpLimiter, AnUnchangedRateKeepsEveryDebt) {
  IpLimiter limiter(10, 1);
  const auto a = v4("192.0.2.1");
  ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  limiter.configure(20, 1, t0);  // only the connection limit changed
  EXPECT_EQ(limiter.admit(a, t0 + 999), Verdict::too_fast);
  EXPECT_EQ(limiter.admit(a, t0 + 1'000), Verdict::admitted);
}

// ---- Forgetting idle addresses -------------------------------------------------------------

TEST(IpLimiter, AddressWithNothingOpenAndNoDebtIsForgotten) {
  IpLimiter limiter(10, 0);
  const auto a = v4("192.0.2.1"), b = v6("2001:db8::1");
  EXPECT_EQ(limiter.tracked(), 0u);
  ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  ASSERT_EQ(limiter.admit(b, t0), Verdict::admitted);
  EXPECT_EQ(limiter.tracked(), 2u);
  limiter.release(a, t0);
  EXPECT_EQ(limiter.tracked(), 2u) << "a still has a connection open";
  limiter.release(a, t0);
  EXPECT_EQ(limiter.tracked(), 1u);
  limiter.release(b, t0);
  EXPECT_EQ(limiter.tracked(), 0u);
}

TEST(IpLimiter, AddressIsForgottenAtReleaseOnceItsDebtIsPaid) {
  IpLimiter limiter(10, 1);  // one per second: each connection owes one second
  const auto a = v4("192.0.2.1"), b = v4("192.0.2.2");
  ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
  ASSERT_EQ(limiter.admit(b, t0), Verdict::admitted);
  limiter.release(a, t0 + 999);
  EXPECT_EQ(limiter.tracked(), 2u) << "a still owes 1 ms";
  limiter.release(b, t0 + 1000);
  EXPECT_EQ(limiter.tracked(), 1u) << "b's debt was paid when it closed";
  EXPECT_EQ(limiter.admit(a, t0 + 999), Verdict::too_fast) << "a, kept, still owes";
  EXPECT_EQ(limiter.admit(b, t0 + 1000), Verdict::admitted);
}

TEST(IpLimiter, PaidUpAddressesThatLeftOwingAreSweptAsTheTableGrows) {
  IpLimiter limiter(10, 1);
  // Ten addresses connect and leave at once, each owing a second: all are kept.
  for (int i = 0; i < 10; ++i) {
    const auto a = v4(("10.0.0." + std::to_string(i)).c_str());
    ASSERT_EQ(limiter.admit(a, t0), Verdict::admitted);
    limiter.release(a, t0);
  }
  ASSERT_EQ(limiter.tracked(), 10u);
  // Long after their debts were paid, 200 other addresses do the same; as the table grows the
  // sweep drops the ten paid-up ones and keeps every address that still owes.
  const uint64_t later = t0 + 10'000;
  for (int i = 0; i < 200; ++i) {
    const auto a = v6(("2001:db8::" + std::to_string(i + 1)).c_str());
    ASSERT_EQ(limiter.admit(a, later), Verdict::admitted);
    limiter.release(a, later);
  }
  EXPECT_EQ(limiter.tracked(), 200u);
  EXPECT_EQ(limiter.admit(v6("2001:db8::1"), later), Verdict::too_fast) << "a kept address still owes";
}

// ---- Several threads -----------------------------------------------------------------------

TEST(IpLimiter, ConcurrentAdmitAndReleaseNeverExceedTheLimit) {
  constexpr uint32_t kLimit = 5;
  constexpr int kThreads = 8, kRounds = 20000;
  IpLimiter limiter(kLimit, 0);
  const auto shared = v4("192.0.2.1");
  std::atomic<int> inflight{0}, most{0}, admitted{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const auto own = v4(("203.0.113." + std::to_string(t + 1)).c_str());
      for (int i = 0; i < kRounds; ++i) {
        if (limiter.admit(shared, t0) == Verdict::admitted) {
          const int now = inflight.fetch_add(1) + 1;
          for (int m = most.load(); now > m && !most.compare_exchange_weak(m, now);) {
          }
          ++admitted;
          inflight.fetch_sub(1);
          limiter.release(shared, t0);
        } else {
          ++refused;
        }
        // Each thread's own address is never limited by the others.
        ASSERT_EQ(limiter.admit(own, t0), Verdict::admitted);
        limiter.release(own, t0);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(most.load(), static_cast<int>(kLimit));
  EXPECT_GT(admitted.load(), 0);
  EXPECT_EQ(admitted.load() + refused.load(), kThreads * kRounds);
  EXPECT_EQ(limiter.tracked(), 0u) << "every admission was released";
  for (uint32_t i = 0; i < kLimit; ++i) EXPECT_EQ(limiter.admit(shared, t0), Verdict::admitted);
  EXPECT_EQ(limiter.admit(shared, t0), Verdict::too_many);
}

}  // namespace
}  // namespace capstan::app
