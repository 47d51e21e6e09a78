// JWT verification and signing on OpenSSL EVP (RFC 7515, 7518, 7519, 8037).
//
// A Verifier is built once from the [auth] configuration (keys loaded, algorithms fixed) and
// is then read-only, so every event loop verifies with the same instance without locks.
// Verification is a pure function of (token, now): it never blocks and never throws.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "capstan/config.hpp"
#include "capstan/error.hpp"

namespace capstan::auth {

struct VerifiedToken {
  std::string identity;  // the identity claim, as text (a number claim is written in decimal)
  std::string claims;    // the payload JSON, as it came
  int64_t expires_at = 0;  // `exp`, 0 when absent
};

class Verifier {
 public:
  // Loads the keys the configured algorithms need; fails when a key is missing, unreadable or
  // of the wrong type for an algorithm. HS* tokens are only ever checked with the secret (or a
  // JWKS "oct" key), the others only with public keys of their type, so one algorithm's key
  // is never used as another's (no algorithm confusion).
  static Expected<std::unique_ptr<Verifier>> create(const AuthConfig& config, const std::string& base_dir);
  ~Verifier();

  // A refusal's message() is the close reason and the log line. Its detail always holds the
  // full text, even where the category's text reads the same, so what clients match on never
  // changes with the category; text taken from the token (alg, kid, typ) is cut short and
  // cleaned. By code:
  //   malformed_token    "malformed token[: detail]"
  //   algorithm_refused  "algorithm none refused", "algorithm not allowed: HS256"
  //   bad_header         "typ is not JWT: X", "crit header not supported"
  //   no_key             "unknown kid: K"
  //   bad_signature      "bad signature length", "bad signature"
  //   expired            "expired"
  //   not_yet_valid      "not yet valid (nbf)", "issued in the future (iat)"
  //   bad_claim          "bad claim: exp", "duplicate claim: exp", "missing claim: iss",
  //                      "missing claim: aud", "missing claim: username"
  //   wrong_issuer       "issuer mismatch"
  //   wrong_audience     "audience mismatch"
  Expected<VerifiedToken> verify(std::string_view token, int64_t now_unix_seconds) const;

 private:
  Verifier();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Signs `claims_json` (a JSON object) with the configured private key or secret, for
// `capstan token`. The first configured algorithm is used.
Expected<std::string> sign_token(const AuthConfig& config, const std::string& base_dir, std::string_view claims_json);

// Writes private.pem and public.pem into `dir` (made if missing), like
// `lexik:jwt:generate-keypair`: "RS256" (RSA 2048), "RS384"/"RS512"/"PS*" (RSA 2048),
// "ES256" (P-256), "ES384" (P-384), "ES512" (P-521), "EdDSA" (Ed25519). private.pem is
// PKCS#8 with mode 0600, public.pem SubjectPublicKeyInfo with mode 0644. A non-empty
// passphrase encrypts the private key with AES-256-CBC ("BEGIN ENCRYPTED PRIVATE KEY"), as
// Lexik does. An existing file is an error (std::errc::file_exists) unless `overwrite`.
Status generate_key_pair(std::string_view algorithm, const std::string& dir, const std::string& passphrase,
                         bool overwrite);

// Whether `name` is an algorithm the verifier supports: HS256/384/512, RS256/384/512,
// PS256/384/512, ES256/384/512, EdDSA (Ed25519 or Ed448 keys). Never "none".
bool is_supported_algorithm(std::string_view name) noexcept;

}  // namespace capstan::auth
