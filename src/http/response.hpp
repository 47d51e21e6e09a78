// Plain HTTP responses: the endpoints that are not WebSocket upgrades and every refusal.
// Refusals close the connection; endpoints' answers (app/http_exchange) may keep it alive.
#pragma once

#include <string>
#include <string_view>

namespace capstan::http {

std::string_view status_text(int status) noexcept;

// Appends a complete response with `Connection: close`. `extra_headers` are whole lines,
// each ending in CRLF.
void append_response(std::string& out, int status, std::string_view content_type, std::string_view body,
                     std::string_view extra_headers = {});

// How a response's body is delimited.
enum class BodyLength : uint8_t { fixed, chunked, until_close };

// The status line and headers up to the blank line included: Content-Length for `fixed`,
// Transfer-Encoding: chunked for `chunked`, neither (the close ends it) for `until_close`.
// `extra_headers` are whole lines, each ending in CRLF.
void append_head(std::string& out, int status, std::string_view content_type, BodyLength length, size_t content_length,
                 bool keep_alive, std::string_view extra_headers = {});

// A short text/plain error response whose body says why.
void append_error(std::string& out, int status, std::string_view reason);

}  // namespace capstan::http
