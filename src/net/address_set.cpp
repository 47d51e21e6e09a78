#include "net/address_set.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace capstan::net {

namespace {

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

// The first `bits` bits of a and b agree.
bool same_prefix(const uint8_t* a, const uint8_t* b, unsigned bits) noexcept {
  const unsigned whole = bits / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  if (bits % 8 == 0) return true;
  const auto mask = static_cast<uint8_t>(0xFF00u >> (bits % 8));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

bool parse_ip(std::string_view text, CompactAddress& out) noexcept {
  char buf[INET6_ADDRSTRLEN];
  if (text.empty() || text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  CompactAddress a;
  if (inet_pton(AF_INET, buf, a.bytes) == 1) a.family = AF_INET;
  else if (inet_pton(AF_INET6, buf, a.bytes) == 1) a.family = AF_INET6;
  else return false;
  out = unmapped(a);
  return true;
}

CompactAddress unmapped(const CompactAddress& address) noexcept {
  if (address.family != AF_INET6 || std::memcmp(address.bytes, kMappedPrefix, 12) != 0) return address;
  CompactAddress v4;
  v4.family = AF_INET;
  v4.port = address.port;
  std::memcpy(v4.bytes, address.bytes + 12, 4);
  return v4;
}

bool AddressSet::add(std::string_view text) {
  const size_t slash = text.find('/');
  const std::string_view ip = text.substr(0, slash);
  CompactAddress base;
  if (!parse_ip(ip, base)) return false;
  // Bits count in the address as written: "::ffff:10.0.0.0/104" is 10.0.0.0/8 once unmapped.
  const bool written_v6 = ip.find(':') != std::string_view::npos;
  const unsigned width = written_v6 ? 128 : 32;
  unsigned bits = width;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || bits > width) return false;
  }
  if (written_v6 && base.family == AF_INET) {
    if (bits < 96) return false;  // wider than the mapped range: not one IPv4 block
    bits -= 96;
  }
  Block b;
  b.family = base.family;
  b.bits = static_cast<uint8_t>(bits);
  std::memcpy(b.bytes, base.bytes, sizeof b.bytes);
  blocks_.push_back(b);
  return true;
}

bool AddressSet::contains(const CompactAddress& address) const noexcept {
  if (blocks_.empty()) return false;  // the common case: no proxy configured, nothing to look at
  const CompactAddress a = unmapped(address);
  for (const Block& b : blocks_)
    if (b.family == a.family && same_prefix(b.bytes, a.bytes, b.bits)) return true;
  return false;
}

}  // namespace capstan::net
