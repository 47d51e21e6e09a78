#include "http/response.hpp"

namespace capstan::http {

std::string_view status_text(int status) noexcept {
  switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 202: return "Accepted";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

void append_head(std::string& out, int status, std::string_view content_type, BodyLength length, size_t content_length,
                 bool keep_alive, std::string_view extra_headers) {
  out.append("HTTP/1.1 ").append(std::to_string(status)).append(" ").append(status_text(status));
  out.append(keep_alive ? "\r\nServer: capstan\r\nConnection: keep-alive" : "\r\nServer: capstan\r\nConnection: close");
  if (!content_type.empty()) out.append("\r\nContent-Type: ").append(content_type);
  if (length == BodyLength::fixed) out.append("\r\nContent-Length: ").append(std::to_string(content_length));
  else if (length == BodyLength::chunked) out.append("\r\nTransfer-Encoding: chunked");
  out.append("\r\n").append(extra_headers).append("\r\n");
}

void append_response(std::string& out, int status, std::string_view content_type, std::string_view body,
                     std::string_view extra_headers) {
  append_head(out, status, content_type, BodyLength::fixed, body.size(), false, extra_headers);
  out.append(body);
}

void append_error(std::string& out, int status, std::string_view reason) {
  std::string body(reason);
  body.push_back('\n');
  std::string_view extra = status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "";
  append_response(out, status, "text/plain; charset=utf-8", body, extra);
}

}  // namespace capstan::http
