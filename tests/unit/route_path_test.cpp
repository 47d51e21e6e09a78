// Where a route is served (prefix and default path) and which route a request path reaches:
// exact paths, and "/*" subtrees as Ratchet's IoServer without a router serves every path.
#include "config/route_path.hpp"

#include <gtest/gtest.h>

namespace capstan::config {
namespace {

TEST(RoutePath, PrefixAndDefault) {
  EXPECT_EQ(route_path("", "", "echo"), "/echo");
  EXPECT_EQ(route_path("", "/", "notify"), "/");
  EXPECT_EQ(route_path("/socket.io", "/", "notify"), "/socket.io");
  EXPECT_EQ(route_path("/socket.io", "/chat", "notify"), "/socket.io/chat");
  EXPECT_EQ(route_path("/ws", "/*", "notify"), "/ws/*");
}

TEST(RoutePath, ExactPathsMatchThemselvesOnly) {
  EXPECT_GT(route_match_rank("/chat", "/chat"), 0u);
  EXPECT_EQ(route_match_rank("/chat", "/chat/"), 0u);
  EXPECT_EQ(route_match_rank("/chat", "/chatter"), 0u);
  EXPECT_EQ(route_match_rank("/", "/x"), 0u);
}

TEST(RoutePath, SubtreesMatchEverythingBelow) {
  for (const char* path : {"/", "/x", "/a/b/c", "/.well-known/x"}) EXPECT_GT(route_match_rank("/*", path), 0u) << path;
  for (const char* path : {"/app", "/app/", "/app/x", "/app/x/y"}) EXPECT_GT(route_match_rank("/app/*", path), 0u) << path;
  for (const char* path : {"/apple", "/ap", "/", "/other/app"}) EXPECT_EQ(route_match_rank("/app/*", path), 0u) << path;
}

TEST(RoutePath, ExactBeatsSubtreeAndDeeperBeatsShallower) {
  EXPECT_GT(route_match_rank("/app/chat", "/app/chat"), route_match_rank("/app/*", "/app/chat"));
  EXPECT_GT(route_match_rank("/app/*", "/app/chat"), route_match_rank("/*", "/app/chat"));
  EXPECT_GT(route_match_rank("/app/chat/*", "/app/chat/x"), route_match_rank("/app/*", "/app/chat/x"));
}

}  // namespace
}  // namespace capstan::config
