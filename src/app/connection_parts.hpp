// The parts of a connection that exist only part of the time, each allocated on demand so an
// idle connection carries none of them.
#pragma once

#include <string>

#include "http/request_parser.hpp"

namespace capstan::app {

// The HTTP phase: the request so far and its parse.
struct Handshake {
  explicit Handshake(size_t max_head) : parser(max_head) {}
  std::string buffer;  // only when the request spans reads
  http::RequestParser parser;
  http::Request request;
};

// Output the kernel did not take yet, in order.
struct Outbox {
  std::string data;
  size_t offset = 0;
  size_t pending() const noexcept { return data.size() - offset; }
};

}  // namespace capstan::app
