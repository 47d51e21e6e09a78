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
  Expected<VerifiedToken> verify(const std::string& payload, int64_t now = kNow) {
    return verifier_->verify(make_token(header_for("HS256"), payload, "HS256", nullptr, kSecret), now);
  }
  void accepted(const std::string& payload, int64_t now = kNow) {
    const Expected<VerifiedToken> r = verify(payload, now);
    EXPECT_TRUE(r) << r.error().message() << " for " << payload;
  }
  // Expects a refusal with `code` whose text starts with `reason`.
  void refused(const std::string& payload, AuthError code, std::string_view reason, int64_t now = kNow) {
    const Expected<VerifiedToken> r = verify(payload, now);
    ASSERT_FALSE(r) << payload;
    EXPECT_EQ(r.error(), code) << payload << ": " << r.error().message();
    EXPECT_THAT(r.error().message(), StartsWith(std::string(reason))) << payload;
  }
  // The identity of the token, or why it was refused.
  std::string identity(const std::string& payload) {
    const Expected<VerifiedToken> r = verify(payload);
    return r ? r->identity : "refused: " + r.error().message();
  }
  std::unique_ptr<Verifier> verifier_;
};

TEST_F(JwtClaims, ExpiryWithLeeway) {
  accepted(R"({"username":"a","exp":1000031})");
  accepted(R"({"username":"a","exp":999971})");
  // now == exp + leeway: expired (RFC 7519 §4.1.4, lcobucci)
  refused(R"({"username":"a","exp":999970})", AuthError::expired, "expired");
  refused(R"({"username":"a","exp":999969.5})", AuthError::expired, "expired");
  accepted(R"({"username":"a","exp":999969.5})", kNow - 1);
  accepted(R"({"username":"a","exp":9.99971e5})");
  accepted(R"({"username":"a","exp":18446744073709551615})");
  refused(R"({"username":"a","exp":-1})", AuthError::expired, "expired");
  refused(R"({"username":"a","exp":"2000000"})", AuthError::bad_claim, "bad claim: exp");
  refused(R"({"username":"a","exp":null})", AuthError::bad_claim, "bad claim: exp");
  refused(R"({"username":"a","exp":true})", AuthError::bad_claim, "bad claim: exp");
  refused(R"({"username":"a","exp":[2000000]})", AuthError::bad_claim, "bad claim: exp");
  refused(R"({"username":"a","exp":2000000,"exp":1})", AuthError::bad_claim, "duplicate claim: exp");
}

TEST_F(JwtClaims, ExpiresAtIsReported) {
  Expected<VerifiedToken> r = verify(R"({"username":"a","exp":1000500})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->expires_at, 1000500);
  r = verify(R"({"username":"a","exp":1000500.9})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->expires_at, 1000500);
  r = verify(R"({"username":"a"})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->expires_at, 0);
  r = verify(R"({"username":"a","exp":1e30})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_GT(r->expires_at, int64_t{1} << 62);
}

TEST_F(JwtClaims, NotBeforeWithLeeway) {
  accepted(R"({"username":"a","nbf":1000030})");
  refused(R"({"username":"a","nbf":1000031})", AuthError::not_yet_valid, "not yet valid");
  accepted(R"({"username":"a","nbf":1000031})", kNow + 1);
  refused(R"({"username":"a","nbf":"0"})", AuthError::bad_claim, "bad claim: nbf");
}

TEST_F(JwtClaims, IssuedAtInTheFuture) {
  accepted(R"({"username":"a","iat":1000030})");
  accepted(R"({"username":"a","iat":1})");
  refused(R"({"username":"a","iat":1000031})", AuthError::not_yet_valid, "issued in the future");
  refused(R"({"username":"a","iat":{}})", AuthError::bad_claim, "bad claim: iat");
}

TEST_F(JwtClaims, ZeroLeeway) {
  AuthConfig config = config_for("HS256");
  config.leeway = Duration::zero();
  make(config);
  accepted(R"({"username":"a","exp":1000001,"nbf":1000000,"iat":1000000})");
  refused(R"({"username":"a","exp":1000000})", AuthError::expired, "expired");  // expired from the second exp names
  refused(R"({"username":"a","nbf":1000001})", AuthError::not_yet_valid, "not yet valid");
  refused(R"({"username":"a","iat":1000001})", AuthError::not_yet_valid, "issued in the future");
}

TEST_F(JwtClaims, LexiksDefaultsExpRequiredAndNoLeeway) {
  // Lexik refuses a token without exp (allow_no_expiration: false) and its clock_skew is 0.
  AuthConfig config = config_for("HS256");
  const AuthConfig defaults;
  config.require_exp = defaults.require_exp;
  config.leeway = defaults.leeway;
  make(config);
  refused(R"({"username":"a"})", AuthError::bad_claim, "missing claim: exp");
  refused(R"({"username":"a","iat":999000})", AuthError::bad_claim, "missing claim: exp");
  accepted(R"({"username":"a","exp":1000001})");
  refused(R"({"username":"a","exp":1000000})", AuthError::expired, "expired");
  refused(R"({"username":"a","exp":999990})", AuthError::expired, "expired");  // within the old 30 s leeway
  config.require_exp = false;
  make(config);
  accepted(R"({"username":"a"})");
}

TEST_F(JwtClaims, SubSecondLeeway) {
  AuthConfig config = config_for("HS256");
  config.leeway = std::chrono::milliseconds(1500);
  make(config);
  accepted(R"({"username":"a","exp":999999})");
  refused(R"({"username":"a","exp":999998})", AuthError::expired, "expired");
}

TEST_F(JwtClaims, Issuer) {
  accepted(R"({"username":"a","iss":"anyone"})");  // not configured: not checked
  AuthConfig config = config_for("HS256");
  config.issuer = "https://auth.example.com";
  make(config);
  accepted(R"({"username":"a","iss":"https://auth.example.com"})");
  refused(R"({"username":"a"})", AuthError::bad_claim, "missing claim: iss");
  refused(R"({"username":"a","iss":"https://evil.example.com"})", AuthError::wrong_issuer, "issuer mismatch");
  refused(R"({"username":"a","iss":"https://auth.example.com/"})", AuthError::wrong_issuer, "issuer mismatch");
  refused(R"({"username":"a","iss":["https://auth.example.com"]})", AuthError::wrong_issuer, "issuer mismatch");
}

TEST_F(JwtClaims, Audience) {
  accepted(R"({"username":"a","aud":"someone-else"})");  // not configured: not checked
  AuthConfig config = config_for("HS256");
  config.audience = "capstan";
  make(config);
  accepted(R"({"username":"a","aud":"capstan"})");
  accepted(R"({"username":"a","aud":["web","capstan"]})");
  accepted(R"({"username":"a","aud":[1,null,"capstan"]})");
  refused(R"({"username":"a"})", AuthError::bad_claim, "missing claim: aud");
  refused(R"({"username":"a","aud":"web"})", AuthError::wrong_audience, "audience mismatch");
  refused(R"({"username":"a","aud":["web"]})", AuthError::wrong_audience, "audience mismatch");
  refused(R"({"username":"a","aud":[]})", AuthError::wrong_audience, "audience mismatch");
  refused(R"({"username":"a","aud":"Capstan"})", AuthError::wrong_audience, "audience mismatch");
  refused(R"({"username":"a","aud":{"capstan":true}})", AuthError::wrong_audience, "audience mismatch");
  refused(R"({"username":"a","aud":"capstan","aud":"web"})", AuthError::bad_claim, "duplicate claim: aud");
}

TEST_F(JwtClaims, IdentityClaim) {
  EXPECT_EQ(identity(R"({"username":"alice@example.com"})"), "alice@example.com");
  EXPECT_EQ(identity(R"({"username":42})"), "42");
  EXPECT_EQ(identity(R"({"username":-7})"), "-7");
  EXPECT_EQ(identity(R"({"username":18446744073709551615})"), "18446744073709551615");
  EXPECT_EQ(identity(R"({"username":"caf\u00e9"})"), "caf\xc3\xa9");
  refused(R"({"user":"alice"})", AuthError::bad_claim, "missing claim: username");
  refused(R"({})", AuthError::bad_claim, "missing claim: username");
  refused(R"({"username":""})", AuthError::bad_claim, "bad claim: username");
  refused(R"({"username":1.5})", AuthError::bad_claim, "bad claim: username");
  refused(R"({"username":1e3})", AuthError::bad_claim, "bad claim: username");
  refused(R"({"username":true})", AuthError::bad_claim, "bad claim: username");
  refused(R"({"username":null})", AuthError::bad_claim, "bad claim: username");
  refused(R"({"username":{"id":1}})", AuthError::bad_claim, "bad claim: username");
  refused(R"({"username":["alice"]})", AuthError::bad_claim, "bad claim: username");
  refused(R"({"username":"alice","username":"admin"})", AuthError::bad_claim, "duplicate claim: username");
}

TEST_F(JwtClaims, ConfiguredIdentityClaim) {
  AuthConfig config = config_for("HS256");
  config.identity_claim = "sub";
  make(config);
  EXPECT_EQ(identity(R"({"sub":"user-1","username":"ignored"})"), "user-1");
  refused(R"({"username":"alice"})", AuthError::bad_claim, "missing claim: sub");
  // The identity may be a registered claim too.
  config.identity_claim = "iss";
  config.issuer = "me";
  make(config);
  EXPECT_EQ(identity(R"({"iss":"me"})"), "me");
}

TEST_F(JwtClaims, ClaimsAreReturnedAsSent) {
  const std::string payload = R"({ "username" : "a", "roles" : ["ROLE_ADMIN"], "x": {"y": [1, 2.5]} })";
  const Expected<VerifiedToken> r = verify(payload);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->claims, payload);
}

TEST_F(JwtClaims, BadSignatureIsReportedBeforeClaims) {
  const Expected<VerifiedToken> r =
      verifier_->verify(make_token(header_for("HS256"), R"({"exp":1})", "HS256", nullptr, "other secret"), kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), AuthError::bad_signature);
  EXPECT_EQ(r.error().message(), "bad signature");
}

}  // namespace
}  // namespace capstan::auth::test
