// Parsing a browser's WebSocket upgrade request (http::RequestParser), once per connection.
// Cheap next to the TCP handshake, but it runs for every handshake (the auth benchmark does
// ~100k/s), and its resumable scan must not cost much more when the head arrives in pieces:
// "whole" is one read, "split" two reads with the second parse given the whole buffer again,
// as the connection does.
#include <benchmark/benchmark.h>

#include <string_view>

#include "http/request_parser.hpp"

namespace {

using capstan::http::ParseResult;

// What a browser sends for `new WebSocket("wss://chat.example.com/socket?room=42")` with a
// session cookie (Chrome's headers, without its caching ones): 524 bytes, 10 header fields.
constexpr std::string_view kUpgradeRequest =
    "GET /socket?room=42 HTTP/1.1\r\n"
    "Host: chat.example.com\r\n"
    "Connection: Upgrade\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36\r\n"
    "Upgrade: websocket\r\n"
    "Origin: https://chat.example.com\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Accept-Language: en-US,en;q=0.9,de;q=0.8\r\n"
    "Cookie: session=4f8a2c1e9b7d4e3fa0c6b5d8e2f1a9c7; theme=dark; _ga=GA1.2.123456789.1700000000\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "\r\n";

void BM_ParseUpgradeWhole(benchmark::State& state) {
  capstan::http::RequestParser parser;
  capstan::http::Request request;
  for (auto _ : state) {
    parser.reset();
    ParseResult result = parser.parse(kUpgradeRequest, request);
    if (result.status != ParseResult::Status::complete) {
      state.SkipWithError("request not complete");
      break;
    }
    benchmark::DoNotOptimize(request);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kUpgradeRequest.size()));
}
BENCHMARK(BM_ParseUpgradeWhole);

// Split in the middle (inside Sec-WebSocket-Version): the first parse scans half and finds no end.
void BM_ParseUpgradeSplit(benchmark::State& state) {
  const std::string_view first = kUpgradeRequest.substr(0, kUpgradeRequest.size() / 2);
  capstan::http::RequestParser parser;
  capstan::http::Request request;
  for (auto _ : state) {
    parser.reset();
    ParseResult partial = parser.parse(first, request);
    ParseResult result = parser.parse(kUpgradeRequest, request);
    if (partial.status != ParseResult::Status::incomplete || result.status != ParseResult::Status::complete) {
      state.SkipWithError("unexpected parse status");
      break;
    }
    benchmark::DoNotOptimize(request);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kUpgradeRequest.size()));
}
BENCHMARK(BM_ParseUpgradeSplit);

}  // namespace
