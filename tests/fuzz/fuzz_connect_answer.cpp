// The connect proxy's answer (backend/connect_proxy) on arbitrary bodies and statuses: never
// crashes; a user answer names a non-empty identity and its data is JSON that parses again;
// 401/403 refuse and other statuses fail whatever the body says. And the connect body built
// from arbitrary header bytes is JSON that parses.
#include <string>
#include <string_view>
#include <vector>

#include "backend/connect_proxy.hpp"
#include "capstan/json.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using capstan::backend::ConnectAnswer;
  if (size < 1) return 0;
  static const int kStatuses[] = {200, 401, 403, 404, 500, 204};
  capstan::HttpClientResponse response;
  response.status = kStatuses[data[0] % 6];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  response.body.assign(body);
  const ConnectAnswer a = capstan::backend::read_connect_answer(response);
  capstan::JsonParser parser;
  if (response.status == 401 || response.status == 403) FUZZ_CHECK(a.kind == ConnectAnswer::Kind::refused);
  else if (response.status != 200) FUZZ_CHECK(a.kind == ConnectAnswer::Kind::failed);
  if (a.kind == ConnectAnswer::Kind::user) {
    FUZZ_CHECK(!a.identity.empty());
    if (!a.data.empty()) FUZZ_CHECK(parser.parse(a.data).has_value());
  }
  // The same bytes as a header value (and a name): the request body stays JSON.
  const std::vector<capstan::HttpHeader> headers = {{body.substr(0, body.size() / 2), body}, {"Cookie", body}, {"cookie", body}};
  const std::string request = capstan::backend::connect_body(body, body, headers, "127.0.0.1:1");
  FUZZ_CHECK(parser.parse(request).has_value());
  return 0;
}
