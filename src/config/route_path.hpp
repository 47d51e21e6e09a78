// Where a route is served: its path (default "/" + component) under the server prefix. One
// function, so the server and `capstan routes` never disagree.
#pragma once

#include <string>
#include <string_view>

namespace capstan::config {

std::string route_path(std::string_view prefix, std::string_view path, std::string_view component);

}  // namespace capstan::config
