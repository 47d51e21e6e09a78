// Shared by the JWT tests: key files made once by the `openssl` command line, a signer
// written here on plain EVP (so tokens do not only come from the code under test), and
// token and configuration builders.
#pragma once

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "auth/base64url.hpp"
#include "auth/jwt.hpp"

namespace capstan::auth::test {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// A folder under /tmp removed with everything in it at the end.
struct TempDir {
  std::string path;
  TempDir() {
    char pattern[] = "/tmp/capstan-jwt-XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

inline bool run(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::string& path, std::string_view text) {
  std::ofstream(path, std::ios::binary) << text;
}

// The key pairs every test may use, made once per test run by the `openssl` command line,
// as a Symfony project would make them. Each name has NAME.pem (private) and NAME.pub.pem.
// "rsa" is Lexik's: 2048 bits, AES-256 with the passphrase "xyz".
class KeyFiles {
 public:
  static KeyFiles& get() {
    static KeyFiles files;
    return files;
  }
  std::string private_path(const std::string& name) const { return dir_.file(name + ".pem"); }
  std::string public_path(const std::string& name) const { return dir_.file(name + ".pub.pem"); }
  const std::string& dir() const { return dir_.path; }
  std::string passphrase(const std::string& name) const { return name == "rsa" ? "xyz" : ""; }

  Pkey private_key(const std::string& name) const {
    FILE* f = std::fopen(private_path(name).c_str(), "r");
    if (!f) return nullptr;
    std::string pass = passphrase(name);
    Pkey key(PEM_read_PrivateKey(f, nullptr, nullptr, pass.empty() ? nullptr : pass.data()));
    std::fclose(f);
    return key;
  }

 private:
  KeyFiles() {
    const std::map<std::string, std::string> genpkey = {
        {"rsa", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes256 -pass pass:xyz"},
        {"rsa_b", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048"},
        {"rsa3072", "-algorithm RSA -pkeyopt rsa_keygen_bits:3072"},
        {"rsa1024", "-algorithm RSA -pkeyopt rsa_keygen_bits:1024"},
        {"p256", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256"},
        {"p384", "-algorithm EC -pkeyopt ec_paramgen_curve:P-384"},
        {"p521", "-algorithm EC -pkeyopt ec_paramgen_curve:P-521"},
        {"ed25519", "-algorithm ED25519"},
        {"ed448", "-algorithm ED448"},
    };
    for (const auto& [name, options] : genpkey) {
      const std::string pass = name == "rsa" ? " -passin pass:xyz" : "";
      const bool ok = run("openssl genpkey " + options + " -out " + private_path(name)) &&
                      run("openssl pkey -in " + private_path(name) + pass + " -pubout -out " + public_path(name));
      if (!ok) ADD_FAILURE() << "openssl could not make the " << name << " key pair";
    }
  }
  TempDir dir_;
};

// The key family a test uses with each algorithm.
inline std::string key_for(std::string_view alg) {
  if (alg.starts_with("RS") || alg.starts_with("PS")) return "rsa";
  if (alg == "ES256") return "p256";
  if (alg == "ES384") return "p384";
  if (alg == "ES512") return "p521";
  if (alg == "EdDSA") return "ed25519";
  return "";
}

inline const char* digest_for(std::string_view alg) {
  if (alg.ends_with("384")) return "SHA384";
  if (alg.ends_with("512")) return "SHA512";
  return alg == "EdDSA" ? nullptr : "SHA256";
}

// A JWS signature made without the code under test.
inline std::string evp_sign(std::string_view alg, EVP_PKEY* key, std::string_view secret, std::string_view input) {
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  if (alg.starts_with("HS")) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t n = 0;
    EVP_Q_mac(nullptr, "HMAC", nullptr, digest_for(alg), nullptr, secret.data(), secret.size(), in, input.size(), mac,
              sizeof mac, &n);
    return std::string(reinterpret_cast<char*>(mac), n);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  std::string sig(static_cast<size_t>(EVP_PKEY_get_size(key)), '\0');
  size_t n = sig.size();
  const char* md = digest_for(alg);
  bool ok = EVP_DigestSignInit_ex(ctx, &pctx, md, nullptr, nullptr, key, nullptr) == 1;
  if (ok && alg.starts_with("PS"))
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  ok = ok && EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &n, in, input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EXPECT_TRUE(ok) << "EVP signing failed for " << alg;
  sig.resize(n);
  if (!alg.starts_with("ES")) return sig;
  // DER to R||S, each as wide as the curve.
  const size_t half = alg == "ES256" ? 32 : alg == "ES384" ? 48 : 66;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  std::string raw(2 * half, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), out, static_cast<int>(half));
  BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), out + half, static_cast<int>(half));
  ECDSA_SIG_free(ecdsa);
  return raw;
}

inline std::string b64(std::string_view bytes) { return base64url_encode(bytes); }

// header.payload.signature, the parts given as JSON text and the signature made by evp_sign.
inline std::string make_token(std::string_view header, std::string_view payload, std::string_view alg, EVP_PKEY* key,
                              std::string_view secret = {}) {
  const std::string input = b64(header) + "." + b64(payload);
  return input + "." + b64(evp_sign(alg, key, secret, input));
}

inline std::string header_for(std::string_view alg, std::string_view extra = {}) {
  return "{\"alg\":\"" + std::string(alg) + "\",\"typ\":\"JWT\"" + std::string(extra) + "}";
}

inline constexpr std::string_view kSecret = "a-secret-of-at-least-thirty-two-bytes!!";

// An [auth] configuration for `alg` with the test key files (public key, private key and
// passphrase of key_for(alg)) and kSecret.
inline AuthConfig config_for(std::string_view alg, std::string key_name = {}) {
  KeyFiles& keys = KeyFiles::get();
  if (key_name.empty()) key_name = key_for(alg);
  AuthConfig config;
  config.algorithms = {std::string(alg)};
  config.secret = kSecret;
  if (!key_name.empty()) {
    config.public_key = keys.public_path(key_name);
    config.private_key = keys.private_path(key_name);
    config.passphrase = keys.passphrase(key_name);
  }
  // The tests of keys, algorithms and claims other than exp use short payloads without one;
  // JwtClaims.ExpIsRequiredByDefault checks the default.
  config.leeway = std::chrono::seconds(30);
  config.require_exp = false;
  return config;
}

// Success, or a failure that says why: ASSERT_TRUE(succeeded(generate_key_pair(...))).
inline testing::AssertionResult succeeded(const Status& status) {
  if (status) return testing::AssertionSuccess();
  return testing::AssertionFailure() << status.error().message();
}

// A Verifier that must be made; nullptr (and a failed test) otherwise.
inline std::unique_ptr<Verifier> make_verifier(const AuthConfig& config, const std::string& base_dir = {}) {
  Expected<std::unique_ptr<Verifier>> verifier = Verifier::create(config, base_dir);
  if (!verifier) {
    ADD_FAILURE() << verifier.error().message();
    return nullptr;
  }
  return std::move(*verifier);
}

// A token sign_token must make; empty (and a failed test) otherwise.
inline std::string signed_token(const AuthConfig& config, std::string_view claims, const std::string& base_dir = {}) {
  Expected<std::string> token = sign_token(config, base_dir, claims);
  if (!token) {
    ADD_FAILURE() << "sign_token: " << token.error().message();
    return {};
  }
  return std::move(*token);
}

}  // namespace capstan::auth::test
