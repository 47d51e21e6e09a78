#include "http/forwarded_for.hpp"

namespace capstan::http {

namespace {

// One list entry: "192.0.2.7", "2001:db8::1", and the forms some proxies add a port or
// brackets to: "192.0.2.7:4711", "[2001:db8::1]", "[2001:db8::1]:4711".
bool parse_entry(std::string_view text, net::CompactAddress& out) noexcept {
  text = trim_ows(text);
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    const std::string_view after = text.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return false;
    return net::parse_ip(text.substr(1, close - 1), out);
  }
  const size_t colon = text.find(':');
  if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos)
    text = text.substr(0, colon);  // one colon: IPv4 with a port (IPv6 has two or more)
  return net::parse_ip(text, out);
}

}  // namespace

std::optional<net::CompactAddress> client_from_forwarded_for(const Request& request, const net::AddressSet& trusted) {
  std::optional<net::CompactAddress> client;
  // Several X-Forwarded-For lines are one list in order (RFC 9110 section 5.3): walk them
  // from the last, each from its end.
  for (size_t h = request.header_count; h-- > 0;) {
    if (!iequals(request.headers[h].name, "X-Forwarded-For")) continue;
    std::string_view list = request.headers[h].value;
    for (;;) {
      const size_t comma = list.rfind(',');
      const std::string_view entry = comma == std::string_view::npos ? list : list.substr(comma + 1);
      net::CompactAddress address;
      // A malformed entry ends the walk: what lies left of it came through a hop that
      // cannot even write an address, so it is not believed either.
      if (!parse_entry(entry, address)) return client;
      client = address;
      if (!trusted.contains(address)) return client;
      if (comma == std::string_view::npos) break;
      list = list.substr(0, comma);
    }
  }
  return client;  // every hop trusted: the left-most is as far as anyone can tell
}

}  // namespace capstan::http
