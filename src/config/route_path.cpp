#include "config/route_path.hpp"

#include <cstdint>

namespace capstan::config {

std::string route_path(std::string_view prefix, std::string_view path, std::string_view component) {
  std::string own = path.empty() ? "/" + std::string(component) : std::string(path);
  if (prefix.empty()) return own;
  // "/socket.io" + "/" is "/socket.io", not "/socket.io/".
  return own == "/" ? std::string(prefix) : std::string(prefix) + own;
}

size_t route_match_rank(std::string_view route, std::string_view path) noexcept {
  if (route == path) return SIZE_MAX;
  if (!route.ends_with("/*")) return 0;
  const std::string_view base = route.substr(0, route.size() - 2);
  if (path == base) return base.size() + 1;
  if (path.size() > base.size() && path.starts_with(base) && path[base.size()] == '/') return base.size() + 1;
  return 0;
}

}  // namespace capstan::config
