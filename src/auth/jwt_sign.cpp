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

std::string sign_token(const AuthConfig& config, const std::string& base_dir, std::string_view claims_json,
                       std::string& error) {
  if (config.algorithms.empty()) {
    error = "no JWT algorithm configured";
    return {};
  }
  const Algorithm* alg = find_algorithm(config.algorithms.front());
  if (!alg) {
    error = "unsupported JWT algorithm: " + config.algorithms.front();
    return {};
  }
  if (!is_json_object(claims_json)) {
    error = "the claims are not a JSON object";
    return {};
  }
  std::string secret;
  PkeyPtr key;
  if (alg->is_hmac()) {
    secret = configured_secret(config);
    if (secret.empty()) {
      error = std::string(alg->name) + ": no secret (auth.secret or CAPSTAN_JWT_SECRET)";
      return {};
    }
  } else {
    const std::string path = resolve_path(config.private_key, base_dir);
    key = load_private_key(path, configured_passphrase(config), error);
    if (!key) return {};
    std::string why;
    if (!key_fits_algorithm(*alg, key.get(), why)) {
      error = path + ": " + why;
      return {};
    }
  }
  std::string token = base64url_encode("{\"alg\":\"" + std::string(alg->name) + "\",\"typ\":\"JWT\"}");
  token += '.';
  token += base64url_encode(claims_json);
  const std::string signature = create_signature(*alg, key.get(), secret, token, error);
  if (signature.empty()) return {};
  token += '.';
  token += base64url_encode(signature);
  return token;
}

}  // namespace capstan::auth
