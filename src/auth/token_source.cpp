// Where a token is looked for in an upgrade request: the query string, a header, an offered
// subprotocol, a cookie.
#include "auth/token_source.hpp"

#include "auth/base64url.hpp"
#include "http/request_parser.hpp"

namespace capstan::auth {

namespace {

using util::iequals;
using util::trim_ows;

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
  return -1;
}

// %XX decoded; a '%' not followed by two hex digits is kept as it is. '+' stays '+': a JWT
// has no spaces, and a '+' in one can only be a client's mistake either way.
std::string percent_decode(std::string_view text) {
  // A JWT is base64url and dots: usually nothing to decode, so one copy instead of a loop.
  if (text.find('%') == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const int hi = text[i] == '%' && i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
    const int lo = hi >= 0 ? hex_value(text[i + 2]) : -1;
    if (lo < 0) {
      out += text[i];
      continue;
    }
    out += static_cast<char>(hi << 4 | lo);
    i += 2;
  }
  return out;
}

// Calls `fn(name, value)` for each `name=value` element of `list` split at `separator`,
// until it returns true.
template <class Fn>
bool find_pair(std::string_view list, char separator, Fn&& fn) {
  while (!list.empty()) {
    const size_t end = list.find(separator);
    const std::string_view item = list.substr(0, end);
    const size_t eq = item.find('=');
    if (eq != std::string_view::npos && fn(item.substr(0, eq), item.substr(eq + 1))) return true;
    if (end == std::string_view::npos) break;
    list.remove_prefix(end + 1);
  }
  return false;
}

// Three non-empty base64url parts joined by two dots, the first starting with "ey" (the
// encoding of '{', as a JOSE header does): a compact JWS, and not a protocol name such as
// WAMP's "wamp.2.json".
bool looks_like_jwt(std::string_view value) noexcept {
  const size_t dot1 = value.find('.');
  if (dot1 == std::string_view::npos || !value.starts_with("ey")) return false;
  const size_t dot2 = value.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || dot2 == dot1 + 1 || dot2 + 1 == value.size()) return false;
  return is_base64url_text(value.substr(0, dot1)) && is_base64url_text(value.substr(dot1 + 1, dot2 - dot1 - 1)) &&
         is_base64url_text(value.substr(dot2 + 1));
}

bool from_query(std::string_view query, const std::string& name, FoundToken& out) {
  return find_pair(query, '&', [&](std::string_view key, std::string_view value) {
    if (value.empty() || percent_decode(key) != name) return false;
    out.token = percent_decode(value);
    return true;
  });
}

// "Bearer <token>" (RFC 6750 §2.1, scheme case-insensitive) from Authorization; from another
// header the value itself, or what follows "Bearer " when the client added it anyway.
bool from_header(const http::Request& request, const std::string& name, FoundToken& out) {
  const bool authorization = iequals(name, "Authorization");
  for (size_t i = 0; i < request.header_count; ++i) {
    if (!iequals(request.headers[i].name, name)) continue;
    std::string_view value = trim_ows(request.headers[i].value);
    const bool bearer = value.size() > 7 && iequals(value.substr(0, 7), "Bearer ");
    if (bearer) value = trim_ows(value.substr(7));
    else if (authorization) continue;  // Basic, Digest...: not ours
    if (value.empty()) continue;
    out.token = value;
    return true;
  }
  return false;
}

// Browsers cannot set headers on a WebSocket, so clients smuggle the token as an offered
// subprotocol. The handshake must then select one of the offered protocols or the browser
// fails it: a protocol the route accepts, else another offered value, else the token.
bool from_protocol(const http::Request& request, const std::vector<std::string>& route_protocols, FoundToken& out) {
  std::string_view token, accepted, other;
  for (size_t i = 0; i < request.header_count; ++i) {
    if (!iequals(request.headers[i].name, "Sec-WebSocket-Protocol")) continue;
    http::find_in_list(request.headers[i].value, [&](std::string_view offered) {
      if (offered.empty()) return false;
      if (looks_like_jwt(offered)) {
        if (token.empty()) token = offered;
        return false;
      }
      if (other.empty()) other = offered;
      if (accepted.empty())
        for (const std::string& p : route_protocols)
          if (p == offered) accepted = offered;
      return false;
    });
  }
  if (token.empty()) return false;
  out.token = token;
  out.protocol_answer = !accepted.empty() ? accepted : !other.empty() ? other : token;
  out.from_protocol = true;
  return true;
}

// Cookie: a=b; c=d (RFC 6265 §4.2.1); the name is case-sensitive, a quoted value unquoted.
bool from_cookie(const http::Request& request, const std::string& name, FoundToken& out) {
  for (size_t i = 0; i < request.header_count; ++i) {
    if (!iequals(request.headers[i].name, "Cookie")) continue;
    const bool found = find_pair(request.headers[i].value, ';', [&](std::string_view key, std::string_view value) {
      if (trim_ows(key) != name) return false;
      value = trim_ows(value);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      if (value.empty()) return false;
      out.token = value;
      return true;
    });
    if (found) return true;
  }
  return false;
}

}  // namespace

Expected<std::vector<TokenSource>> parse_token_sources(const std::vector<std::string>& specs) {
  std::vector<TokenSource> out;
  for (const std::string& spec : specs) {
    const size_t colon = spec.find(':');
    const std::string_view kind = std::string_view(spec).substr(0, colon);
    const std::string name = colon == std::string::npos ? "" : spec.substr(colon + 1);
    TokenSource source{TokenSource::Kind::protocol, name};
    if (kind == "protocol" && colon == std::string::npos) {
      out.push_back(source);
      continue;
    }
    if (kind == "query") source.kind = TokenSource::Kind::query;
    else if (kind == "header") source.kind = TokenSource::Kind::header;
    else if (kind == "cookie") source.kind = TokenSource::Kind::cookie;
    if (source.kind == TokenSource::Kind::protocol || name.empty() || trim_ows(name) != name)
      return Error(ConfigError::invalid,
                   "bad token source \"" + spec + "\" (query:NAME, header:NAME, protocol or cookie:NAME)");
    out.push_back(std::move(source));
  }
  return out;
}

bool find_token(const http::Request& request, std::string_view query, const std::vector<TokenSource>& sources,
                const std::vector<std::string>& route_protocols, FoundToken& out) {
  out = FoundToken{};
  for (const TokenSource& source : sources) {
    bool found = false;
    switch (source.kind) {
      case TokenSource::Kind::query: found = from_query(query, source.name, out); break;
      case TokenSource::Kind::header: found = from_header(request, source.name, out); break;
      case TokenSource::Kind::protocol: found = from_protocol(request, route_protocols, out); break;
      case TokenSource::Kind::cookie: found = from_cookie(request, source.name, out); break;
    }
    if (found) return true;
  }
  return false;
}

}  // namespace capstan::auth
