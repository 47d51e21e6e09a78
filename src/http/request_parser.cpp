// Scanning for the end of the head, then one strict pass over the complete head.
#include "http/request_parser.hpp"

#include <cstring>

namespace capstan::http {

namespace {

ParseResult error(HttpError e) noexcept {
  return {ParseResult::Status::error, e, 0};
}

// RFC 9110 §5.6.2 token characters.
bool is_tchar(unsigned char c) noexcept {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return c && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// Bytes never allowed anywhere in a head: control characters other than CR, LF and HTAB.
bool is_forbidden(unsigned char c) noexcept {
  return (c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7F;
}

}  // namespace


std::string_view Request::header(std::string_view name) const noexcept {
  for (size_t i = 0; i < header_count; ++i)
    if (iequals(headers[i].name, name)) return headers[i].value;
  return {};
}

bool Request::header_has_token(std::string_view name, std::string_view token) const noexcept {
  for (size_t i = 0; i < header_count; ++i) {
    if (!iequals(headers[i].name, name)) continue;
    if (find_in_list(headers[i].value, [&](std::string_view item) { return iequals(item, token); })) return true;
  }
  return false;
}

ParseResult RequestParser::parse(std::string_view buf, Request& out) noexcept {
  // Resume a few bytes back so a terminator split across calls is still found.
  size_t i = scanned_ >= 3 ? scanned_ - 3 : 0;
  const size_t limit = buf.size() < max_head_size_ ? buf.size() : max_head_size_;
  for (; i < limit; ++i) {
    const unsigned char c = static_cast<unsigned char>(buf[i]);
    if (is_forbidden(c)) return error(HttpError::control_character);
    if (c == '\n' && i >= 3 && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
      scanned_ = i + 1;
      return parse_head(buf.substr(0, i + 1), out);
    }
  }
  scanned_ = limit;
  // The method is the first thing sent: refuse a non-token there at once (TLS to a plain
  // port, random bytes) instead of waiting for a blank line that never comes.
  for (; method_checked_ < scanned_ && buf[method_checked_] != ' '; ++method_checked_)
    if (!is_tchar(static_cast<unsigned char>(buf[method_checked_]))) return error(HttpError::malformed_request_line);
  if (buf.size() >= max_head_size_) return error(HttpError::head_too_large);
  return {};
}

ParseResult RequestParser::parse_head(std::string_view head, Request& out) const noexcept {
  out.header_count = 0;
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);

  // request-line = method SP request-target SP HTTP-version
  size_t sp1 = line.find(' ');
  if (sp1 == 0 || sp1 == std::string_view::npos) return error(HttpError::malformed_request_line);
  out.method = line.substr(0, sp1);
  for (char c : out.method)
    if (!is_tchar(static_cast<unsigned char>(c))) return error(HttpError::malformed_request_line);
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return error(HttpError::malformed_request_line);
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
    return error(HttpError::malformed_version);
  if (version[5] != '1') return error(HttpError::version_not_supported);
  out.version_minor = static_cast<uint8_t>(version[7] - '0');
  if (out.target.front() != '/') return error(HttpError::target_not_a_path);
  for (char c : out.target)
    if (c == ' ' || static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return error(HttpError::malformed_target);
  size_t q = out.target.find('?');
  out.path = out.target.substr(0, q);
  out.query = q == std::string_view::npos ? std::string_view{} : out.target.substr(q + 1);

  // header-field = field-name ":" OWS field-value OWS
  size_t pos = eol + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == pos) break;  // the blank line
    if (end == std::string_view::npos) return error(HttpError::malformed_header);
    std::string_view field = head.substr(pos, end - pos);
    if (field.front() == ' ' || field.front() == '\t') return error(HttpError::obsolete_line_folding);
    size_t colon = field.find(':');
    if (colon == 0 || colon == std::string_view::npos) return error(HttpError::malformed_header);
    std::string_view name = field.substr(0, colon);
    for (char c : name)
      if (!is_tchar(static_cast<unsigned char>(c))) return error(HttpError::malformed_header_name);
    for (char c : field.substr(colon + 1))
      if (c == '\r' || c == '\n') return error(HttpError::bare_cr_or_lf);
    if (out.header_count == kMaxHeaders) return error(HttpError::too_many_headers);
    out.headers[out.header_count++] = {name, trim_ows(field.substr(colon + 1))};
    pos = end + 2;
  }
  return {ParseResult::Status::complete, {}, head.size()};
}

}  // namespace capstan::http
