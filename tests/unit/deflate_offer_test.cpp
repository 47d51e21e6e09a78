// permessage-deflate negotiation (RFC 7692 §7.1).
#include <gtest/gtest.h>

#include "ws/deflate_offer.hpp"

using capstan::ws::DeflateParams;
using capstan::ws::DeflatePolicy;
using capstan::ws::deflate_response;
using capstan::ws::negotiate_deflate;

namespace {
const DeflatePolicy kShared{true};
const DeflatePolicy kDedicated{false};
}  // namespace

TEST(DeflateOffer, PlainOfferInDedicatedModeKeepsContext) {
  auto p = negotiate_deflate("permessage-deflate", kDedicated);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->server_no_context_takeover);
  EXPECT_FALSE(p->client_no_context_takeover);
  EXPECT_EQ(p->server_max_window_bits, 15);
  EXPECT_EQ(deflate_response(*p), "permessage-deflate");
}

TEST(DeflateOffer, SharedModeDemandsNoContextTakeoverBothWays) {
  auto p = negotiate_deflate("permessage-deflate; client_max_window_bits", kShared);
  ASSERT_TRUE(p);
  EXPECT_EQ(deflate_response(*p), "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
}

TEST(DeflateOffer, ParametersAreHonouredAndServerBitsEchoed) {
  auto p = negotiate_deflate("permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12",
                             kDedicated);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->server_no_context_takeover);
  EXPECT_EQ(p->server_max_window_bits, 10);
  EXPECT_EQ(deflate_response(*p), "permessage-deflate; server_no_context_takeover; server_max_window_bits=10");
  // Accepting an offer that names server_max_window_bits means answering with it, even at 15.
  auto q = negotiate_deflate("permessage-deflate; server_max_window_bits=15", kDedicated);
  ASSERT_TRUE(q);
  EXPECT_EQ(deflate_response(*q), "permessage-deflate; server_max_window_bits=15");
  auto quoted = negotiate_deflate("permessage-deflate; server_max_window_bits=\"11\"", kDedicated);
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->server_max_window_bits, 11);
}

TEST(DeflateOffer, BadOffersAreDeclinedAndTheNextOneTaken) {
  for (const char* bad : {"permessage-deflate; unknown", "permessage-deflate; server_max_window_bits",
                          "permessage-deflate; server_max_window_bits=16", "permessage-deflate; server_max_window_bits=7",
                          "permessage-deflate; server_max_window_bits=8", "permessage-deflate; client_max_window_bits=99",
                          "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                          "permessage-deflate; client_no_context_takeover=1", "x-webkit-deflate-frame", ""}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(negotiate_deflate(bad, kDedicated));
    auto p = negotiate_deflate(std::string(bad) + ", permessage-deflate; server_max_window_bits=12", kDedicated);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->server_max_window_bits, 12);
  }
}
