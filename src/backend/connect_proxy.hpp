// The connect proxy's exchange with the web application (SPEC 5a): the JSON describing a new
// connection's upgrade request, and what the application's answer makes of the connection.
// Pure functions: the HTTP phase (app/http_auth.cpp) sends and waits.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "capstan/error.hpp"
#include "capstan/http.hpp"
#include "capstan/http_client.hpp"

namespace capstan::backend {

// {"path","query","headers":{lower-case name: value},"address"}; a header sent twice is one
// entry, its values joined as HTTP joins them (", "; "; " for cookies).
std::string connect_body(std::string_view path, std::string_view query, std::span<const HttpHeader> headers,
                         std::string_view address);

struct ConnectAnswer {
  enum class Kind : uint8_t { user, anonymous, refused, failed };
  Kind kind = Kind::failed;
  int64_t id = 0;         // user: the answer's id (or the identity's number)
  std::string identity;   // user
  std::string data;       // user: the answer's "data" as JSON text, "" when it had none
  std::string reason;     // refused, failed: why, for the log
};

// 200 {"user","id","data"} or {"anonymous":true}; 401 or 403 refuses; anything else (another
// status, no answer, an answer that is not that JSON) is a failure of the backend.
ConnectAnswer read_connect_answer(const Expected<HttpClientResponse>& response);

}  // namespace capstan::backend
