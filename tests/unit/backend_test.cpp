// The web application as backend, its pure parts: the signature (against Python's hmac), the
// connect proxy's request body and how each kind of answer reads. The exchanges themselves run
// against a PHP application in tests/integration/test_*_proxy.py.
#include <gtest/gtest.h>

#include <cstdlib>

#include "backend/connect_proxy.hpp"
#include "capstan/backend.hpp"
#include "capstan/json.hpp"

namespace capstan {
namespace {

using backend::ConnectAnswer;

TEST(Backend, SignatureIsHmacSha256OfTimeDotBody) {
  // python3 -c "import hmac,hashlib; print(hmac.new(b'shared-secret', b'1700000000.{\"a\":1}', hashlib.sha256).hexdigest())"
  EXPECT_EQ(backend_signature(R"({"a":1})", "shared-secret", 1700000000),
            "t=1700000000,v1=46dcf16b2bf0ae1e3497a93b80e02f1016a6f7d969acd0bed37a30172a73d715");
  EXPECT_NE(backend_signature(R"({"a":2})", "shared-secret", 1700000000), backend_signature(R"({"a":1})", "shared-secret", 1700000000));
}

TEST(Backend, RequestIsASignedJsonPostWithTheTimeout) {
  BackendConfig config;
  config.secret = "s3";
  config.timeout = Duration(1500);
  const Backend b(config);
  const HttpClientRequest r = b.request("http://127.0.0.1:9/x", R"({"k":true})");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "http://127.0.0.1:9/x");
  EXPECT_EQ(r.body, R"({"k":true})");
  EXPECT_EQ(r.timeout, Duration(1500));
  std::string type, signature;
  for (const auto& [name, value] : r.headers) {
    if (name == "Content-Type") type = value;
    if (name == "X-Capstan-Signature") signature = value;
  }
  EXPECT_EQ(type, "application/json");
  const size_t comma = signature.find(",v1=");
  ASSERT_NE(comma, std::string::npos) << signature;
  const int64_t t = std::strtoll(signature.c_str() + 2, nullptr, 10);
  EXPECT_EQ(signature, backend_signature(r.body, "s3", t));
}

TEST(Backend, SecretComesFromTheEnvironmentWhenTheFileHasNone) {
  ::setenv("CAPSTAN_BACKEND_SECRET", "from-env", 1);
  EXPECT_TRUE(Backend(BackendConfig{}).has_secret());
  ::unsetenv("CAPSTAN_BACKEND_SECRET");
  EXPECT_FALSE(Backend(BackendConfig{}).has_secret());
}

TEST(ConnectProxy, BodyHasPathQueryLowerCaseHeadersAndAddress) {
  const std::vector<HttpHeader> headers = {
      {"Host", "example.test"}, {"Cookie", "a=1"}, {"cookie", "b=2"}, {"X-Forwarded-For", "10.0.0.1"}, {"x-forwarded-for", "10.0.0.2"}};
  const std::string body = backend::connect_body("/ws", "token=&room=7", headers, "127.0.0.1:5000");
  EXPECT_EQ(body, R"({"path":"/ws","query":"token=&room=7","headers":{"cookie":"a=1; b=2","host":"example.test",)"
                  R"("x-forwarded-for":"10.0.0.1, 10.0.0.2"},"address":"127.0.0.1:5000"})");
}

TEST(ConnectProxy, HeaderBytesPastAsciiAreReadAsLatin1) {
  const std::vector<HttpHeader> headers = {{"X-Name", "Jos\xE9"}};
  const std::string body = backend::connect_body("/", "", headers, "");
  JsonParser parser;
  Expected<Json> parsed = parser.parse(body);
  ASSERT_TRUE(parsed) << body;
  EXPECT_EQ((*parsed)["headers"]["x-name"].as_string().value_or(""), "Jos\xC3\xA9");
}

ConnectAnswer answer(int status, std::string body) {
  HttpClientResponse r;
  r.status = status;
  r.body = std::move(body);
  return backend::read_connect_answer(r);
}

TEST(ConnectProxy, AnswersRead) {
  ConnectAnswer a = answer(200, R"({"user":"alice@example.com","id":7,"data":{"name":"Alice","roles":["a"]}})");
  EXPECT_EQ(a.kind, ConnectAnswer::Kind::user);
  EXPECT_EQ(a.identity, "alice@example.com");
  EXPECT_EQ(a.id, 7);
  EXPECT_EQ(a.data, R"({"name":"Alice","roles":["a"]})");
  a = answer(200, R"({"user":"42"})");  // no id: a numeric identity is the id, as with JWTs
  EXPECT_EQ(a.kind, ConnectAnswer::Kind::user);
  EXPECT_EQ(a.id, 42);
  EXPECT_EQ(a.data, "");
  EXPECT_EQ(answer(200, R"({"user":"bob","id":"9"})").id, 9);
  EXPECT_EQ(answer(200, R"({"anonymous":true})").kind, ConnectAnswer::Kind::anonymous);
  EXPECT_EQ(answer(401, "").kind, ConnectAnswer::Kind::refused);
  EXPECT_EQ(answer(403, R"({"user":"alice"})").kind, ConnectAnswer::Kind::refused);  // the status decides
}

TEST(ConnectProxy, AnythingElseIsAFailureOfTheBackend) {
  for (auto [status, body] : std::vector<std::pair<int, std::string>>{
           {500, R"({"user":"alice"})"}, {404, ""}, {200, "not json"}, {200, "[]"}, {200, R"({"user":""})"},
           {200, R"({"user":7})"}, {200, R"({"anonymous":false})"}, {200, R"({"user":"a","id":1.5})"}, {302, ""}}) {
    const ConnectAnswer a = answer(status, body);
    EXPECT_EQ(a.kind, ConnectAnswer::Kind::failed) << status << " " << body;
    EXPECT_FALSE(a.reason.empty());
  }
  const ConnectAnswer unreachable = backend::read_connect_answer(Error(HttpClientError::unreachable, "connection refused"));
  EXPECT_EQ(unreachable.kind, ConnectAnswer::Kind::failed);
  EXPECT_NE(unreachable.reason.find("connection refused"), std::string::npos) << unreachable.reason;
}

}  // namespace
}  // namespace capstan
