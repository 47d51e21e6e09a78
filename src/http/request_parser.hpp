// HTTP/1.1 request head parser (RFC 9112 §2–5), pure and resumable.
//
// The caller keeps the bytes received so far and calls `parse` again after every read with
// the whole buffer; the parser remembers how far it has scanned, so input split at any byte
// costs linear time. Garbage is refused as soon as it is seen (400), an oversized head as soon
// as it passes the limit (431), without waiting for the end of the head.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "capstan/error.hpp"
#include "capstan/http.hpp"
#include "util/strings.hpp"

namespace capstan::http {

// The public type (capstan/http.hpp), so a request's headers reach endpoints without a copy.
using Header = capstan::HttpHeader;

inline constexpr size_t kMaxHeaders = 64;

// Views into the parsed buffer; valid while that buffer is.
struct Request {
  std::string_view method;
  std::string_view target;  // path?query as sent
  std::string_view path;
  std::string_view query;   // without the '?'
  uint8_t version_minor = 1;
  Header headers[kMaxHeaders];
  size_t header_count = 0;

  // The first header of that name (case-insensitive), or empty.
  std::string_view header(std::string_view name) const noexcept;
  // True when a comma-separated header of that name lists `token` (case-insensitive).
  bool header_has_token(std::string_view name, std::string_view token) const noexcept;
};

struct ParseResult {
  enum class Status : uint8_t { incomplete, complete, error };
  Status status = Status::incomplete;
  HttpError error{};         // on error; http_status_of(error) is 400, 431 or 505
  size_t head_size = 0;      // on complete: bytes up to and including the blank line
};

class RequestParser {
 public:
  explicit RequestParser(size_t max_head_size = 16 * 1024) noexcept : max_head_size_(max_head_size) {}

  // `buffered` must start with the bytes given to the previous calls.
  ParseResult parse(std::string_view buffered, Request& out) noexcept;
  void reset() noexcept { scanned_ = 0; method_checked_ = 0; }

 private:
  ParseResult parse_head(std::string_view head, Request& out) const noexcept;

  size_t scanned_ = 0;
  size_t method_checked_ = 0;  // bytes of the method already known to be token characters
  size_t max_head_size_;
};

using util::find_in_list;
using util::iequals;
using util::trim_ows;

}  // namespace capstan::http
