// JWS signatures on OpenSSL EVP: checking (RFC 7515 §5.2 step 8) and making them.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "auth/jwt_algorithms.hpp"
#include "auth/openssl_ptr.hpp"
#include "capstan/error.hpp"

namespace capstan::auth {

// Checks the signatures of one algorithm with one key or secret. Everything that can be
// prepared is prepared once (digest fetched, key set, PSS parameters chosen); verify() copies
// that prepared context, so it is const and safe to call from several threads at once.
class SignatureChecker {
 public:
  // `key` must fit `alg` (key_fits_algorithm); it is shared, not copied. AuthError::bad_key
  // when OpenSSL cannot prepare it.
  static Expected<std::unique_ptr<SignatureChecker>> with_key(const Algorithm& alg, EVP_PKEY* key);
  static Expected<std::unique_ptr<SignatureChecker>> with_secret(const Algorithm& alg, std::string_view secret);

  const Algorithm& algorithm() const noexcept { return alg_; }
  size_t signature_size() const noexcept { return size_; }

  // `signature` as decoded from the token; a wrong length is simply false.
  bool verify(std::string_view signing_input, std::string_view signature) const;

 private:
  explicit SignatureChecker(const Algorithm& alg) : alg_(alg) {}
  bool verify_mac(std::string_view input, std::string_view signature) const;
  bool verify_digest(std::string_view input, std::string_view signature) const;

  const Algorithm& alg_;
  size_t size_ = 0;
  PkeyPtr key_;
  MacCtxPtr mac_;      // HMAC already keyed
  MdCtxPtr verifier_;  // EVP_DigestVerifyInit done, nothing hashed yet
};

// Signs `signing_input` with `key`, or with `secret` for HMAC algorithms, and returns the
// JWS signature bytes (ECDSA as raw R||S), or AuthError::signing_failed.
Expected<std::string> create_signature(const Algorithm& alg, EVP_PKEY* key, std::string_view secret,
                                       std::string_view signing_input);

}  // namespace capstan::auth
