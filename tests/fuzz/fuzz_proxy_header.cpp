// parse_proxy_header on arbitrary bytes. The first byte chooses max_size and the largest
// piece, the second seeds how the rest is cut into reads. Fed the growing buffer read by read
// (and byte by byte), the first verdict that is not `incomplete` must be the verdict of the
// whole input: the parser is stateless, so a split may never change an answer. A complete
// header fits the input and its limit and names an address of a real family.
#include <netinet/in.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.hpp"
#include "net/proxy_header.hpp"

namespace {

using capstan::net::ProxyHeader;

bool same(const ProxyHeader& a, const ProxyHeader& b) {
  auto same_address = [](const capstan::net::CompactAddress& x, const capstan::net::CompactAddress& y) {
    return x.family == y.family && x.port == y.port && std::memcmp(x.bytes, y.bytes, sizeof x.bytes) == 0;
  };
  return a.status == b.status && a.error == b.error && a.size == b.size && a.has_source == b.has_source &&
         same_address(a.source, b.source) && same_address(a.destination, b.destination);
}

void check(const ProxyHeader& h, std::string_view input, size_t max_size) {
  if (h.status == ProxyHeader::Status::error) {
    FUZZ_CHECK(h.error != capstan::net::ProxyHeaderError::none);
    FUZZ_CHECK(capstan::net::describe(h.error) != "?");
    return;
  }
  FUZZ_CHECK(h.error == capstan::net::ProxyHeaderError::none);
  if (h.status == ProxyHeader::Status::incomplete) return;
  FUZZ_CHECK(h.size >= 8 && h.size <= input.size());
  FUZZ_CHECK(input[0] == 'P' ? h.size <= 107 : h.size <= max_size);
  if (h.has_source) {
    FUZZ_CHECK(h.source.family == AF_INET || h.source.family == AF_INET6);
    FUZZ_CHECK(h.destination.family == h.source.family || h.destination.family == AF_INET || h.destination.family == AF_INET6);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static constexpr size_t kLimits[] = {16 * 1024, 256, 28, 64 * 1024 + 16};
  const size_t max_size = kLimits[data[0] & 3];
  const uint32_t seed = data[1] | (uint32_t{data[0]} << 8);
  const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

  const ProxyHeader whole = capstan::net::parse_proxy_header(input, max_size);
  check(whole, input, max_size);

  for (int mode = 0; mode < 2; ++mode) {
    const std::vector<size_t> pieces = mode == 0 ? capstan::fuzz::split_sizes(input.size(), seed, 1 + (data[0] >> 2) * 4)
                                                 : std::vector<size_t>(input.size(), 1);
    std::string buffer;
    size_t offset = 0;
    ProxyHeader h;
    for (size_t n : pieces) {
      buffer.append(input.substr(offset, n));
      offset += n;
      h = capstan::net::parse_proxy_header(buffer, max_size);
      if (h.status != ProxyHeader::Status::incomplete) break;
    }
    check(h, buffer, max_size);
    FUZZ_CHECK(same(h, whole));
  }
  return 0;
}
