// client_from_forwarded_for: the right-to-left walk over X-Forwarded-For that skips trusted
// proxies, what a spoofed left part cannot do, several header lines, and malformed entries.
#include "http/forwarded_for.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace capstan::http {
namespace {

// A request whose headers are `values`, each an X-Forwarded-For line unless it has a colon
// name of its own ("Host: x").
struct Fixture {
  std::vector<std::string> lines;
  Request request;
  explicit Fixture(std::vector<std::string> values) : lines(std::move(values)) {
    for (const std::string& line : lines) {
      Header& h = request.headers[request.header_count++];
      const size_t colon = line.find(": ");
      if (colon != std::string::npos && line.find('.') > colon) {
        h.name = std::string_view(line).substr(0, colon);
        h.value = std::string_view(line).substr(colon + 2);
      } else {
        h.name = "X-Forwarded-For";
        h.value = line;
      }
    }
  }
};

net::AddressSet trusted(std::initializer_list<const char*> blocks) {
  net::AddressSet set;
  for (const char* b : blocks) EXPECT_TRUE(set.add(b));
  return set;
}

std::string client(std::vector<std::string> values, const net::AddressSet& proxies) {
  Fixture f(std::move(values));
  auto found = client_from_forwarded_for(f.request, proxies);
  return found ? found->to_string() : "none";
}

TEST(ForwardedFor, NoHeaderMeansThePeerStands) {
  EXPECT_EQ(client({"Host: x"}, trusted({"127.0.0.1"})), "none");
}

TEST(ForwardedFor, OneHopIsTheClient) {
  EXPECT_EQ(client({"203.0.113.7"}, trusted({"127.0.0.1"})), "203.0.113.7:0");
  EXPECT_EQ(client({"2001:db8::7"}, trusted({"127.0.0.1"})), "[2001:db8::7]:0");
}

TEST(ForwardedFor, SpoofedLeftPartIsNeverBelieved) {
  // The client wrote "198.51.100.1" itself; nginx appended the peer it saw.
  EXPECT_EQ(client({"198.51.100.1, 203.0.113.7"}, trusted({"127.0.0.1"})), "203.0.113.7:0");
}

TEST(ForwardedFor, TrustedHopsAreSkippedRightToLeft) {
  const auto proxies = trusted({"127.0.0.1", "10.0.0.0/8"});
  EXPECT_EQ(client({"198.51.100.1, 203.0.113.7, 10.1.1.1, 10.2.2.2"}, proxies), "203.0.113.7:0");
  EXPECT_EQ(client({"10.1.1.1, 10.2.2.2"}, proxies), "10.1.1.1:0");  // all trusted: the left-most
}

TEST(ForwardedFor, SeveralLinesAreOneListInOrder) {
  const auto proxies = trusted({"10.0.0.0/8"});
  EXPECT_EQ(client({"198.51.100.1", "Host: x", "203.0.113.7, 10.0.0.2"}, proxies), "203.0.113.7:0");
  EXPECT_EQ(client({"198.51.100.1", "10.0.0.3, 10.0.0.2"}, proxies), "198.51.100.1:0");
}

TEST(ForwardedFor, PortsBracketsAndSpacesAreRead) {
  const auto proxies = trusted({"127.0.0.1"});
  EXPECT_EQ(client({"203.0.113.7:4711"}, proxies), "203.0.113.7:0");
  EXPECT_EQ(client({"[2001:db8::7]:4711"}, proxies), "[2001:db8::7]:0");
  EXPECT_EQ(client({"[2001:db8::7]"}, proxies), "[2001:db8::7]:0");
  EXPECT_EQ(client({"  198.51.100.1 ,\t203.0.113.7  "}, proxies), "203.0.113.7:0");
  EXPECT_EQ(client({"::ffff:203.0.113.7"}, proxies), "203.0.113.7:0");  // mapped: the IPv4 client
}

TEST(ForwardedFor, MalformedEntryEndsTheWalk) {
  const auto proxies = trusted({"10.0.0.0/8"});
  EXPECT_EQ(client({"unknown"}, proxies), "none");
  EXPECT_EQ(client({"203.0.113.7, unknown"}, proxies), "none");
  EXPECT_EQ(client({"203.0.113.7, garbage, 10.0.0.1"}, proxies), "10.0.0.1:0");  // not past the fault
  EXPECT_EQ(client({""}, proxies), "none");
  EXPECT_EQ(client({"[2001:db8::7"}, proxies), "none");
  EXPECT_EQ(client({"[2001:db8::7]x"}, proxies), "none");
}

}  // namespace
}  // namespace capstan::http
