// sign_token: minting a token with the configured private key or secret (`capstan token`).
#include <simdjson.h>

#include "auth/base64url.hpp"
#include "auth/jws_signature.hpp"
#include "auth/jwt.hpp"
#include "auth/jwt_keys.hpp"

namespace capstan::auth {

namespace {

bool is_json_object(std::string_view json) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json);
  simdjson::dom::object object;
  return parser.parse(padded).get_object().get(object) == simdjson::SUCCESS;
}

}  // namespace

Expected<std::string> sign_token(const AuthConfig& config, const std::string& base_dir, std::string_view claims_json) {
  if (config.algorithms.empty()) return Error(ConfigError::missing, "no JWT algorithm configured");
  const Algorithm* alg = find_algorithm(config.algorithms.front());
  if (!alg) return Error(AuthError::algorithm_refused, "unsupported JWT algorithm: " + config.algorithms.front());
  if (!is_json_object(claims_json)) return Error(AuthError::bad_claim, "the claims are not a JSON object");
  std::string secret;
  PkeyPtr key;
  if (alg->is_hmac()) {
    secret = configured_secret(config);
    if (secret.empty())
      return Error(AuthError::no_key, std::string(alg->name) + ": no secret (auth.secret or CAPSTAN_JWT_SECRET)");
  } else {
    const std::string path = resolve_path(config.private_key, base_dir);
    Expected<PkeyPtr> loaded = load_private_key(path, configured_passphrase(config));
    if (!loaded) return loaded.error();
    key = std::move(*loaded);
    if (Status fits = key_fits_algorithm(*alg, key.get()); !fits) return fits.error().prefixed(path + ": ");
  }
  std::string token = base64url_encode("{\"alg\":\"" + std::string(alg->name) + "\",\"typ\":\"JWT\"}");
  token += '.';
  token += base64url_encode(claims_json);
  const Expected<std::string> signature = create_signature(*alg, key.get(), secret, token);
  if (!signature) return signature.error();
  token += '.';
  token += base64url_encode(*signature);
  return token;
}

}  // namespace capstan::auth
