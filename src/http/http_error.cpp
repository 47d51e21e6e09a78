// The http category: why a request is refused before the upgrade, and the status it gets.
// http_status_of also answers for the HTTP client's category (net/http_client/).
#include "capstan/error.hpp"

#include "net/http_client/http_client_error.hpp"
#include "util/error_category.hpp"

namespace capstan {

namespace {

struct Entry {
  uint16_t status;
  const char* text;
};

// Indexed by HttpError; the texts are the bodies of the refusals.
constexpr Entry kEntries[] = {
    {500, "unknown HTTP error"},
    {400, "control character in request head"},
    {400, "malformed request line"},
    {400, "malformed HTTP version"},
    {505, "HTTP version not supported"},
    {400, "request target must be a path"},
    {400, "malformed request target"},
    {400, "malformed header"},
    {400, "obsolete header line folding"},
    {400, "malformed header name"},
    {400, "bare CR or LF in header"},
    {431, "request head too large"},
    {431, "too many headers"},
    {405, "WebSocket upgrade must use GET"},
    {400, "WebSocket upgrade needs HTTP/1.1"},
    {400, "missing Host header"},
    {400, "Connection header must contain Upgrade"},
    {426, "unsupported Sec-WebSocket-Version"},
    {400, "invalid Sec-WebSocket-Key"},
    {404, "no route for this path"},
    {403, "origin not allowed"},
    {426, "this path is a WebSocket endpoint"},
    {405, "method not allowed"},
    {411, "a request body needs Content-Length"},
    {400, "malformed Content-Length"},
    {413, "request body too large"},
};
constexpr int kCount = static_cast<int>(sizeof kEntries / sizeof kEntries[0]);
static_assert(kCount == static_cast<int>(HttpError::body_too_large) + 1, "one entry per HttpError");

const Entry& entry(int value) noexcept { return kEntries[value > 0 && value < kCount ? value : 0]; }

const char* text_of(int value) noexcept { return entry(value).text; }

}  // namespace

const std::error_category& http_category() noexcept {
  static const util::TableCategory category("capstan.http", text_of);
  return category;
}

const char* describe(HttpError e) noexcept { return entry(static_cast<int>(e)).text; }

uint16_t http_status_of(std::error_code code) noexcept {
  if (!code) return 0;
  if (code.category() == http_category()) return entry(code.value()).status;
  if (code.category() == http_client_category()) return net::http_client_status(code.value());
  return 500;
}

}  // namespace capstan
