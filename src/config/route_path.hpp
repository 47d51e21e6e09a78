// Where a route is served: its path (default "/" + component) under the server prefix. One
// function, so the server and `capstan routes` never disagree.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace capstan::config {

std::string route_path(std::string_view prefix, std::string_view path, std::string_view component);

// How well a route's path matches a request's path: 0 for not at all. A path ending in "/*"
// serves its whole subtree ("/app/*": "/app", "/app/", "/app/x/y"; "/*": every path), as
// Ratchet's IoServer without a router does; an exact path outranks any subtree, and a deeper
// subtree a shallower one.
size_t route_match_rank(std::string_view route, std::string_view path) noexcept;

}  // namespace capstan::config
