#include "config/route_path.hpp"

namespace capstan::config {

std::string route_path(std::string_view prefix, std::string_view path, std::string_view component) {
  std::string own = path.empty() ? "/" + std::string(component) : std::string(path);
  if (prefix.empty()) return own;
  // "/socket.io" + "/" is "/socket.io", not "/socket.io/".
  return own == "/" ? std::string(prefix) : std::string(prefix) + own;
}

}  // namespace capstan::config
