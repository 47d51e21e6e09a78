// The JWS algorithms Capstan knows (RFC 7518 §3, RFC 8037 §3.1) and which keys suit them.
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "capstan/error.hpp"

namespace capstan::auth {

enum class AlgorithmFamily : uint8_t { hmac, rsa_pkcs1, rsa_pss, ecdsa, eddsa };

struct Algorithm {
  std::string_view name;  // as in the JOSE header: "RS256"
  AlgorithmFamily family;
  const char* digest;     // OpenSSL digest name; nullptr for EdDSA, which hashes internally
  const char* curve;      // ECDSA: the OpenSSL group name the key must have
  size_t ecdsa_size;      // ECDSA: the raw R||S signature length (RFC 7518 §3.4)

  bool is_hmac() const noexcept { return family == AlgorithmFamily::hmac; }
  // The digest, fetched once per process: a fetch per signature would cost a method-store
  // lookup under a lock. nullptr for EdDSA.
  const EVP_MD* md() const noexcept;
};

// Every supported algorithm's name, in table order; with `key_pairs`, those signed with a
// private key (no HMAC). The one list: the config check and `keys generate` read it too.
std::vector<std::string> algorithm_names(bool key_pairs);

// nullptr for anything else, "none" included. Names are case-sensitive (RFC 7515 §4.1.1).
const Algorithm* find_algorithm(std::string_view name) noexcept;

// Whether `key` may sign or verify `alg`: the key type (RSA for RS/PS, the right curve for
// ES, Ed25519/Ed448 for EdDSA) and, for RSA, at least 2048 bits (RFC 7518 §3.3). Else
// AuthError::bad_key with the reason.
Status key_fits_algorithm(const Algorithm& alg, EVP_PKEY* key);

// The exact signature length `alg` produces with `key`, or with an HMAC secret when null.
size_t signature_size(const Algorithm& alg, EVP_PKEY* key) noexcept;

// A short description of a key for error messages: "RSA 2048", "EC prime256v1", "ED25519".
std::string describe_key(EVP_PKEY* key);

}  // namespace capstan::auth
