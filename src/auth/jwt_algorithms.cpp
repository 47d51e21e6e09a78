// The algorithm table and the key-to-algorithm compatibility rules.
#include "auth/jwt_algorithms.hpp"

#include <array>

#include "auth/jwt.hpp"

namespace capstan::auth {

namespace {

using F = AlgorithmFamily;

constexpr Algorithm kAlgorithms[] = {
    {"HS256", F::hmac, "SHA256", nullptr, 0},
    {"HS384", F::hmac, "SHA384", nullptr, 0},
    {"HS512", F::hmac, "SHA512", nullptr, 0},
    {"RS256", F::rsa_pkcs1, "SHA256", nullptr, 0},
    {"RS384", F::rsa_pkcs1, "SHA384", nullptr, 0},
    {"RS512", F::rsa_pkcs1, "SHA512", nullptr, 0},
    {"PS256", F::rsa_pss, "SHA256", nullptr, 0},
    {"PS384", F::rsa_pss, "SHA384", nullptr, 0},
    {"PS512", F::rsa_pss, "SHA512", nullptr, 0},
    {"ES256", F::ecdsa, "SHA256", "prime256v1", 64},
    {"ES384", F::ecdsa, "SHA384", "secp384r1", 96},
    {"ES512", F::ecdsa, "SHA512", "secp521r1", 132},
    {"EdDSA", F::eddsa, nullptr, nullptr, 0},
};

constexpr size_t kMinRsaBits = 2048;

// Fetched on first use and kept for the life of the process.
const EVP_MD* fetched_digest(const char* name) noexcept {
  static const std::array<EVP_MD*, 3> digests = {
      EVP_MD_fetch(nullptr, "SHA256", nullptr),
      EVP_MD_fetch(nullptr, "SHA384", nullptr),
      EVP_MD_fetch(nullptr, "SHA512", nullptr),
  };
  const std::string_view n = name;
  if (n == "SHA256") return digests[0];
  if (n == "SHA384") return digests[1];
  if (n == "SHA512") return digests[2];
  return nullptr;
}

std::string group_name(EVP_PKEY* key) {
  char name[64];
  size_t length = 0;
  if (EVP_PKEY_get_group_name(key, name, sizeof name, &length) != 1) return {};
  return std::string(name, length);
}

}  // namespace

const EVP_MD* Algorithm::md() const noexcept { return digest ? fetched_digest(digest) : nullptr; }

std::vector<std::string> algorithm_names(bool key_pairs) {
  std::vector<std::string> names;
  for (const Algorithm& alg : kAlgorithms)
    if (!key_pairs || !alg.is_hmac()) names.emplace_back(alg.name);
  return names;
}

const Algorithm* find_algorithm(std::string_view name) noexcept {
  for (const Algorithm& alg : kAlgorithms)
    if (alg.name == name) return &alg;
  return nullptr;
}

bool is_supported_algorithm(std::string_view name) noexcept { return find_algorithm(name) != nullptr; }

std::string describe_key(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS"))
    return std::string(EVP_PKEY_get0_type_name(key)) + " " + std::to_string(EVP_PKEY_get_bits(key));
  if (EVP_PKEY_is_a(key, "EC")) return "EC " + group_name(key);
  const char* type = EVP_PKEY_get0_type_name(key);
  return type ? type : "unknown key type";
}

Status key_fits_algorithm(const Algorithm& alg, EVP_PKEY* key) {
  bool fits = false;
  switch (alg.family) {
    case F::hmac:
      return Error(AuthError::bad_key, "an HMAC algorithm needs a secret, not a key");
    case F::rsa_pkcs1:
      fits = EVP_PKEY_is_a(key, "RSA");
      break;
    case F::rsa_pss:
      fits = EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS");
      break;
    case F::ecdsa:
      fits = EVP_PKEY_is_a(key, "EC") && group_name(key) == alg.curve;
      break;
    case F::eddsa:
      fits = EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448");
      break;
  }
  if (!fits) {
    const std::string wanted = alg.family == F::ecdsa   ? std::string("an EC key on curve ") + alg.curve
                               : alg.family == F::eddsa ? "an Ed25519 or Ed448 key"
                                                        : "an RSA key";
    return Error(AuthError::bad_key, std::string(alg.name) + " needs " + wanted + ", not " + describe_key(key));
  }
  if ((alg.family == F::rsa_pkcs1 || alg.family == F::rsa_pss) &&
      static_cast<size_t>(EVP_PKEY_get_bits(key)) < kMinRsaBits)
    return Error(AuthError::bad_key,
                 "RSA key of " + std::to_string(EVP_PKEY_get_bits(key)) + " bits is too small (2048 at least)");
  return {};
}

size_t signature_size(const Algorithm& alg, EVP_PKEY* key) noexcept {
  switch (alg.family) {
    case F::hmac:
      return static_cast<size_t>(EVP_MD_get_size(alg.md()));
    case F::rsa_pkcs1:
    case F::rsa_pss:
      return static_cast<size_t>(EVP_PKEY_get_size(key));  // the modulus length (RFC 8017 §8.2.2)
    case F::ecdsa:
      return alg.ecdsa_size;
    case F::eddsa:
      return EVP_PKEY_is_a(key, "ED448") ? 114 : 64;
  }
  return 0;
}

}  // namespace capstan::auth
