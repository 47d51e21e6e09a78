// Plain HTTP responses: the endpoints that are not WebSocket upgrades and every refusal.
// Each response closes the connection, so none needs keep-alive bookkeeping.
#pragma once

#include <string>
#include <string_view>

namespace capstan::http {

std::string_view status_text(int status) noexcept;

// Appends a complete response with `Connection: close`. `extra_headers` are whole lines,
// each ending in CRLF.
void append_response(std::string& out, int status, std::string_view content_type, std::string_view body,
                     std::string_view extra_headers = {});

// A short text/plain error response whose body says why.
void append_error(std::string& out, int status, std::string_view reason);

}  // namespace capstan::http
