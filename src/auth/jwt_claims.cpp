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
Status keep(std::string_view name, const element& value, element& slot, bool& seen) {
  if (seen) return Error(AuthError::bad_claim, "duplicate claim: " + printable(name));
  seen = true;
  slot = value;
  return {};
}

Status collect(simdjson::dom::object payload, const ClaimRules& rules, Claims& claims) {
  for (const auto field : payload) {
    const std::string_view name = field.key;
    Status kept;
    if (name == "exp") kept = keep(name, field.value, claims.exp, claims.has_exp);
    else if (name == "nbf") kept = keep(name, field.value, claims.nbf, claims.has_nbf);
    else if (name == "iat") kept = keep(name, field.value, claims.iat, claims.has_iat);
    else if (name == "iss") kept = keep(name, field.value, claims.iss, claims.has_iss);
    else if (name == "aud") kept = keep(name, field.value, claims.aud, claims.has_aud);
    if (kept && name == rules.identity_claim) kept = keep(name, field.value, claims.identity, claims.has_identity);
    if (!kept) return kept;
  }
  return {};
}

// A NumericDate (RFC 7519 §2): any JSON number, fractions allowed. Absent reads as `absent`.
Expected<double> numeric_date(bool present, const element& value, const char* name, double absent) {
  double date = absent;
  if (!present || value.get_double().get(date) == simdjson::SUCCESS) return date;
  return Error(AuthError::bad_claim, std::string("bad claim: ") + name);
}

Status check_times(const Claims& claims, double now, const ClaimRules& rules, VerifiedToken& token) {
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  const double leeway = rules.leeway_seconds;
  if (rules.require_exp && !claims.has_exp) return Error(AuthError::bad_claim, "missing claim: exp");
  const Expected<double> exp = numeric_date(claims.has_exp, claims.exp, "exp", kInfinity);
  if (!exp) return exp.error();
  const Expected<double> nbf = numeric_date(claims.has_nbf, claims.nbf, "nbf", -kInfinity);
  if (!nbf) return nbf.error();
  const Expected<double> iat = numeric_date(claims.has_iat, claims.iat, "iat", -kInfinity);
  if (!iat) return iat.error();
  // lcobucci/jwt, under Lexik: a token is expired from the second its exp names (now >= exp).
  if (now >= *exp + leeway) return Error(AuthError::expired, "expired");
  if (now + leeway < *nbf) return Error(AuthError::not_yet_valid, "not yet valid (nbf)");
  if (*iat > now + leeway) return Error(AuthError::not_yet_valid, "issued in the future (iat)");
  if (claims.has_exp) {
    constexpr double kLimit = 9.2e18;  // inside int64 whatever the rounding
    token.expires_at = static_cast<int64_t>(std::floor(std::fmin(std::fmax(*exp, -kLimit), kLimit)));
  }
  return {};
}

Status check_issuer(const Claims& claims, const std::string& issuer) {
  if (!claims.has_iss) return Error(AuthError::bad_claim, "missing claim: iss");
  std::string_view text;
  if (claims.iss.get_string().get(text) != simdjson::SUCCESS || text != issuer)
    return Error(AuthError::wrong_issuer, "issuer mismatch");
  return {};
}

Status check_audience(const Claims& claims, const std::string& audience) {
  if (!claims.has_aud) return Error(AuthError::bad_claim, "missing claim: aud");
  // RFC 7519 §4.1.3: one string, or an array of strings of which one must be ours.
  std::string_view text;
  if (claims.aud.get_string().get(text) == simdjson::SUCCESS && text == audience) return {};
  simdjson::dom::array list;
  if (claims.aud.get_array().get(list) == simdjson::SUCCESS)
    for (const element item : list)
      if (item.get_string().get(text) == simdjson::SUCCESS && text == audience) return {};
  return Error(AuthError::wrong_audience, "audience mismatch");
}

Status read_identity(const Claims& claims, const std::string& name, VerifiedToken& token) {
  if (!claims.has_identity) return Error(AuthError::bad_claim, "missing claim: " + name);
  std::string_view text;
  int64_t signed_number = 0;
  uint64_t unsigned_number = 0;
  if (claims.identity.get_string().get(text) == simdjson::SUCCESS && !text.empty())
    token.identity = text;
  else if (claims.identity.get_int64().get(signed_number) == simdjson::SUCCESS)
    token.identity = std::to_string(signed_number);
  else if (claims.identity.get_uint64().get(unsigned_number) == simdjson::SUCCESS)
    token.identity = std::to_string(unsigned_number);
  else  // empty, fractional, boolean, null, object: no user is named by that
    return Error(AuthError::bad_claim, "bad claim: " + name);
  return {};
}

}  // namespace

Expected<VerifiedToken> check_claims(const std::string& payload_json, const ClaimRules& rules, int64_t now) {
  simdjson::dom::object payload;
  if (thread_json_parser().parse(payload_json).get_object().get(payload) != simdjson::SUCCESS)
    return Error(AuthError::malformed_token, "malformed token: payload is not a JSON object");
  Claims claims;
  VerifiedToken token;
  if (Status s = collect(payload, rules, claims); !s) return std::move(s).error();
  if (Status s = check_times(claims, static_cast<double>(now), rules, token); !s) return std::move(s).error();
  if (!rules.issuer.empty())
    if (Status s = check_issuer(claims, rules.issuer); !s) return std::move(s).error();
  if (!rules.audience.empty())
    if (Status s = check_audience(claims, rules.audience); !s) return std::move(s).error();
  // No identity claim configured: a token that names no user (a Mercure publisher's).
  if (rules.identity_claim.empty()) return token;
  if (Status s = read_identity(claims, rules.identity_claim, token); !s) return std::move(s).error();
  return token;
}

}  // namespace capstan::auth
