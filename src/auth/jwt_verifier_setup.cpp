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
Expected<KeySources> load_sources(const AuthConfig& config, const std::string& base_dir, bool need_secret,
                                  const std::string& need_public) {
  KeySources keys;
  if (need_secret) keys.secret = configured_secret(config);
  if (!config.jwks.empty() && (!need_public.empty() || keys.secret.empty())) {
    // A JWKS file replaces public_key and may also hold "oct" secrets.
    keys.jwks_path = resolve_path(config.jwks, base_dir);
    const Expected<std::string> text = read_text_file(keys.jwks_path);
    if (!text) return text.error().prefixed("JWKS file: ");
    Expected<std::vector<VerificationKey>> jwks = parse_jwks(*text);
    if (!jwks) return jwks.error().prefixed(keys.jwks_path + ": ");
    keys.jwks = std::move(*jwks);
  } else if (!need_public.empty()) {
    keys.public_key_path = resolve_path(config.public_key, base_dir);
    Expected<PkeyPtr> key = load_public_key(keys.public_key_path);
    if (!key) return key.error().prefixed(need_public + " needs a public key: ");
    keys.public_key = std::move(*key);
  }
  return keys;
}

// The candidates for one algorithm, at least one.
Expected<std::vector<KeyCandidate>> collect_keys(const Algorithm& alg, const KeySources& sources) {
  const std::string name(alg.name);
  std::vector<KeyCandidate> keys;
  auto add = [&keys](const std::string& kid, Expected<std::unique_ptr<SignatureChecker>> checker) -> Status {
    if (!checker) return std::move(checker).error();
    keys.push_back({kid, std::move(*checker)});
    return {};
  };
  if (alg.is_hmac() && !sources.secret.empty())
    if (Status added = add("", SignatureChecker::with_secret(alg, sources.secret)); !added) return added.error();
  if (!alg.is_hmac() && sources.public_key) {
    if (Status fits = key_fits_algorithm(alg, sources.public_key.get()); !fits)
      return fits.error().prefixed(sources.public_key_path + ": ");
    if (Status added = add("", SignatureChecker::with_key(alg, sources.public_key.get())); !added)
      return added.error();
  }
  Status why;  // why the last JWKS key of another type did not fit, said when no key does
  for (const VerificationKey& key : sources.jwks) {
    if (!key.alg.empty() && key.alg != name) continue;
    Status added;
    if (alg.is_hmac() && !key.secret.empty()) {
      added = add(key.kid, SignatureChecker::with_secret(alg, key.secret));
    } else if (!alg.is_hmac() && key.key) {
      Status fits = key_fits_algorithm(alg, key.key.get());
      if (fits) added = add(key.kid, SignatureChecker::with_key(alg, key.key.get()));
      else why = std::move(fits);
    }
    if (!added) return added.error();
  }
  if (!keys.empty()) return keys;
  if (alg.is_hmac())
    return Error(AuthError::no_key,
                 name + ": no secret (auth.secret or CAPSTAN_JWT_SECRET" +
                     (sources.jwks_path.empty() ? "" : ", or an \"oct\" key in " + sources.jwks_path) + ")");
  return Error(AuthError::no_key, name + ": no usable key in " + sources.jwks_path +
                                      (why.has_value() ? "" : " (" + why.error().message() + ")"));
}

}  // namespace

Verifier::Verifier() : impl_(std::make_unique<Impl>()) {}
Verifier::~Verifier() = default;

Expected<std::unique_ptr<Verifier>> Verifier::create(const AuthConfig& config, const std::string& base_dir) {
  std::vector<const Algorithm*> algorithms;
  bool need_secret = false;
  std::string need_public;
  for (const std::string& name : config.algorithms) {
    const Algorithm* alg = find_algorithm(name);
    if (!alg) return Error(AuthError::algorithm_refused, "unsupported JWT algorithm: " + name);
    bool seen = false;
    for (const Algorithm* a : algorithms) seen = seen || a == alg;
    if (seen) continue;
    algorithms.push_back(alg);
    if (alg->is_hmac())
      need_secret = true;
    else
      need_public += (need_public.empty() ? "" : ", ") + name;
  }
  // Faults of the configuration itself rather than of a key: coded as load_config codes them.
  if (algorithms.empty()) return Error(ConfigError::missing, "no JWT algorithm configured");
  const Expected<KeySources> sources = load_sources(config, base_dir, need_secret, need_public);
  if (!sources) return sources.error();

  std::unique_ptr<Verifier> verifier(new Verifier());
  for (const Algorithm* alg : algorithms) {
    Expected<std::vector<KeyCandidate>> keys = collect_keys(*alg, *sources);
    if (!keys) return keys.error();
    verifier->impl_->allowed.push_back({alg, std::move(*keys)});
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
