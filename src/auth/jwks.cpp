// JSON Web Key Sets (RFC 7517) to EVP keys: RSA (RFC 7518 §6.3), EC (§6.2), oct (§6.4) and
// OKP Ed25519/Ed448 (RFC 8037 §2), built with EVP_PKEY_fromdata.
#include <openssl/core_names.h>
#include <simdjson.h>

#include "auth/base64url.hpp"
#include "auth/jwt_algorithms.hpp"
#include "auth/jwt_keys.hpp"

namespace capstan::auth {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

struct Curve {
  std::string_view jwk_name;
  const char* openssl_name;
  size_t coordinate_size;
};
constexpr Curve kEcCurves[] = {{"P-256", "prime256v1", 32}, {"P-384", "secp384r1", 48}, {"P-521", "secp521r1", 66}};
constexpr Curve kEdCurves[] = {{"Ed25519", "ED25519", 32}, {"Ed448", "ED448", 57}};

template <size_t N>
const Curve* find_curve(const Curve (&curves)[N], std::string_view name) {
  for (const Curve& c : curves)
    if (c.jwk_name == name) return &c;
  return nullptr;
}

// Reading one JWK gives a key, a key to skip, or (an Error) a malformed key.
enum class Read : uint8_t { key, skip };

// A member that must be a string when present; `present` tells whether it was.
bool optional_string(object jwk, std::string_view name, std::string_view& value, bool& present) {
  element e;
  present = jwk.at_key(name).get(e) == simdjson::SUCCESS;
  return !present || e.get_string().get(value) == simdjson::SUCCESS;
}

// A required base64url member, decoded.
Expected<std::string> required_bytes(object jwk, std::string_view name) {
  std::string_view text;
  std::string bytes;
  if (jwk.at_key(name).get_string().get(text) != simdjson::SUCCESS || text.empty() || !base64url_decode(text, bytes))
    return Error(AuthError::bad_key, '"' + std::string(name) + "\" missing or not base64url");
  return bytes;
}

// OpenSSL's reason for refusing the numbers of a `kty` key; its error queue is left empty.
Error refused_by_openssl(std::string_view kty) {
  return Error(AuthError::bad_key, std::string(kty) + " key refused by OpenSSL: " + take_openssl_error());
}

PkeyPtr key_from_params(const char* type, OSSL_PARAM_BLD* builder) {
  ParamsPtr params(OSSL_PARAM_BLD_to_param(builder));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return nullptr;
  return PkeyPtr(key);
}

BignumPtr bignum(const std::string& big_endian) {
  return BignumPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(big_endian.data()),
                             static_cast<int>(big_endian.size()), nullptr));
}

Expected<PkeyPtr> rsa_key(object jwk) {
  const Expected<std::string> n = required_bytes(jwk, "n");
  if (!n) return n.error();
  const Expected<std::string> e = required_bytes(jwk, "e");
  if (!e) return e.error();
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  BignumPtr modulus = bignum(*n), exponent = bignum(*e);
  PkeyPtr key;
  if (builder && modulus && exponent && OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) &&
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get()))
    key = key_from_params("RSA", builder.get());
  if (!key) return refused_by_openssl("RSA");
  return key;
}

Expected<PkeyPtr> ec_key(object jwk, const Curve& curve) {
  const Expected<std::string> x = required_bytes(jwk, "x");
  if (!x) return x.error();
  const Expected<std::string> y = required_bytes(jwk, "y");
  if (!y) return y.error();
  // RFC 7518 §6.2.1.2: each coordinate is exactly the field size, leading zeros kept.
  if (x->size() != curve.coordinate_size || y->size() != curve.coordinate_size)
    return Error(AuthError::bad_key, "\"x\" or \"y\" is not " + std::to_string(curve.coordinate_size) + " bytes");
  const std::string point = '\x04' + *x + *y;  // SEC 1 uncompressed point
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  PkeyPtr key;
  if (builder && OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.openssl_name, 0) &&
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()))
    key = key_from_params("EC", builder.get());
  // A point off the curve must never reach a verification.
  PkeyCtxPtr check(key ? EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr) : nullptr);
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return refused_by_openssl("EC");
  return key;
}

Expected<PkeyPtr> ed_key(object jwk, const Curve& curve) {
  const Expected<std::string> x = required_bytes(jwk, "x");
  if (!x) return x.error();
  if (x->size() != curve.coordinate_size)
    return Error(AuthError::bad_key, "\"x\" is not " + std::to_string(curve.coordinate_size) + " bytes");
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  PkeyPtr key;
  if (builder && OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, x->data(), x->size()))
    key = key_from_params(curve.openssl_name, builder.get());
  if (!key) return refused_by_openssl("OKP");
  return key;
}

Expected<Read> take_key(Expected<PkeyPtr> key, VerificationKey& out) {
  if (!key) return std::move(key).error();
  out.key = std::move(*key);
  return Read::key;
}

// Fills `out`; its kid is set before the key is read, so an error can name it.
Expected<Read> read_jwk(element value, VerificationKey& out) {
  object jwk;
  if (value.get_object().get(jwk) != simdjson::SUCCESS) return Error(AuthError::bad_key, "not a JSON object");
  std::string_view kty, use, alg, kid, crv;
  bool has_use = false, has_alg = false, has_kid = false, has_crv = false;
  if (jwk.at_key("kty").get_string().get(kty) != simdjson::SUCCESS)
    return Error(AuthError::bad_key, "\"kty\" missing or not a string");
  if (!optional_string(jwk, "use", use, has_use) || !optional_string(jwk, "alg", alg, has_alg) ||
      !optional_string(jwk, "kid", kid, has_kid) || !optional_string(jwk, "crv", crv, has_crv))
    return Error(AuthError::bad_key, "\"use\", \"alg\", \"kid\" or \"crv\" is not a string");
  // Encryption keys and algorithms we do not verify share JWKS files with signing keys.
  if ((has_use && use != "sig") || (has_alg && !find_algorithm(alg))) return Read::skip;
  out.kid = kid;
  out.alg = alg;
  if (kty == "oct") {
    Expected<std::string> secret = required_bytes(jwk, "k");
    if (!secret) return secret.error();
    out.secret = std::move(*secret);
    return Read::key;
  }
  if (kty == "RSA") return take_key(rsa_key(jwk), out);
  if (kty == "EC") {
    const Curve* curve = find_curve(kEcCurves, crv);
    if (!curve) return Read::skip;  // secp256k1 and friends
    return take_key(ec_key(jwk, *curve), out);
  }
  if (kty == "OKP") {
    const Curve* curve = find_curve(kEdCurves, crv);
    if (!curve) return Read::skip;  // X25519/X448 are for key agreement
    return take_key(ed_key(jwk, *curve), out);
  }
  return Read::skip;
}

}  // namespace

Expected<std::vector<VerificationKey>> parse_jwks(std::string_view json) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json);
  element root;
  object document;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS || root.get_object().get(document) != simdjson::SUCCESS)
    return Error(AuthError::bad_key, "not a JSON object");
  std::vector<VerificationKey> out;
  simdjson::dom::array keys;
  if (document.at_key("keys").get_array().get(keys) != simdjson::SUCCESS) {
    if (document.at_key("kty").error() != simdjson::SUCCESS) return Error(AuthError::bad_key, "no \"keys\" array");
    VerificationKey key;
    const Expected<Read> read = read_jwk(root, key);
    if (!read) return read.error();
    if (*read == Read::key) out.push_back(std::move(key));
    return out;
  }
  size_t index = 0;
  for (element value : keys) {
    VerificationKey key;
    const Expected<Read> read = read_jwk(value, key);
    if (!read)
      return read.error().prefixed("keys[" + std::to_string(index) + "]" + (key.kid.empty() ? "" : " (kid " + key.kid + ")") + ": ");
    if (*read == Read::key) out.push_back(std::move(key));
    ++index;
  }
  return out;
}

}  // namespace capstan::auth
