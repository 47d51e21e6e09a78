// One loop's plain HTTP endpoints (capstan/http.hpp): each path's handler instance, made on
// this loop from the endpoint's factory, and the lookup a request's path goes through.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "capstan/http.hpp"

namespace capstan {
struct ComponentServices;
}

namespace capstan::app {

class EndpointTable {
 public:
  struct Entry {
    std::string path;
    EndpointOptions options;
    std::unique_ptr<HttpHandler> handler;
  };

  void add(const Endpoint& endpoint, Loop& loop, ComponentServices& services);
  void start();  // every handler's on_start, once the loop's routes exist
  // The endpoint of `path`: its own, else the longest prefix endpoint above it; or null.
  const Entry* find(std::string_view path) const noexcept;

 private:
  std::vector<Entry> entries_;
};

}  // namespace capstan::app
