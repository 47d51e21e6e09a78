// Verifier::create with every kind of key source: which configurations it refuses, with an
// error naming the algorithm and the file; JWKS files, kid selection; key pair generation.
#include <gmock/gmock.h>
#include <sys/stat.h>

#include "jwt_test_support.hpp"

namespace capstan::auth::test {
namespace {

using testing::AllOf;
using testing::HasSubstr;

constexpr int64_t kNow = 1'700'000'000;
const std::string kClaims = R"({"username":"alice","exp":4102444800})";  // 2100

// Expects create() to fail with `code` and a message containing each of `words`.
void create_fails(const AuthConfig& config, std::error_code code, std::initializer_list<std::string> words) {
  const Expected<std::unique_ptr<Verifier>> created = Verifier::create(config, "");
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code(), code) << created.error().message();
  for (const std::string& w : words) EXPECT_THAT(created.error().message(), HasSubstr(w));
}

const std::error_code kNoSuchFile = std::make_error_code(std::errc::no_such_file_or_directory);

TEST(JwtCreate, KeyTypeMustMatchTheAlgorithm) {
  KeyFiles& keys = KeyFiles::get();
  create_fails(config_for("ES256", "rsa"), AuthError::bad_key, {"ES256", keys.public_path("rsa")});
  create_fails(config_for("ES256", "p384"), AuthError::bad_key, {"ES256", "prime256v1", keys.public_path("p384")});
  create_fails(config_for("ES384", "p256"), AuthError::bad_key, {"ES384"});
  create_fails(config_for("RS256", "p256"), AuthError::bad_key, {"RS256"});
  create_fails(config_for("PS256", "ed25519"), AuthError::bad_key, {"PS256"});
  create_fails(config_for("EdDSA", "rsa"), AuthError::bad_key, {"EdDSA"});
  create_fails(config_for("EdDSA", "p256"), AuthError::bad_key, {"EdDSA"});
  create_fails(config_for("RS256", "rsa1024"), AuthError::bad_key, {"1024", "2048"});
  // RSA keys serve both RS and PS.
  AuthConfig both = config_for("RS256");
  both.algorithms = {"RS512", "PS256"};
  EXPECT_TRUE(make_verifier(both));
}

TEST(JwtCreate, MissingOrUnreadableKeys) {
  AuthConfig config = config_for("RS256");
  config.public_key = "/nonexistent/public.pem";
  create_fails(config, kNoSuchFile, {"RS256 needs a public key: /nonexistent/public.pem: No such file or directory"});
  TempDir dir;
  write_file(dir.file("garbage.pem"), "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n");
  config.public_key = dir.file("garbage.pem");
  create_fails(config, AuthError::bad_key, {"RS256", "garbage.pem"});
  config.algorithms = {"HS256", "ES256"};
  create_fails(config, AuthError::bad_key, {"ES256", "garbage.pem"});
  // The private key is no public key file: it has no "BEGIN PUBLIC KEY".
  config = config_for("ES256");
  config.public_key = KeyFiles::get().private_path("p256");
  create_fails(config, AuthError::bad_key, {"ES256"});
}

TEST(JwtCreate, SecretRequiredForHmac) {
  AuthConfig config = config_for("HS256");
  config.secret.clear();
  ::unsetenv("CAPSTAN_JWT_SECRET");
  create_fails(config, AuthError::no_key, {"HS256", "secret", "CAPSTAN_JWT_SECRET"});
}

TEST(JwtCreate, OnlyTheKeysTheAlgorithmsNeedAreLoaded) {
  AuthConfig config = config_for("HS512");
  config.public_key = "/nonexistent/public.pem";  // not read: no algorithm needs it
  EXPECT_TRUE(make_verifier(config));
  config = config_for("RS256");
  config.secret.clear();  // not needed
  EXPECT_TRUE(make_verifier(config));
}

TEST(JwtCreate, UnknownAlgorithmsAreConfigurationErrors) {
  AuthConfig config = config_for("HS256");
  config.algorithms = {"HS256", "none"};
  create_fails(config, AuthError::algorithm_refused, {"none"});
  config.algorithms = {"RS257"};
  create_fails(config, AuthError::algorithm_refused, {"RS257"});
  config.algorithms = {};
  create_fails(config, ConfigError::missing, {"algorithm"});
  EXPECT_TRUE(is_supported_algorithm("PS384"));
  EXPECT_TRUE(is_supported_algorithm("EdDSA"));
  EXPECT_FALSE(is_supported_algorithm("none"));
  EXPECT_FALSE(is_supported_algorithm("hs256"));
  EXPECT_FALSE(is_supported_algorithm(""));
}

// ---- JWKS ----

std::string bn_b64(const BIGNUM* bn, int width = 0) {
  std::string bytes(width ? static_cast<size_t>(width) : static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  return b64(bytes);
}

// The public JWK of a key, written here from the key's parameters.
std::string jwk_of(EVP_PKEY* key, const std::string& kid, const std::string& extra = {}) {
  std::string members;
  if (EVP_PKEY_is_a(key, "RSA")) {
    BIGNUM *n = nullptr, *e = nullptr;
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e);
    members = R"("kty":"RSA","n":")" + bn_b64(n) + R"(","e":")" + bn_b64(e) + "\"";
    BN_free(n);
    BN_free(e);
  } else if (EVP_PKEY_is_a(key, "EC")) {
    BIGNUM *x = nullptr, *y = nullptr;
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x);
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
    const int bits = EVP_PKEY_get_bits(key);
    const int width = (bits + 7) / 8;
    const char* crv = bits == 256 ? "P-256" : bits == 384 ? "P-384" : "P-521";
    members = R"("kty":"EC","crv":")" + std::string(crv) + R"(","x":")" + bn_b64(x, width) + R"(","y":")" +
              bn_b64(y, width) + "\"";
    BN_free(x);
    BN_free(y);
  } else {
    unsigned char raw[64];
    size_t n = sizeof raw;
    EVP_PKEY_get_raw_public_key(key, raw, &n);
    members = R"("kty":"OKP","crv":")" + std::string(EVP_PKEY_is_a(key, "ED448") ? "Ed448" : "Ed25519") +
              R"(","x":")" + b64(std::string(reinterpret_cast<char*>(raw), n)) + "\"";
  }
  return "{" + members + (kid.empty() ? "" : ",\"kid\":\"" + kid + "\"") + extra + "}";
}

class JwtJwks : public testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"rsa", "rsa_b", "p256", "p384", "ed25519"})
      keys_[name] = KeyFiles::get().private_key(name);
  }
  AuthConfig with_jwks(std::vector<std::string> algorithms, const std::string& jwks_text) {
    write_file(dir_.file("jwks.json"), jwks_text);
    AuthConfig config;
    config.algorithms = std::move(algorithms);
    config.jwks = "jwks.json";  // relative: from the base dir
    config.public_key = "/nonexistent/public.pem";  // a JWKS replaces it
    return config;
  }
  std::unique_ptr<Verifier> verifier(const AuthConfig& config) { return make_verifier(config, dir_.path); }
  std::string token(std::string_view alg, const char* key, const std::string& kid = {}) {
    const std::string extra = kid.empty() ? "" : ",\"kid\":\"" + kid + "\"";
    return make_token(header_for(alg, extra), kClaims, alg, keys_[key].get());
  }
  // "ok", or why the token was refused.
  std::string verify(const Verifier& v, const std::string& token) {
    const Expected<VerifiedToken> r = v.verify(token, kNow);
    return r ? "ok" : r.error().message();
  }

  TempDir dir_;
  std::map<std::string, Pkey> keys_;
};

TEST_F(JwtJwks, EveryKeyType) {
  const std::string jwks = "{\"keys\":[" + jwk_of(keys_["rsa"].get(), "r") + "," + jwk_of(keys_["p256"].get(), "e") +
                           "," + jwk_of(keys_["p384"].get(), "e3") + "," + jwk_of(keys_["ed25519"].get(), "ed") +
                           R"(,{"kty":"oct","kid":"s","k":")" + b64(kSecret) + "\"}]}";
  auto v = verifier(with_jwks({"RS256", "PS256", "ES256", "ES384", "EdDSA", "HS256"}, jwks));
  ASSERT_TRUE(v);
  EXPECT_EQ(verify(*v, token("RS256", "rsa", "r")), "ok");
  EXPECT_EQ(verify(*v, token("PS256", "rsa")), "ok");
  EXPECT_EQ(verify(*v, token("ES256", "p256", "e")), "ok");
  EXPECT_EQ(verify(*v, token("ES384", "p384")), "ok");
  EXPECT_EQ(verify(*v, token("EdDSA", "ed25519", "ed")), "ok");
  EXPECT_EQ(verify(*v, make_token(header_for("HS256", ",\"kid\":\"s\""), kClaims, "HS256", nullptr, kSecret)), "ok");
}

TEST_F(JwtJwks, KidSelectsTheKey) {
  const std::string jwks =
      "{\"keys\":[" + jwk_of(keys_["rsa"].get(), "a") + "," + jwk_of(keys_["rsa_b"].get(), "b") + "]}";
  auto v = verifier(with_jwks({"RS256"}, jwks));
  ASSERT_TRUE(v);
  EXPECT_EQ(verify(*v, token("RS256", "rsa", "a")), "ok");
  EXPECT_EQ(verify(*v, token("RS256", "rsa_b", "b")), "ok");
  EXPECT_EQ(verify(*v, token("RS256", "rsa_b", "a")), "bad signature");  // a's key, b's signature
  EXPECT_EQ(verify(*v, token("RS256", "rsa", "zzz")), "unknown kid: zzz");
  EXPECT_EQ(v->verify(token("RS256", "rsa", "zzz"), kNow).error(), AuthError::no_key);
  // Without a kid every key of the algorithm is tried.
  EXPECT_EQ(verify(*v, token("RS256", "rsa")), "ok");
  EXPECT_EQ(verify(*v, token("RS256", "rsa_b")), "ok");
  EXPECT_EQ(verify(*v, token("RS256", "p256")), "bad signature length");
}

TEST_F(JwtJwks, KeysWithoutKidMatchAnyKid) {
  // A PEM key has no kid; an issuer adding one to its tokens must not lock them out.
  auto v = make_verifier(config_for("RS256"));
  ASSERT_TRUE(v);
  EXPECT_EQ(verify(*v, token("RS256", "rsa", "2024-key")), "ok");
}

TEST_F(JwtJwks, JwkAlgAndUseRestrictKeys) {
  const std::string jwks = "{\"keys\":[" + jwk_of(keys_["rsa"].get(), "a", ",\"alg\":\"RS512\"") + "," +
                           jwk_of(keys_["rsa_b"].get(), "b", ",\"use\":\"enc\"") + "," +
                           jwk_of(keys_["rsa_b"].get(), "c", ",\"alg\":\"RSA-OAEP\"") + "]}";
  auto v = verifier(with_jwks({"RS512"}, jwks));
  ASSERT_TRUE(v);
  EXPECT_EQ(verify(*v, token("RS512", "rsa")), "ok");
  EXPECT_EQ(verify(*v, token("RS512", "rsa_b", "b")), "unknown kid: b");
  const auto refused = Verifier::create(with_jwks({"RS256"}, jwks), dir_.path);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), AuthError::no_key);
  EXPECT_THAT(refused.error().message(), AllOf(HasSubstr("RS256"), HasSubstr("jwks.json")));
}

TEST_F(JwtJwks, SkipsKeysOfOtherKinds) {
  const std::string jwks = R"({"keys":[{"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"},)"
                           R"({"kty":"OKP","crv":"X25519","x":"AA"},{"kty":"PQC","x":"AA"},)" +
                           jwk_of(keys_["ed25519"].get(), "") + "]}";
  EXPECT_TRUE(verifier(with_jwks({"EdDSA"}, jwks)));
}

TEST_F(JwtJwks, SingleJwkDocument) {
  auto v = verifier(with_jwks({"ES256"}, jwk_of(keys_["p256"].get(), "k")));
  ASSERT_TRUE(v);
  EXPECT_EQ(verify(*v, token("ES256", "p256", "k")), "ok");
}

TEST_F(JwtJwks, MalformedDocumentsAndKeys) {
  auto fails = [&](const std::string& text, std::initializer_list<std::string> words,
                   std::error_code code = AuthError::bad_key) {
    const auto created = Verifier::create(with_jwks({"RS256", "ES256", "EdDSA"}, text), dir_.path);
    ASSERT_FALSE(created) << text;
    EXPECT_EQ(created.error().code(), code) << text << ": " << created.error().message();
    for (const std::string& w : words) EXPECT_THAT(created.error().message(), HasSubstr(w)) << text;
  };
  fails("not json", {"jwks.json"});
  fails("[]", {"jwks.json"});
  fails(R"({"keys":{}})", {"keys"});
  fails(R"({"keys":[7]})", {"keys[0]"});
  fails(R"({"keys":[{"n":"AQAB","e":"AQAB"}]})", {"kty"});
  fails(R"({"keys":[{"kty":"RSA","kid":"x","n":"AQAB=","e":"AQAB"}]})", {"keys[0]", "kid x", "\"n\""});
  fails(R"({"keys":[{"kty":"RSA","e":"AQAB"}]})", {"\"n\""});
  fails(R"({"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","kid":5}]})", {"kid"});
  fails(R"({"keys":[{"kty":"EC","crv":"P-256","x":"AQAB","y":"AQAB"}]})", {"32 bytes"});
  fails(R"({"keys":[{"kty":"OKP","crv":"Ed25519","x":"AQAB"}]})", {"32 bytes"});
  fails(R"({"keys":[{"kty":"oct","k":""}]})", {"\"k\""});
  // A point that is not on the curve.
  const std::string off_curve = R"({"kty":"EC","crv":"P-256","x":")" + b64(std::string(32, '\x01')) + R"(","y":")" +
                                b64(std::string(32, '\x02')) + "\"}";
  fails("{\"keys\":[" + off_curve + "]}", {"keys[0]"});
  // A small RSA key in a JWKS is never a candidate.
  Pkey small = KeyFiles::get().private_key("rsa1024");
  fails("{\"keys\":[" + jwk_of(small.get(), "s") + "]}", {"RS256", "1024"}, AuthError::no_key);
  AuthConfig config = with_jwks({"RS256"}, "{}");
  config.jwks = "/nonexistent/jwks.json";
  const auto missing = Verifier::create(config, dir_.path);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), kNoSuchFile);
  EXPECT_EQ(missing.error().message(), "JWKS file: /nonexistent/jwks.json: No such file or directory");
}

// ---- key pairs ----

mode_t mode_of(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

TEST(JwtKeyGenerate, EveryKindSignsAndVerifies) {
  for (const char* alg : {"RS256", "PS512", "ES256", "ES384", "ES512", "EdDSA"}) {
    TempDir dir;
    const std::string keys = dir.file("config/jwt");
    ASSERT_TRUE(succeeded(generate_key_pair(alg, keys, "", false))) << alg;
    EXPECT_EQ(mode_of(keys + "/private.pem"), 0600u) << alg;
    EXPECT_EQ(mode_of(keys + "/public.pem"), 0644u) << alg;
    EXPECT_THAT(read_file(keys + "/private.pem"), HasSubstr("-----BEGIN PRIVATE KEY-----"));
    EXPECT_THAT(read_file(keys + "/public.pem"), HasSubstr("-----BEGIN PUBLIC KEY-----"));
    AuthConfig config;
    config.algorithms = {alg};
    const std::string token = signed_token(config, kClaims, dir.path);
    ASSERT_FALSE(token.empty()) << alg;
    auto v = make_verifier(config, dir.path);
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->verify(token, kNow)) << alg;
  }
}

TEST(JwtKeyGenerate, PassphraseEncryptsLikeLexik) {
  TempDir dir;
  ASSERT_TRUE(succeeded(generate_key_pair("RS256", dir.path, "s3cret", false)));
  const std::string private_path = dir.file("private.pem");
  EXPECT_THAT(read_file(private_path), HasSubstr("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
  // The openssl program (and so PHP's openssl extension) reads it with the passphrase only.
  EXPECT_TRUE(run("openssl pkey -in " + private_path + " -passin pass:s3cret -noout"));
  EXPECT_FALSE(run("openssl pkey -in " + private_path + " -passin pass:wrong -noout"));
  EXPECT_EQ(system(("openssl asn1parse -in " + private_path + " | grep -q aes-256-cbc").c_str()), 0);
  AuthConfig config;
  config.algorithms = {"RS256"};
  config.private_key = "private.pem";
  config.public_key = "public.pem";
  config.passphrase = "s3cret";
  const std::string token = signed_token(config, kClaims, dir.path);
  ASSERT_FALSE(token.empty());
  auto v = make_verifier(config, dir.path);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->verify(token, kNow));
}

TEST(JwtKeyGenerate, RefusesToOverwrite) {
  TempDir dir;
  ASSERT_TRUE(succeeded(generate_key_pair("ES256", dir.path, "", false)));
  const std::string first = read_file(dir.file("private.pem"));
  Status refused = generate_key_pair("ES256", dir.path, "", false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), std::errc::file_exists);
  EXPECT_THAT(refused.error().message(), AllOf(HasSubstr("private.pem"), HasSubstr("exists")));
  EXPECT_EQ(read_file(dir.file("private.pem")), first);
  // Only the public key left: still refused, and the folder is left as it was.
  std::filesystem::remove(dir.file("private.pem"));
  refused = generate_key_pair("ES256", dir.path, "", false);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("public.pem"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("private.pem")));
  ASSERT_TRUE(succeeded(generate_key_pair("ES256", dir.path, "", true)));
  EXPECT_NE(read_file(dir.file("private.pem")), first);
  // An existing file with loose permissions gets the right ones.
  ::chmod(dir.file("private.pem").c_str(), 0666);
  ASSERT_TRUE(succeeded(generate_key_pair("EdDSA", dir.path, "", true)));
  EXPECT_EQ(mode_of(dir.file("private.pem")), 0600u);
}

TEST(JwtKeyGenerate, RefusesAlgorithmsWithoutKeyPairs) {
  TempDir dir;
  Status refused = generate_key_pair("HS256", dir.path, "", false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), AuthError::algorithm_refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("secret"));
  refused = generate_key_pair("XX256", dir.path, "", false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), AuthError::algorithm_refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("XX256"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("private.pem")));
}

}  // namespace
}  // namespace capstan::auth::test
