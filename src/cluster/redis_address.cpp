#include "cluster/redis_address.hpp"

#include <charconv>

namespace capstan::cluster {

bool parse_redis_url(std::string_view url, RedisAddress& out) {
  if (url.starts_with("redis://")) url.remove_prefix(8);
  if (const size_t at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);  // no AUTH yet: see the note in docs
  if (const size_t slash = url.find('/'); slash != std::string_view::npos) url = url.substr(0, slash);
  if (url.empty()) return false;
  const size_t colon = url.rfind(':');
  out.host = std::string(url.substr(0, colon));
  out.port = 6379;
  if (colon != std::string_view::npos) {
    const std::string_view port = url.substr(colon + 1);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
    if (ec != std::errc() || end != port.data() + port.size() || out.port <= 0 || out.port > 65535) return false;
  }
  return !out.host.empty();
}

}  // namespace capstan::cluster
