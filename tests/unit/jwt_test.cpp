// JWT verification end to end: every algorithm signed three ways (sign_token, plain EVP in
// the test, the `openssl` command line) and verified; keys from PEM files, certificates,
// secrets from the environment; several threads sharing one Verifier.
#include <gmock/gmock.h>

#include <thread>
#include <vector>

#include "jwt_test_support.hpp"

namespace capstan::auth::test {
namespace {

using testing::HasSubstr;

constexpr int64_t kNow = 1'700'000'000;
const std::string kClaims =
    R"({"username":"alice@example.com","roles":["ROLE_USER"],"iat":1699999990,"exp":1700003600})";

const char* const kAllAlgorithms[] = {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
                                      "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"};

void expect_valid(const Verifier& verifier, const std::string& token, std::string_view what) {
  const Expected<VerifiedToken> r = verifier.verify(token, kNow);
  ASSERT_TRUE(r) << what << ": " << r.error().message();
  EXPECT_EQ(r->identity, "alice@example.com") << what;
}

// The refusal sign_token must answer with.
Error sign_refusal(const AuthConfig& config, std::string_view claims = kClaims) {
  Expected<std::string> token = sign_token(config, "", claims);
  if (token) ADD_FAILURE() << "signed: " << *token;
  return token ? Error() : std::move(token).error();
}

TEST(JwtVerify, EveryAlgorithmRoundTripsThroughSignToken) {
  for (const char* alg : kAllAlgorithms) {
    const AuthConfig config = config_for(alg);
    const std::string token = signed_token(config, kClaims);
    ASSERT_FALSE(token.empty()) << alg;
    auto verifier = make_verifier(config);
    ASSERT_TRUE(verifier);
    const Expected<VerifiedToken> r = verifier->verify(token, kNow);
    ASSERT_TRUE(r) << alg << ": " << r.error().message();
    EXPECT_EQ(r->identity, "alice@example.com");
    EXPECT_EQ(r->claims, kClaims);
    EXPECT_EQ(r->expires_at, 1700003600);
  }
}

TEST(JwtVerify, EveryAlgorithmAcceptsTokensSignedWithPlainEvp) {
  for (const char* alg : kAllAlgorithms) {
    const AuthConfig config = config_for(alg);
    auto verifier = make_verifier(config);
    ASSERT_TRUE(verifier);
    Pkey key = key_for(alg).empty() ? nullptr : KeyFiles::get().private_key(key_for(alg));
    expect_valid(*verifier, make_token(header_for(alg), kClaims, alg, key.get(), kSecret), alg);
    // The header members in another order, typ absent: the signature covers the text as sent.
    const std::string bare_header = "{\"alg\":\"" + std::string(alg) + "\"}";
    expect_valid(*verifier, make_token(bare_header, kClaims, alg, key.get(), kSecret), alg);
  }
}

TEST(JwtVerify, Ed448KeysServeEdDsa) {
  auto verifier = make_verifier(config_for("EdDSA", "ed448"));
  ASSERT_TRUE(verifier);
  Pkey key = KeyFiles::get().private_key("ed448");
  expect_valid(*verifier, make_token(header_for("EdDSA"), kClaims, "EdDSA", key.get()), "Ed448");
  expect_valid(*verifier, signed_token(config_for("EdDSA", "ed448"), kClaims), "Ed448 sign_token");
}

TEST(JwtVerify, RsaKeysOfAnotherSizeWork) {
  auto verifier = make_verifier(config_for("RS256", "rsa3072"));
  ASSERT_TRUE(verifier);
  Pkey key = KeyFiles::get().private_key("rsa3072");
  expect_valid(*verifier, make_token(header_for("RS256"), kClaims, "RS256", key.get()), "RSA 3072");
}

// Signatures made by the `openssl` program over the signing input written to a file: the
// verifier agrees with an implementation it shares no code with above libcrypto.
TEST(JwtVerify, AcceptsSignaturesMadeByTheOpensslCommandLine) {
  TempDir dir;
  KeyFiles& keys = KeyFiles::get();
  struct Case {
    const char* alg;
    std::string command;
  };
  const Case cases[] = {
      {"RS256", "openssl dgst -sha256 -sign " + keys.private_path("rsa") + " -passin pass:xyz"},
      {"PS384", "openssl dgst -sha384 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 -sign " +
                    keys.private_path("rsa") + " -passin pass:xyz"},
      {"ES256", "openssl dgst -sha256 -sign " + keys.private_path("p256")},
      {"EdDSA", "openssl pkeyutl -sign -rawin -inkey " + keys.private_path("ed25519")},
  };
  for (const Case& c : cases) {
    const std::string input = b64(header_for(c.alg)) + "." + b64(kClaims);
    write_file(dir.file("input"), input);
    const std::string in_flag = std::string_view(c.alg) == "EdDSA" ? " -in " : " ";
    ASSERT_TRUE(run(c.command + " -out " + dir.file("sig") + in_flag + dir.file("input"))) << c.command;
    std::string sig = read_file(dir.file("sig"));
    if (std::string_view(c.alg) == "ES256") {  // DER from the command line, R||S in JWS
      const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
      ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
      ASSERT_NE(ecdsa, nullptr);
      sig.assign(64, '\0');
      BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), reinterpret_cast<unsigned char*>(sig.data()), 32);
      BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), reinterpret_cast<unsigned char*>(sig.data()) + 32, 32);
      ECDSA_SIG_free(ecdsa);
    }
    auto verifier = make_verifier(config_for(c.alg));
    ASSERT_TRUE(verifier);
    expect_valid(*verifier, input + "." + b64(sig), c.alg);
  }
}

// Lexik's setup exactly: `openssl genpkey ... -aes256 -pass pass:xyz`, the public key by
// `openssl pkey -pubout`, the passphrase in the configuration or the environment.
TEST(JwtVerify, LexikPassphraseProtectedKeyPair) {
  AuthConfig config = config_for("RS256");
  ASSERT_THAT(read_file(config.private_key), HasSubstr("BEGIN ENCRYPTED PRIVATE KEY"));
  ASSERT_THAT(read_file(config.public_key), HasSubstr("BEGIN PUBLIC KEY"));
  const std::string token = signed_token(config, kClaims);
  ASSERT_FALSE(token.empty());
  auto verifier = make_verifier(config);
  ASSERT_TRUE(verifier);
  expect_valid(*verifier, token, "RS256");

  config.passphrase = "wrong";
  Error refusal = sign_refusal(config);
  EXPECT_EQ(refusal, AuthError::bad_key);
  EXPECT_THAT(refusal.message(), HasSubstr("passphrase"));
  config.passphrase.clear();
  refusal = sign_refusal(config);
  EXPECT_EQ(refusal, AuthError::bad_key);
  EXPECT_THAT(refusal.message(), HasSubstr("CAPSTAN_JWT_PASSPHRASE"));
  ::setenv("CAPSTAN_JWT_PASSPHRASE", "xyz", 1);
  expect_valid(*verifier, signed_token(config, kClaims), "passphrase from the environment");
  ::unsetenv("CAPSTAN_JWT_PASSPHRASE");
}

TEST(JwtVerify, PublicKeyFromACertificate) {
  TempDir dir;
  KeyFiles& keys = KeyFiles::get();
  ASSERT_TRUE(run("openssl req -x509 -new -key " + keys.private_path("p256") + " -subj /CN=capstan -days 2 -out " +
                  dir.file("cert.pem")));
  AuthConfig config = config_for("ES256");
  config.public_key = dir.file("cert.pem");
  auto verifier = make_verifier(config);
  ASSERT_TRUE(verifier);
  Pkey key = keys.private_key("p256");
  expect_valid(*verifier, make_token(header_for("ES256"), kClaims, "ES256", key.get()), "certificate");
}

TEST(JwtVerify, RelativeKeyPathsStartAtTheBaseDir) {
  AuthConfig config = config_for("ES384");
  config.public_key = "p384.pub.pem";
  config.private_key = "p384.pem";
  const std::string token = signed_token(config, kClaims, KeyFiles::get().dir());
  ASSERT_FALSE(token.empty());
  auto verifier = make_verifier(config, KeyFiles::get().dir());
  ASSERT_TRUE(verifier);
  expect_valid(*verifier, token, "relative paths");
  const auto elsewhere = Verifier::create(config, "/nonexistent");
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.error().code(), std::errc::no_such_file_or_directory);
  EXPECT_THAT(elsewhere.error().message(), HasSubstr("/nonexistent/p384.pub.pem"));
}

TEST(JwtVerify, SecretFromTheEnvironment) {
  AuthConfig config = config_for("HS256");
  config.secret.clear();
  ::setenv("CAPSTAN_JWT_SECRET", "from-the-environment", 1);
  auto verifier = make_verifier(config);
  const std::string token = signed_token(config, kClaims);
  ::unsetenv("CAPSTAN_JWT_SECRET");
  ASSERT_TRUE(verifier);
  expect_valid(*verifier, token, "env secret");
  expect_valid(*verifier, make_token(header_for("HS256"), kClaims, "HS256", nullptr, "from-the-environment"), "env");
}

// Several algorithms at once, each token checked with its own key.
TEST(JwtVerify, SeveralAlgorithmsWithOneKeyAndASecret) {
  AuthConfig config = config_for("RS256");
  config.algorithms = {"RS256", "PS512", "HS512"};
  auto verifier = make_verifier(config);
  ASSERT_TRUE(verifier);
  Pkey key = KeyFiles::get().private_key("rsa");
  expect_valid(*verifier, make_token(header_for("RS256"), kClaims, "RS256", key.get()), "RS256");
  expect_valid(*verifier, make_token(header_for("PS512"), kClaims, "PS512", key.get()), "PS512");
  expect_valid(*verifier, make_token(header_for("HS512"), kClaims, "HS512", nullptr, kSecret), "HS512");
}

// One Verifier, several event loops: every verification succeeds and no state is shared.
TEST(JwtVerify, IsSafeToShareBetweenThreads) {
  AuthConfig config = config_for("RS256");
  config.algorithms = {"RS256", "PS256", "HS256"};
  auto verifier = make_verifier(config);
  ASSERT_TRUE(verifier);
  Pkey key = KeyFiles::get().private_key("rsa");
  const std::vector<std::string> tokens = {
      make_token(header_for("RS256"), kClaims, "RS256", key.get()),
      make_token(header_for("PS256"), kClaims, "PS256", key.get()),
      make_token(header_for("HS256"), kClaims, "HS256", nullptr, kSecret),
      make_token(header_for("HS256"), kClaims, "HS256", nullptr, "not the secret"),
  };
  std::vector<std::thread> threads;
  std::vector<int> good(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) good[t] += verifier->verify(tokens[(t + i) % tokens.size()], kNow) ? 1 : 0;
    });
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(good[t], 150) << "thread " << t;
}

TEST(JwtSign, HeaderNamesTheFirstAlgorithmAndJwt) {
  AuthConfig config = config_for("ES256");
  config.algorithms = {"ES256", "HS256"};
  const std::string token = signed_token(config, kClaims);
  ASSERT_FALSE(token.empty());
  std::string header, signature;
  ASSERT_TRUE(base64url_decode(token.substr(0, token.find('.')), header));
  EXPECT_EQ(header, R"({"alg":"ES256","typ":"JWT"})");
  ASSERT_TRUE(base64url_decode(token.substr(token.rfind('.') + 1), signature));
  EXPECT_EQ(signature.size(), 64u);  // R||S, not DER
}

TEST(JwtSign, RefusesWhatItCannotSign) {
  Error refusal = sign_refusal(config_for("HS256"), "[1,2]");
  EXPECT_EQ(refusal, AuthError::bad_claim);
  EXPECT_THAT(refusal.message(), HasSubstr("JSON object"));
  EXPECT_EQ(sign_refusal(config_for("HS256"), "{\"a\":"), AuthError::bad_claim);

  AuthConfig no_secret = config_for("HS384");
  no_secret.secret.clear();
  refusal = sign_refusal(no_secret);
  EXPECT_EQ(refusal, AuthError::no_key);
  EXPECT_THAT(refusal.message(), HasSubstr("HS384"));

  refusal = sign_refusal(config_for("ES256", "p384"));
  EXPECT_EQ(refusal, AuthError::bad_key);
  EXPECT_THAT(refusal.message(), HasSubstr("ES256"));

  AuthConfig missing = config_for("RS256");
  missing.private_key = "/nonexistent/private.pem";
  refusal = sign_refusal(missing);
  EXPECT_EQ(refusal.code(), std::errc::no_such_file_or_directory);
  EXPECT_EQ(refusal.message(), "/nonexistent/private.pem: No such file or directory");

  AuthConfig none = config_for("HS256");
  none.algorithms = {"none"};
  EXPECT_EQ(sign_refusal(none), AuthError::algorithm_refused);
}

}  // namespace
}  // namespace capstan::auth::test
