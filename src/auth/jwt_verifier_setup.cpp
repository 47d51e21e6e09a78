// Building a Verifier: each configured algorithm gets the keys that can check it, and an
// algorithm left without one stops the server from starting rather than refusing every user.
#include <cstdlib>

#include "auth/jwt_keys.hpp"
#include "auth/jwt_verifier_impl.hpp"

namespace capstan::auth {

namespace {

// The keys of the configuration, loaded only when some algorithm needs them.
struct KeySources {
  std::string secret;
  std::string public_key_path;  // set when a PEM key was loaded
  PkeyPtr public_key;
  std::string jwks_path;  // set when a JWKS file was loaded
  std::vector<VerificationKey> jwks;
};

// `need_public` names the algorithms that want a public key ("RS256, ES256"), for errors.
bool load_sources(const AuthConfig& config, const std::string& base_dir, bool need_secret,
                  const std::string& need_public, KeySources& keys, std::string& error) {
  if (need_secret) keys.secret = configured_secret(config);
  if (!config.jwks.empty() && (!need_public.empty() || keys.secret.empty())) {
    // A JWKS file replaces public_key and may also hold "oct" secrets.
    keys.jwks_path = resolve_path(config.jwks, base_dir);
    std::string text;
    if (!read_text_file(keys.jwks_path, text, error)) {
      error = "JWKS file: " + error;
      return false;
    }
    if (!parse_jwks(text, keys.jwks, error)) {
      error = keys.jwks_path + ": " + error;
      return false;
    }
  } else if (!need_public.empty()) {
    keys.public_key_path = resolve_path(config.public_key, base_dir);
    keys.public_key = load_public_key(keys.public_key_path, error);
    if (!keys.public_key) {
      error = need_public + " needs a public key: " + error;
      return false;
    }
  }
  return true;
}

bool add_candidate(std::vector<KeyCandidate>& keys, const std::string& kid, std::unique_ptr<SignatureChecker> checker) {
  if (!checker) return false;
  keys.push_back({kid, std::move(checker)});
  return true;
}

// The candidates for one algorithm; false and `error` when there is none.
bool collect_keys(const Algorithm& alg, const KeySources& sources, AllowedAlgorithm& out, std::string& error) {
  const std::string name(alg.name);
  if (alg.is_hmac() && !sources.secret.empty() &&
      !add_candidate(out.keys, "", SignatureChecker::with_secret(alg, sources.secret, error)))
    return false;
  std::string why;
  if (!alg.is_hmac() && sources.public_key) {
    if (!key_fits_algorithm(alg, sources.public_key.get(), why)) {
      error = sources.public_key_path + ": " + why;
      return false;
    }
    if (!add_candidate(out.keys, "", SignatureChecker::with_key(alg, sources.public_key.get(), error))) return false;
  }
  for (const VerificationKey& key : sources.jwks) {
    if (!key.alg.empty() && key.alg != name) continue;
    std::unique_ptr<SignatureChecker> checker;
    if (alg.is_hmac() && !key.secret.empty())
      checker = SignatureChecker::with_secret(alg, key.secret, error);
    else if (!alg.is_hmac() && key.key && key_fits_algorithm(alg, key.key.get(), why))
      checker = SignatureChecker::with_key(alg, key.key.get(), error);
    else
      continue;
    if (!add_candidate(out.keys, key.kid, std::move(checker))) return false;
  }
  if (!out.keys.empty()) return true;
  if (alg.is_hmac())
    error = name + ": no secret (auth.secret or CAPSTAN_JWT_SECRET" +
            (sources.jwks_path.empty() ? "" : ", or an \"oct\" key in " + sources.jwks_path) + ")";
  else
    error = name + ": no usable key in " + sources.jwks_path + (why.empty() ? "" : " (" + why + ")");
  return false;
}

}  // namespace

Verifier::Verifier() : impl_(std::make_unique<Impl>()) {}
Verifier::~Verifier() = default;

std::unique_ptr<Verifier> Verifier::create(const AuthConfig& config, const std::string& base_dir, std::string& error) {
  std::vector<const Algorithm*> algorithms;
  bool need_secret = false;
  std::string need_public;
  for (const std::string& name : config.algorithms) {
    const Algorithm* alg = find_algorithm(name);
    if (!alg) {
      error = "unsupported JWT algorithm: " + name;
      return nullptr;
    }
    bool seen = false;
    for (const Algorithm* a : algorithms) seen = seen || a == alg;
    if (seen) continue;
    algorithms.push_back(alg);
    if (alg->is_hmac())
      need_secret = true;
    else
      need_public += (need_public.empty() ? "" : ", ") + name;
  }
  if (algorithms.empty()) {
    error = "no JWT algorithm configured";
    return nullptr;
  }
  if (config.identity_claim.empty()) {
    error = "identity_claim is empty";
    return nullptr;
  }
  KeySources sources;
  if (!load_sources(config, base_dir, need_secret, need_public, sources, error)) return nullptr;

  std::unique_ptr<Verifier> verifier(new Verifier());
  for (const Algorithm* alg : algorithms) {
    AllowedAlgorithm allowed{alg, {}};
    if (!collect_keys(*alg, sources, allowed, error)) return nullptr;
    verifier->impl_->allowed.push_back(std::move(allowed));
  }
  ClaimRules& rules = verifier->impl_->rules;
  rules.issuer = config.issuer;
  rules.audience = config.audience;
  rules.identity_claim = config.identity_claim;
  rules.leeway_seconds = static_cast<double>(config.leeway.count()) / 1000.0;
  rules.require_exp = config.require_exp;
  return verifier;
}

}  // namespace capstan::auth
