// The claims a verified token is judged by: exp, nbf and iat at the leeway boundaries, iss,
// aud as a string or an array, and the identity claim in its accepted and refused forms.
#include <gmock/gmock.h>

#include "jwt_test_support.hpp"

namespace capstan::auth::test {
namespace {

using testing::StartsWith;

constexpr int64_t kNow = 1'000'000;  // leeway 30 s unless a test says otherwise

class JwtClaims : public testing::Test {
 protected:
  void SetUp() override { make(config_for("HS256")); }
  void make(const AuthConfig& config) {
    verifier_ = make_verifier(config);
    ASSERT_TRUE(verifier_);
  }
  VerifyResult verify(const std::string& payload, int64_t now = kNow) {
    return verifier_->verify(make_token(header_for("HS256"), payload, "HS256", nullptr, kSecret), now);
  }
  void accepted(const std::string& payload, int64_t now = kNow) {
    const VerifyResult r = verify(payload, now);
    EXPECT_TRUE(r.ok) << r.error << " for " << payload;
  }
  void refused(const std::string& payload, std::string_view reason, int64_t now = kNow) {
    const VerifyResult r = verify(payload, now);
    EXPECT_FALSE(r.ok) << payload;
    EXPECT_THAT(r.error, StartsWith(std::string(reason))) << payload;
  }
  std::unique_ptr<Verifier> verifier_;
};

TEST_F(JwtClaims, ExpiryWithLeeway) {
  accepted(R"({"username":"a","exp":1000031})");
  accepted(R"({"username":"a","exp":999971})");
  refused(R"({"username":"a","exp":999970})", "expired");  // now == exp + leeway: expired (RFC 7519 §4.1.4, lcobucci)
  refused(R"({"username":"a","exp":999969.5})", "expired");
  accepted(R"({"username":"a","exp":999969.5})", kNow - 1);
  accepted(R"({"username":"a","exp":9.99971e5})");
  accepted(R"({"username":"a","exp":18446744073709551615})");
  refused(R"({"username":"a","exp":-1})", "expired");
  refused(R"({"username":"a","exp":"2000000"})", "bad claim: exp");
  refused(R"({"username":"a","exp":null})", "bad claim: exp");
  refused(R"({"username":"a","exp":true})", "bad claim: exp");
  refused(R"({"username":"a","exp":[2000000]})", "bad claim: exp");
  refused(R"({"username":"a","exp":2000000,"exp":1})", "duplicate claim: exp");
}

TEST_F(JwtClaims, ExpiresAtIsReported) {
  VerifyResult r = verify(R"({"username":"a","exp":1000500})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.token.expires_at, 1000500);
  r = verify(R"({"username":"a","exp":1000500.9})");
  EXPECT_EQ(r.token.expires_at, 1000500);
  r = verify(R"({"username":"a"})");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.token.expires_at, 0);
  r = verify(R"({"username":"a","exp":1e30})");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_GT(r.token.expires_at, int64_t{1} << 62);
}

TEST_F(JwtClaims, NotBeforeWithLeeway) {
  accepted(R"({"username":"a","nbf":1000030})");
  refused(R"({"username":"a","nbf":1000031})", "not yet valid");
  accepted(R"({"username":"a","nbf":1000031})", kNow + 1);
  refused(R"({"username":"a","nbf":"0"})", "bad claim: nbf");
}

TEST_F(JwtClaims, IssuedAtInTheFuture) {
  accepted(R"({"username":"a","iat":1000030})");
  accepted(R"({"username":"a","iat":1})");
  refused(R"({"username":"a","iat":1000031})", "issued in the future");
  refused(R"({"username":"a","iat":{}})", "bad claim: iat");
}

TEST_F(JwtClaims, ZeroLeeway) {
  AuthConfig config = config_for("HS256");
  config.leeway = Duration::zero();
  make(config);
  accepted(R"({"username":"a","exp":1000001,"nbf":1000000,"iat":1000000})");
  refused(R"({"username":"a","exp":1000000})", "expired");  // expired from the second exp names
  refused(R"({"username":"a","nbf":1000001})", "not yet valid");
  refused(R"({"username":"a","iat":1000001})", "issued in the future");
}

TEST_F(JwtClaims, LexiksDefaultsExpRequiredAndNoLeeway) {
  // Lexik refuses a token without exp (allow_no_expiration: false) and its clock_skew is 0.
  AuthConfig config = config_for("HS256");
  const AuthConfig defaults;
  config.require_exp = defaults.require_exp;
  config.leeway = defaults.leeway;
  make(config);
  refused(R"({"username":"a"})", "missing claim: exp");
  refused(R"({"username":"a","iat":999000})", "missing claim: exp");
  accepted(R"({"username":"a","exp":1000001})");
  refused(R"({"username":"a","exp":1000000})", "expired");
  refused(R"({"username":"a","exp":999990})", "expired");  // within the old 30 s leeway
  config.require_exp = false;
  make(config);
  accepted(R"({"username":"a"})");
}

TEST_F(JwtClaims, SubSecondLeeway) {
  AuthConfig config = config_for("HS256");
  config.leeway = std::chrono::milliseconds(1500);
  make(config);
  accepted(R"({"username":"a","exp":999999})");
  refused(R"({"username":"a","exp":999998})", "expired");
}

TEST_F(JwtClaims, Issuer) {
  accepted(R"({"username":"a","iss":"anyone"})");  // not configured: not checked
  AuthConfig config = config_for("HS256");
  config.issuer = "https://auth.example.com";
  make(config);
  accepted(R"({"username":"a","iss":"https://auth.example.com"})");
  refused(R"({"username":"a"})", "missing claim: iss");
  refused(R"({"username":"a","iss":"https://evil.example.com"})", "issuer mismatch");
  refused(R"({"username":"a","iss":"https://auth.example.com/"})", "issuer mismatch");
  refused(R"({"username":"a","iss":["https://auth.example.com"]})", "issuer mismatch");
}

TEST_F(JwtClaims, Audience) {
  accepted(R"({"username":"a","aud":"someone-else"})");  // not configured: not checked
  AuthConfig config = config_for("HS256");
  config.audience = "capstan";
  make(config);
  accepted(R"({"username":"a","aud":"capstan"})");
  accepted(R"({"username":"a","aud":["web","capstan"]})");
  accepted(R"({"username":"a","aud":[1,null,"capstan"]})");
  refused(R"({"username":"a"})", "missing claim: aud");
  refused(R"({"username":"a","aud":"web"})", "audience mismatch");
  refused(R"({"username":"a","aud":["web"]})", "audience mismatch");
  refused(R"({"username":"a","aud":[]})", "audience mismatch");
  refused(R"({"username":"a","aud":"Capstan"})", "audience mismatch");
  refused(R"({"username":"a","aud":{"capstan":true}})", "audience mismatch");
  refused(R"({"username":"a","aud":"capstan","aud":"web"})", "duplicate claim: aud");
}

TEST_F(JwtClaims, IdentityClaim) {
  VerifyResult r = verify(R"({"username":"alice@example.com"})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.token.identity, "alice@example.com");
  EXPECT_EQ(verify(R"({"username":42})").token.identity, "42");
  EXPECT_EQ(verify(R"({"username":-7})").token.identity, "-7");
  EXPECT_EQ(verify(R"({"username":18446744073709551615})").token.identity, "18446744073709551615");
  EXPECT_EQ(verify(R"({"username":"caf\u00e9"})").token.identity, "caf\xc3\xa9");
  refused(R"({"user":"alice"})", "missing claim: username");
  refused(R"({})", "missing claim: username");
  refused(R"({"username":""})", "bad claim: username");
  refused(R"({"username":1.5})", "bad claim: username");
  refused(R"({"username":1e3})", "bad claim: username");
  refused(R"({"username":true})", "bad claim: username");
  refused(R"({"username":null})", "bad claim: username");
  refused(R"({"username":{"id":1}})", "bad claim: username");
  refused(R"({"username":["alice"]})", "bad claim: username");
  refused(R"({"username":"alice","username":"admin"})", "duplicate claim: username");
}

TEST_F(JwtClaims, ConfiguredIdentityClaim) {
  AuthConfig config = config_for("HS256");
  config.identity_claim = "sub";
  make(config);
  EXPECT_EQ(verify(R"({"sub":"user-1","username":"ignored"})").token.identity, "user-1");
  refused(R"({"username":"alice"})", "missing claim: sub");
  // The identity may be a registered claim too.
  config.identity_claim = "iss";
  config.issuer = "me";
  make(config);
  EXPECT_EQ(verify(R"({"iss":"me"})").token.identity, "me");
}

TEST_F(JwtClaims, ClaimsAreReturnedAsSent) {
  const std::string payload = R"({ "username" : "a", "roles" : ["ROLE_ADMIN"], "x": {"y": [1, 2.5]} })";
  const VerifyResult r = verify(payload);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.token.claims, payload);
}

TEST_F(JwtClaims, BadSignatureIsReportedBeforeClaims) {
  const VerifyResult r =
      verifier_->verify(make_token(header_for("HS256"), R"({"exp":1})", "HS256", nullptr, "other secret"), kNow);
  EXPECT_EQ(r.error, "bad signature");
}

}  // namespace
}  // namespace capstan::auth::test
