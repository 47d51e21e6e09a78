// The registered claims a Capstan token is judged by (RFC 7519 §4.1): exp, nbf and iat with
// the configured leeway, iss and aud when configured, and the identity claim.
#include <cmath>
#include <limits>

#include "auth/jwt_verifier_impl.hpp"

namespace capstan::auth {

namespace {

using simdjson::dom::element;

// The claims read in the single pass over the payload.
struct Claims {
  element exp, nbf, iat, iss, aud, identity;
  bool has_exp = false, has_nbf = false, has_iat = false, has_iss = false, has_aud = false, has_identity = false;
};

// Keeps `value` in `slot`, refusing a second one: RFC 7519 §4 wants duplicates refused or
// the last one kept, and simdjson would look up the first.
bool keep(std::string_view name, const element& value, element& slot, bool& seen, std::string& error) {
  if (seen) {
    error = "duplicate claim: " + printable(name);
    return false;
  }
  seen = true;
  slot = value;
  return true;
}

bool collect(simdjson::dom::object payload, const ClaimRules& rules, Claims& claims, std::string& error) {
  for (const auto field : payload) {
    const std::string_view name = field.key;
    bool ok = true;
    if (name == "exp") ok = keep(name, field.value, claims.exp, claims.has_exp, error);
    else if (name == "nbf") ok = keep(name, field.value, claims.nbf, claims.has_nbf, error);
    else if (name == "iat") ok = keep(name, field.value, claims.iat, claims.has_iat, error);
    else if (name == "iss") ok = keep(name, field.value, claims.iss, claims.has_iss, error);
    else if (name == "aud") ok = keep(name, field.value, claims.aud, claims.has_aud, error);
    if (ok && name == rules.identity_claim) ok = keep(name, field.value, claims.identity, claims.has_identity, error);
    if (!ok) return false;
  }
  return true;
}

// A NumericDate (RFC 7519 §2): any JSON number, fractions allowed. Absent reads as `absent`.
bool numeric_date(bool present, const element& value, const char* name, double absent, double& out,
                  std::string& error) {
  out = absent;
  if (!present || value.get_double().get(out) == simdjson::SUCCESS) return true;
  error = std::string("bad claim: ") + name;
  return false;
}

bool check_times(const Claims& claims, double now, const ClaimRules& rules, VerifiedToken& token, std::string& error) {
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  const double leeway = rules.leeway_seconds;
  if (rules.require_exp && !claims.has_exp) {
    error = "missing claim: exp";
    return false;
  }
  double exp = 0, nbf = 0, iat = 0;
  if (!numeric_date(claims.has_exp, claims.exp, "exp", kInfinity, exp, error) ||
      !numeric_date(claims.has_nbf, claims.nbf, "nbf", -kInfinity, nbf, error) ||
      !numeric_date(claims.has_iat, claims.iat, "iat", -kInfinity, iat, error))
    return false;
  // lcobucci/jwt, under Lexik: a token is expired from the second its exp names (now >= exp).
  if (now >= exp + leeway) {
    error = "expired";
    return false;
  }
  if (now + leeway < nbf) {
    error = "not yet valid (nbf)";
    return false;
  }
  if (iat > now + leeway) {
    error = "issued in the future (iat)";
    return false;
  }
  if (claims.has_exp) {
    constexpr double kLimit = 9.2e18;  // inside int64 whatever the rounding
    token.expires_at = static_cast<int64_t>(std::floor(std::fmin(std::fmax(exp, -kLimit), kLimit)));
  }
  return true;
}

bool check_audience(const Claims& claims, const std::string& audience, std::string& error) {
  if (!claims.has_aud) {
    error = "missing claim: aud";
    return false;
  }
  // RFC 7519 §4.1.3: one string, or an array of strings of which one must be ours.
  std::string_view text;
  if (claims.aud.get_string().get(text) == simdjson::SUCCESS && text == audience) return true;
  simdjson::dom::array list;
  if (claims.aud.get_array().get(list) == simdjson::SUCCESS)
    for (const element item : list)
      if (item.get_string().get(text) == simdjson::SUCCESS && text == audience) return true;
  error = "audience mismatch";
  return false;
}

bool read_identity(const Claims& claims, const std::string& name, VerifiedToken& token, std::string& error) {
  if (!claims.has_identity) {
    error = "missing claim: " + name;
    return false;
  }
  std::string_view text;
  int64_t signed_number = 0;
  uint64_t unsigned_number = 0;
  if (claims.identity.get_string().get(text) == simdjson::SUCCESS && !text.empty())
    token.identity = text;
  else if (claims.identity.get_int64().get(signed_number) == simdjson::SUCCESS)
    token.identity = std::to_string(signed_number);
  else if (claims.identity.get_uint64().get(unsigned_number) == simdjson::SUCCESS)
    token.identity = std::to_string(unsigned_number);
  else {
    // Empty, fractional, boolean, null, object: no user is named by that.
    error = "bad claim: " + name;
    return false;
  }
  return true;
}

}  // namespace

bool check_claims(const std::string& payload_json, const ClaimRules& rules, int64_t now, VerifiedToken& token,
                  std::string& error) {
  simdjson::dom::object payload;
  if (thread_json_parser().parse(payload_json).get_object().get(payload) != simdjson::SUCCESS) {
    error = "malformed token: payload is not a JSON object";
    return false;
  }
  Claims claims;
  if (!collect(payload, rules, claims, error)) return false;
  if (!check_times(claims, static_cast<double>(now), rules, token, error)) return false;
  std::string_view issuer;
  if (!rules.issuer.empty()) {
    if (!claims.has_iss) {
      error = "missing claim: iss";
      return false;
    }
    if (claims.iss.get_string().get(issuer) != simdjson::SUCCESS || issuer != rules.issuer) {
      error = "issuer mismatch";
      return false;
    }
  }
  if (!rules.audience.empty() && !check_audience(claims, rules.audience, error)) return false;
  return read_identity(claims, rules.identity_claim, token, error);
}

}  // namespace capstan::auth
