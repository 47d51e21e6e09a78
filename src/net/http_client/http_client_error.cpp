// The http_client category: why a request of the HTTP client got no answer, and the status a
// proxy answers its own client with then (a gateway's 502, 503, 504).
#include "net/http_client/http_client_error.hpp"

#include "capstan/error.hpp"
#include "util/error_category.hpp"

namespace capstan {

namespace {

struct Entry {
  uint16_t status;
  const char* text;
};

// Indexed by HttpClientError.
constexpr Entry kEntries[] = {
    {502, "HTTP request failed"},
    {504, "backend timed out"},
    {502, "backend unreachable"},
    {503, "too many requests in flight"},
    {500, "bad URL"},
    {500, "invalid request"},
    {502, "transfer failed"},
    {502, "response too large"},
    {503, "shutting down"},
};
constexpr int kCount = static_cast<int>(sizeof kEntries / sizeof kEntries[0]);
static_assert(kCount == static_cast<int>(HttpClientError::shutting_down) + 1, "one entry per HttpClientError");

const Entry& entry(int value) noexcept { return kEntries[value > 0 && value < kCount ? value : 0]; }

const char* text_of(int value) noexcept { return entry(value).text; }

}  // namespace

const std::error_category& http_client_category() noexcept {
  static const util::TableCategory category("capstan.http_client", text_of);
  return category;
}

const char* describe(HttpClientError e) noexcept { return entry(static_cast<int>(e)).text; }

uint16_t net::http_client_status(int value) noexcept { return entry(value).status; }

}  // namespace capstan
