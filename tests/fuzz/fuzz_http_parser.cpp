// RequestParser on arbitrary text. The first two bytes choose the head size limit and how the
// text is cut into reads; parsing the growing buffer read by read must agree with parsing it
// whole (status, HTTP status, head size, every field). A complete head is then run through the
// handshake functions, which must not crash either.
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.hpp"
#include "http/handshake.hpp"
#include "http/request_parser.hpp"

namespace {

using capstan::http::ParseResult;
using capstan::http::Request;
using capstan::http::RequestParser;

struct Parsed {
  ParseResult::Status status = ParseResult::Status::incomplete;
  uint16_t http_status = 0;
  size_t head_size = 0;
  std::vector<std::string> fields;  // method, target, path, query, version, then name/value pairs
  bool operator==(const Parsed&) const = default;
};

bool within(std::string_view part, std::string_view buffer) {
  return part.empty() || (part.data() >= buffer.data() && part.data() + part.size() <= buffer.data() + buffer.size());
}

Parsed capture(const ParseResult& r, const Request& req, std::string_view buffer) {
  Parsed p{r.status, capstan::http_status_of(r.error), r.head_size, {}};
  if (r.status == ParseResult::Status::error) {
    FUZZ_CHECK(capstan::http_status_of(r.error) == 400 || capstan::http_status_of(r.error) == 431 || capstan::http_status_of(r.error) == 505);
  }
  if (r.status != ParseResult::Status::complete) return p;
  FUZZ_CHECK(r.head_size >= 4 && r.head_size <= buffer.size());
  FUZZ_CHECK(buffer.substr(r.head_size - 4, 4) == "\r\n\r\n");
  FUZZ_CHECK(req.header_count <= capstan::http::kMaxHeaders);
  const std::string_view head = buffer.substr(0, r.head_size);
  for (std::string_view s : {req.method, req.target, req.path, req.query}) FUZZ_CHECK(within(s, head));
  FUZZ_CHECK(!req.method.empty() && !req.target.empty() && req.target.front() == '/');
  FUZZ_CHECK(req.version_minor <= 9);
  p.fields = {std::string(req.method), std::string(req.target), std::string(req.path), std::string(req.query),
              std::to_string(req.version_minor)};
  for (size_t i = 0; i < req.header_count; ++i) {
    const auto& h = req.headers[i];
    FUZZ_CHECK(within(h.name, head) && within(h.value, head) && !h.name.empty());
    for (char c : h.value) FUZZ_CHECK(c != '\r' && c != '\n');
    p.fields.emplace_back(h.name);
    p.fields.emplace_back(h.value);
  }
  return p;
}

void exercise_handshake(const Request& req) {
  const capstan::http::UpgradeCheck check = capstan::http::check_upgrade(req);
  if (check.kind == capstan::http::UpgradeCheck::Kind::websocket) {
    FUZZ_CHECK(capstan::http::accept_key(check.key).size() == 28);
  } else if (check.kind == capstan::http::UpgradeCheck::Kind::invalid) {
    FUZZ_CHECK(capstan::http_status_of(check.error) == 400 || capstan::http_status_of(check.error) == 405 || capstan::http_status_of(check.error) == 426);
  }
  static const std::string supported[] = {"chat", "superchat", ""};
  std::string_view chosen = capstan::http::select_subprotocol(req, supported);
  if (!chosen.empty()) FUZZ_CHECK(chosen == "chat" || chosen == "superchat");
  std::string response;
  capstan::http::append_switching_protocols(response, "x", chosen);
  (void)req.header_has_token("Connection", "upgrade");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static constexpr size_t kLimits[] = {16 * 1024, 256, 64, 1024};
  const size_t max_head = kLimits[data[0] & 3];
  const uint32_t seed = data[1] | (uint32_t{data[0]} << 8);
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);

  // Whole.
  RequestParser whole_parser(max_head);
  Request whole_req;
  const ParseResult whole_result = whole_parser.parse(text, whole_req);
  const Parsed whole = capture(whole_result, whole_req, text);
  if (whole_result.status == ParseResult::Status::complete) exercise_handshake(whole_req);

  // Read by read, in seeded splits and byte by byte, into a growing buffer.
  for (int mode = 0; mode < 2; ++mode) {
    RequestParser parser(max_head);
    Request req;
    std::string buffer;
    ParseResult r;
    size_t offset = 0;
    const std::vector<size_t> pieces = mode == 0 ? capstan::fuzz::split_sizes(text.size(), seed, 1 + (data[0] >> 2) * 4)
                                                 : std::vector<size_t>(text.size(), 1);
    for (size_t n : pieces) {
      buffer.append(text.substr(offset, n));
      offset += n;
      r = parser.parse(buffer, req);
      if (r.status != ParseResult::Status::incomplete) break;
    }
    FUZZ_CHECK(capture(r, req, buffer) == whole);
  }
  return 0;
}
