// Every way a token is refused before its claims are looked at: alg none, an algorithm not
// configured (and so algorithm confusion), tampering, signature length, base64url and JSON
// faults, typ, crit, duplicate header members, the number of parts.
#include <gmock/gmock.h>

#include "jwt_test_support.hpp"

namespace capstan::auth::test {
namespace {

using testing::HasSubstr;
using testing::StartsWith;

constexpr int64_t kNow = 1'700'000'000;
const std::string kClaims = R"({"username":"alice","exp":1700003600})";

class JwtRefuse : public testing::Test {
 protected:
  void SetUp() override {
    verifier_ = make_verifier(config_for("RS256"));
    ASSERT_TRUE(verifier_);
    rsa_ = KeyFiles::get().private_key("rsa");
    ASSERT_TRUE(rsa_);
  }
  std::string rs256(std::string_view header, std::string_view payload = kClaims) {
    return make_token(header, payload, "RS256", rsa_.get());
  }
  // Expects a refusal with `code` whose text starts with `reason`.
  void refused(const std::string& token, AuthError code, std::string_view reason, const Verifier* verifier = nullptr) {
    const Expected<VerifiedToken> r = (verifier ? verifier : verifier_.get())->verify(token, kNow);
    ASSERT_FALSE(r) << token;
    EXPECT_EQ(r.error(), code) << token << ": " << r.error().message();
    EXPECT_THAT(r.error().message(), StartsWith(std::string(reason))) << token;
  }
  void accepted(const std::string& token) {
    const Expected<VerifiedToken> r = verifier_->verify(token, kNow);
    EXPECT_TRUE(r) << r.error().message() << " for " << token;
  }

  std::unique_ptr<Verifier> verifier_;
  Pkey rsa_;
};

TEST_F(JwtRefuse, TheSignedTokenItselfIsAccepted) { accepted(rs256(header_for("RS256"))); }

TEST_F(JwtRefuse, AlgNoneInAnyCase) {
  for (const char* none : {"none", "None", "NONE", "nOnE"}) {
    const std::string unsigned_token = b64(header_for(none)) + "." + b64(kClaims) + ".";
    refused(unsigned_token, AuthError::malformed_token, "malformed token");
    refused(unsigned_token + "c2ln", AuthError::algorithm_refused, "algorithm none refused");
    refused(rs256(header_for(none)), AuthError::algorithm_refused, "algorithm none refused");
  }
}

TEST_F(JwtRefuse, AlgorithmsNotConfigured) {
  refused(rs256(header_for("RS384")), AuthError::algorithm_refused, "algorithm not allowed: RS384");
  refused(rs256(header_for("PS256")), AuthError::algorithm_refused, "algorithm not allowed: PS256");
  refused(rs256(header_for("XS256")), AuthError::algorithm_refused, "algorithm not allowed: XS256");
  // Names are case-sensitive.
  refused(rs256(header_for("rs256")), AuthError::algorithm_refused, "algorithm not allowed: rs256");
  refused(rs256("{\"typ\":\"JWT\"}"), AuthError::malformed_token, "malformed token");
  refused(rs256("{\"alg\":256}"), AuthError::malformed_token, "malformed token");
  // The name is cut and cleaned before it reaches a log line.
  const Expected<VerifiedToken> r = verifier_->verify(rs256(header_for(std::string(100, 'A') + "\\u0001")), kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), AuthError::algorithm_refused);
  EXPECT_LT(r.error().message().size(), 80u);
}

// The classic attack: an HS256 token whose secret is the server's public key file. An HS
// token is only ever checked with the configured secret, so it fails whether or not HS256
// is allowed.
TEST_F(JwtRefuse, AlgorithmConfusion) {
  const std::string public_pem = read_file(KeyFiles::get().public_path("rsa"));
  const std::string forged = make_token(header_for("HS256"), kClaims, "HS256", nullptr, public_pem);
  refused(forged, AuthError::algorithm_refused, "algorithm not allowed: HS256");

  AuthConfig both = config_for("RS256");
  both.algorithms = {"RS256", "HS256"};
  auto verifier = make_verifier(both);
  ASSERT_TRUE(verifier);
  refused(forged, AuthError::bad_signature, "bad signature", verifier.get());
  // And the other way: an RS256 token is not checked with the secret.
  refused(rs256(header_for("HS256")), AuthError::bad_signature, "bad signature", verifier.get());
}

TEST_F(JwtRefuse, TamperedTokens) {
  const std::string token = rs256(header_for("RS256"));
  const size_t dot1 = token.find('.'), dot2 = token.rfind('.');
  // Another payload under the same signature.
  refused(token.substr(0, dot1 + 1) + b64(R"({"username":"admin","exp":1700003600})") + token.substr(dot2),
          AuthError::bad_signature, "bad signature");
  // Another header under the same signature.
  refused(b64(R"({"alg":"RS256","typ":"jwt"})") + token.substr(dot1), AuthError::bad_signature, "bad signature");
  // One bit of the signature flipped.
  std::string signature;
  ASSERT_TRUE(base64url_decode(token.substr(dot2 + 1), signature));
  signature[10] ^= 0x01;
  refused(token.substr(0, dot2 + 1) + b64(signature), AuthError::bad_signature, "bad signature");
}

TEST_F(JwtRefuse, SignatureOfTheWrongLength) {
  const std::string token = rs256(header_for("RS256"));
  const size_t dot2 = token.rfind('.');
  std::string signature;
  ASSERT_TRUE(base64url_decode(token.substr(dot2 + 1), signature));
  refused(token.substr(0, dot2 + 1) + b64(signature.substr(1)), AuthError::bad_signature, "bad signature length");
  refused(token.substr(0, dot2 + 1) + b64(signature + '\0'), AuthError::bad_signature, "bad signature length");
  refused(token.substr(0, dot2 + 1) + b64('\0' + signature), AuthError::bad_signature, "bad signature length");

  // ECDSA: R||S must be exactly twice the curve size; a DER signature is refused as such.
  auto es256 = make_verifier(config_for("ES256"));
  ASSERT_TRUE(es256);
  Pkey p256 = KeyFiles::get().private_key("p256");
  const std::string es = make_token(header_for("ES256"), kClaims, "ES256", p256.get());
  const std::string input = es.substr(0, es.rfind('.'));
  ASSERT_TRUE(base64url_decode(es.substr(es.rfind('.') + 1), signature));
  ASSERT_EQ(signature.size(), 64u);
  refused(input + "." + b64(signature.substr(0, 63)), AuthError::bad_signature, "bad signature length", es256.get());
  refused(input + "." + b64(signature + "\x01"), AuthError::bad_signature, "bad signature length", es256.get());
  refused(input + "." + b64(std::string(64, '\0')), AuthError::bad_signature, "bad signature", es256.get());
  std::string der(80, '\0');
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t n = der.size();
  ASSERT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, p256.get()), 1);
  ASSERT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &n,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  EVP_MD_CTX_free(ctx);
  der.resize(n);
  ASSERT_NE(n, 64u);
  refused(input + "." + b64(der), AuthError::bad_signature, "bad signature length", es256.get());

  // HMAC: exactly the digest size, no truncated MACs.
  auto hs256 = make_verifier(config_for("HS256"));
  ASSERT_TRUE(hs256);
  const std::string hs = make_token(header_for("HS256"), kClaims, "HS256", nullptr, kSecret);
  ASSERT_TRUE(base64url_decode(hs.substr(hs.rfind('.') + 1), signature));
  refused(hs.substr(0, hs.rfind('.') + 1) + b64(signature.substr(0, 16)), AuthError::bad_signature,
          "bad signature length", hs256.get());
}

// RFC 7518 §3.5: the PSS salt is exactly as long as the hash. A signature with another salt
// length is valid PSS, but not a valid PS256 JWS.
TEST_F(JwtRefuse, PssWithAnotherSaltLength) {
  AuthConfig config = config_for("PS256");
  auto ps256 = make_verifier(config);
  ASSERT_TRUE(ps256);
  const std::string input = b64(header_for("PS256")) + "." + b64(kClaims);
  for (int salt : {0, 20, RSA_PSS_SALTLEN_MAX, 32}) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    std::string sig(256, '\0');
    size_t n = sig.size();
    ASSERT_EQ(EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), nullptr, rsa_.get()), 1);
    ASSERT_EQ(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
    ASSERT_EQ(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt), 1);
    ASSERT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &n,
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()),
              1);
    EVP_MD_CTX_free(ctx);
    const Expected<VerifiedToken> r = ps256->verify(input + "." + b64(sig), kNow);
    if (salt == 32) {
      EXPECT_TRUE(r) << r.error().message();
      continue;
    }
    ASSERT_FALSE(r) << "salt length " << salt;
    EXPECT_EQ(r.error(), AuthError::bad_signature) << "salt length " << salt;
    EXPECT_EQ(r.error().message(), "bad signature") << "salt length " << salt;
  }
}

TEST_F(JwtRefuse, MalformedBase64url) {
  const std::string token = rs256(header_for("RS256"));
  const size_t dot2 = token.rfind('.');
  refused("=" + token, AuthError::malformed_token, "malformed token");
  refused(token + "=", AuthError::malformed_token, "malformed token");
  refused(token.substr(0, dot2) + ".+/" + token.substr(dot2 + 3), AuthError::malformed_token, "malformed token");
  refused(token.substr(0, dot2) + ". " + token.substr(dot2 + 1), AuthError::malformed_token, "malformed token");
  refused(token.substr(0, 5) + "*" + token.substr(6), AuthError::malformed_token, "malformed token");
  // A signature that really covers a padded payload: still refused, at decoding.
  const std::string padded = b64(header_for("RS256")) + "." + b64("{\"username\":\"a\"}") + "==";
  refused(padded + "." + b64(evp_sign("RS256", rsa_.get(), {}, padded)), AuthError::malformed_token, "malformed token");
  // Standard base64 ('/' for '_') in a signed payload.
  std::string payload;
  ASSERT_TRUE(base64url_decode("eyJ1c2VybmFtZSI6Ij8_PyJ9", payload));
  ASSERT_EQ(payload, R"({"username":"???"})");
  const std::string standard = b64(header_for("RS256")) + ".eyJ1c2VybmFtZSI6Ij8/PyJ9";
  refused(standard + "." + b64(evp_sign("RS256", rsa_.get(), {}, standard)), AuthError::malformed_token,
          "malformed token");
}

TEST_F(JwtRefuse, HeaderOrPayloadNotAJsonObject) {
  refused(rs256("not json"), AuthError::malformed_token, "malformed token");
  refused(rs256("[\"RS256\"]"), AuthError::malformed_token, "malformed token");
  refused(rs256("\"RS256\""), AuthError::malformed_token, "malformed token");
  refused(rs256(header_for("RS256") + "x"), AuthError::malformed_token, "malformed token");
  refused(rs256(header_for("RS256"), "not json"), AuthError::malformed_token, "malformed token");
  refused(rs256(header_for("RS256"), "[1]"), AuthError::malformed_token, "malformed token");
  refused(rs256(header_for("RS256"), ""), AuthError::malformed_token, "malformed token");
  refused(rs256(header_for("RS256"), "{\"username\":\"a\"} {}"), AuthError::malformed_token, "malformed token");
  refused(rs256(header_for("RS256"), std::string("{\"username\":\"a\xff\"}")), AuthError::malformed_token,
          "malformed token");  // not UTF-8
}

TEST_F(JwtRefuse, TypeHeader) {
  accepted(rs256(R"({"alg":"RS256"})"));
  accepted(rs256(R"({"alg":"RS256","typ":"jwt"})"));
  accepted(rs256(R"({"typ":"application/jwt","alg":"RS256"})"));
  refused(rs256(R"({"alg":"RS256","typ":"JOSE"})"), AuthError::bad_header, "typ is not JWT: JOSE");
  refused(rs256(R"({"alg":"RS256","typ":"at+jwt"})"), AuthError::bad_header, "typ is not JWT");
  refused(rs256(R"({"alg":"RS256","typ":1})"), AuthError::malformed_token, "malformed token");
}

TEST_F(JwtRefuse, CriticalHeaderExtensions) {
  refused(rs256(R"({"alg":"RS256","crit":["exp"],"exp":1})"), AuthError::bad_header, "crit header not supported");
  refused(rs256(R"({"alg":"RS256","b64":false,"crit":["b64"]})"), AuthError::bad_header, "crit header not supported");
  refused(rs256(R"({"alg":"RS256","crit":[]})"), AuthError::bad_header, "crit header not supported");
}

TEST_F(JwtRefuse, DuplicateHeaderMembers) {
  refused(rs256(R"({"alg":"RS256","alg":"none"})"), AuthError::malformed_token,
          "malformed token: duplicate header alg");
  refused(rs256(R"({"alg":"RS256","typ":"JWT","typ":"JWT"})"), AuthError::malformed_token, "malformed token");
  refused(rs256(R"({"alg":"RS256","kid":"a","kid":"b"})"), AuthError::malformed_token, "malformed token");
  refused(rs256(R"({"alg":"RS256","kid":7})"), AuthError::malformed_token, "malformed token");
}

TEST_F(JwtRefuse, KeysInTheTokenAreIgnored) {
  // A jwk header naming the attacker's key changes nothing: keys come from the configuration.
  Pkey other = KeyFiles::get().private_key("rsa_b");
  refused(make_token(R"({"alg":"RS256","jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"},"jku":"http://x"})", kClaims, "RS256",
                     other.get()),
          AuthError::bad_signature, "bad signature");
}

TEST_F(JwtRefuse, NumberOfParts) {
  const std::string token = rs256(header_for("RS256"));
  const size_t dot1 = token.find('.'), dot2 = token.rfind('.');
  refused("", AuthError::malformed_token, "malformed token");
  refused("abc", AuthError::malformed_token, "malformed token");
  refused(token.substr(0, dot2), AuthError::malformed_token, "malformed token");
  refused(token + ".", AuthError::malformed_token, "malformed token");
  refused(token + "." + token.substr(dot2 + 1), AuthError::malformed_token, "malformed token");
  refused(token + ".e30.e30", AuthError::malformed_token, "malformed token");  // five parts: a JWE
  refused(token.substr(dot1), AuthError::malformed_token, "malformed token");
  refused(token.substr(0, dot1 + 1) + token.substr(dot2), AuthError::malformed_token, "malformed token");
  refused("..", AuthError::malformed_token, "malformed token");
  refused(std::string(40 * 1024, 'a') + token, AuthError::malformed_token, "malformed token");
}

}  // namespace
}  // namespace capstan::auth::test
