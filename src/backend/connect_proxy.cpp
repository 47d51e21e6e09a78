#include "backend/connect_proxy.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "capstan/json.hpp"
#include "capstan/users.hpp"
#include "ws/utf8.hpp"

namespace capstan::backend {

namespace {

// HTTP allows bytes past ASCII in a header (obs-text, ISO-8859-1 by history) and a raw path;
// JSON strings are UTF-8. Text that is not UTF-8 is read as Latin-1, so it arrives, readable.
std::string as_utf8(std::string_view text) {
  if (ws::is_valid_utf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() * 2);
  for (unsigned char ch : text) {
    if (ch < 0x80) {
      out.push_back(static_cast<char>(ch));
    } else {
      out.push_back(static_cast<char>(0xC0 | (ch >> 6)));
      out.push_back(static_cast<char>(0x80 | (ch & 0x3F)));
    }
  }
  return out;
}

}  // namespace

std::string connect_body(std::string_view path, std::string_view query, std::span<const HttpHeader> headers,
                         std::string_view address) {
  // Ordered by name, so the application (and its tests) see the same text for the same request.
  std::map<std::string, std::string, std::less<>> merged;
  for (const HttpHeader& h : headers) {
    std::string name(h.name);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    auto [it, fresh] = merged.try_emplace(as_utf8(name), as_utf8(h.value));
    if (!fresh) it->second.append(it->first == "cookie" ? "; " : ", ").append(as_utf8(h.value));
  }
  std::string out;
  JsonWriter w(out);
  w.raw("{\"path\":").string(as_utf8(path)).raw(",\"query\":").string(as_utf8(query)).raw(",\"headers\":{");
  bool first = true;
  for (const auto& [name, value] : merged) {
    if (!first) w.raw(",");
    first = false;
    w.string(name).raw(":").string(value);
  }
  w.raw("},\"address\":").string(address).raw("}");
  return out;
}

namespace {

ConnectAnswer failed(std::string reason) {
  ConnectAnswer a;
  a.kind = ConnectAnswer::Kind::failed;
  a.reason = std::move(reason);
  return a;
}

}  // namespace

ConnectAnswer read_connect_answer(const Expected<HttpClientResponse>& response) {
  if (!response) return failed("connect proxy unavailable: " + response.error().message());
  const int status = response->status;
  if (status == 401 || status == 403) {
    ConnectAnswer a;
    a.kind = ConnectAnswer::Kind::refused;
    a.reason = "refused by the connect proxy (" + std::to_string(status) + ")";
    return a;
  }
  if (status != 200) return failed("connect proxy answered " + std::to_string(status));
  JsonParser parser;
  Expected<Json> root = parser.parse(response->body);
  if (!root || root->type() != Json::Type::object) return failed("connect proxy answer is not a JSON object");
  if ((*root)["anonymous"].as_bool().value_or(false)) {
    ConnectAnswer a;
    a.kind = ConnectAnswer::Kind::anonymous;
    return a;
  }
  const std::optional<std::string_view> identity = (*root)["user"].as_string();
  if (!identity || identity->empty()) return failed("connect proxy answer has no \"user\" string");
  ConnectAnswer a;
  a.kind = ConnectAnswer::Kind::user;
  a.identity = *identity;
  const Json id = (*root)["id"];
  if (std::optional<int64_t> number = id.as_int()) a.id = *number;
  else if (std::optional<std::string_view> text = id.as_string()) a.id = Users::id_from_identity(*text);
  else if (id.exists() && id.type() != Json::Type::null) return failed("connect proxy answer's \"id\" is not an integer");
  else a.id = Users::id_from_identity(a.identity);
  const Json data = (*root)["data"];
  if (data.exists() && data.type() != Json::Type::null) a.data = data.dump();
  return a;
}

}  // namespace capstan::backend
