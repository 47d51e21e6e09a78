// Where the JWT keys come from: PEM files, the shared secret, a JWKS file (RFC 7517).
//
// Everything here runs once, when a Verifier is made or a token is signed; nothing is on the
// per-handshake path.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "auth/openssl_ptr.hpp"
#include "capstan/config.hpp"
#include "capstan/error.hpp"
#include "util/path.hpp"

namespace capstan::auth {

using util::resolve_path;

// A key a token may be checked with: the PEM public key (no kid), or one JWKS entry.
struct VerificationKey {
  std::string kid;      // empty when the key has none
  std::string alg;      // the JWK "alg": when set, the only algorithm the key serves
  PkeyPtr key;          // an asymmetric public key, or
  std::string secret;   // the bytes of a JWK "oct" key
};

// Relative paths are relative to the config file's folder (util/path.hpp). A file that cannot
// be opened is its errno ("path: No such file or directory").
Expected<std::string> read_text_file(const std::string& path);

// A "BEGIN PUBLIC KEY" PEM (what `openssl pkey -pubout` and Lexik write) or the key of a
// "BEGIN CERTIFICATE". Anything else is AuthError::bad_key, naming the path.
Expected<PkeyPtr> load_public_key(const std::string& path);

// A PEM private key, encrypted or not. Never prompts on a terminal: a missing or wrong
// passphrase is AuthError::bad_key.
Expected<PkeyPtr> load_private_key(const std::string& path, const std::string& passphrase);

// AuthConfig::secret, else $CAPSTAN_JWT_SECRET; empty when neither is set.
std::string configured_secret(const AuthConfig& config);
// AuthConfig::passphrase, else $CAPSTAN_JWT_PASSPHRASE.
std::string configured_passphrase(const AuthConfig& config);

// The signing keys of a JWKS document ({"keys": [...]}, or a single JWK). Keys meant for
// something else (use other than "sig", an unknown kty, crv or alg) are skipped; a key of a
// supported type that is malformed is AuthError::bad_key.
Expected<std::vector<VerificationKey>> parse_jwks(std::string_view json);

}  // namespace capstan::auth
