#include "net/socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace capstan::net {

CompactAddress CompactAddress::from(const sockaddr* sa) noexcept {
  CompactAddress a;
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    a.family = AF_INET;
    a.port = ntohs(in->sin_port);
    std::memcpy(a.bytes, &in->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    a.family = AF_INET6;
    a.port = ntohs(in6->sin6_port);
    std::memcpy(a.bytes, &in6->sin6_addr, 16);
  }
  return a;
}

CompactAddress CompactAddress::unmapped() const noexcept {
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (family != AF_INET6 || std::memcmp(bytes, kMappedPrefix, sizeof kMappedPrefix) != 0) return *this;
  CompactAddress a;
  a.family = AF_INET;
  a.port = port;
  std::memcpy(a.bytes, bytes + 12, 4);  // the rest stays zero, as from() leaves an IPv4 address
  return a;
}

std::string CompactAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (family == AF_INET) {
    inet_ntop(AF_INET, bytes, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(port);
  }
  if (family == AF_INET6) {
    inet_ntop(AF_INET6, bytes, buf, sizeof buf);
    std::string out;  // appended piecewise: GCC 12 warns falsely on "[" + std::string (PR 105329)
    out.append("[").append(buf).append("]:").append(std::to_string(port));
    return out;
  }
  return "unknown";
}

Expected<ListenAddress> parse_listen_address(std::string_view text) {
  std::string_view host, port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return Error(ConfigError::invalid, "expected [IPv6]:PORT");
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Error(ConfigError::invalid, "expected HOST:PORT");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return Error(ConfigError::invalid, "an IPv6 address needs brackets: [::1]:8080");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) return Error(ConfigError::invalid, "invalid port '" + std::string(port_text) + "'");
  ListenAddress out;
  out.text = std::string(text);
  std::string host_str(host == "localhost" ? "127.0.0.1" : host);
  auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET, host_str.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(static_cast<uint16_t>(port));
    out.length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host_str.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<uint16_t>(port));
    out.length = sizeof(sockaddr_in6);
  } else return Error(ConfigError::invalid, "invalid address '" + host_str + "' (a numeric IPv4/IPv6 address or localhost)");
  return out;
}

}  // namespace capstan::net
