#include "http/response.hpp"

namespace capstan::http {

std::string_view status_text(int status) noexcept {
  switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

void append_response(std::string& out, int status, std::string_view content_type, std::string_view body,
                     std::string_view extra_headers) {
  out.append("HTTP/1.1 ").append(std::to_string(status)).append(" ").append(status_text(status));
  out.append("\r\nServer: capstan\r\nConnection: close\r\nContent-Type: ").append(content_type);
  out.append("\r\nContent-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append(extra_headers).append("\r\n").append(body);
}

void append_error(std::string& out, int status, std::string_view reason) {
  std::string body(reason);
  body.push_back('\n');
  std::string_view extra = status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "";
  append_response(out, status, "text/plain; charset=utf-8", body, extra);
}

}  // namespace capstan::http
