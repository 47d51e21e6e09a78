// The parts of a connection that exist only part of the time, each allocated on demand so an
// idle connection carries none of them.
#pragma once

#include <string>

#include <memory>

#include "app/http_exchange.hpp"
#include "http/request_parser.hpp"
#include "ws/deflate_codec.hpp"
#include "ws/deflate_offer.hpp"

namespace capstan::app {

// The HTTP phase: the request so far and its parse; between plain requests of a kept-alive
// connection, the answer in flight.
struct Handshake {
  explicit Handshake(size_t max_head) : parser(max_head) {}
  ~Handshake() {
    if (exchange) exchange->detach();  // the connection is going: a late answer finds nothing
  }
  std::string buffer;  // only when the request spans reads, or waits behind an answer
  std::string early;      // frames sent right behind the request, kept while the user is looked up
  std::string switching;  // the 101 response, held back while the user is looked up
  http::RequestParser parser;
  http::Request request;
  std::shared_ptr<HttpExchange> exchange;  // a plain request's answer, while unanswered or streaming
  uint32_t served = 0;       // plain requests answered on this connection
  bool dispatching = false;  // inside the handler's call: an answer given there ends nothing yet
  bool answered = false;     // the answer completed during that call
};

// permessage-deflate as negotiated for one connection; in dedicated mode it also owns the
// connection's codecs (made on first use), in shared mode the loop's are used.
struct Compression {
  ws::DeflateParams params;
  bool shared = true;  // the loop's codecs (config mode "shared"), decided at negotiation
  std::unique_ptr<ws::Deflater> deflater;
  std::unique_ptr<ws::Inflater> inflater;
};

// Output the kernel did not take yet, in order.
struct Outbox {
  std::string data;
  size_t offset = 0;
  size_t pending() const noexcept { return data.size() - offset; }
};

}  // namespace capstan::app
