// Verifier::verify: the compact serialization taken apart (RFC 7515 §5.2), the JOSE header
// checked, the signature checked with the keys of the announced algorithm, then the claims.
//
// This runs on the event loop for every authenticated handshake, so it allocates little and
// parses each part once. The header is read first (it names the algorithm and key), and the
// payload only once the signature is good, so forged payloads never reach the JSON parser.
#include "auth/base64url.hpp"
#include "auth/jwt_verifier_impl.hpp"
#include "util/strings.hpp"

namespace capstan::auth {

namespace {

// Far above any real token, and below what the HTTP head may hold anyway; it bounds the
// scratch buffers each thread keeps.
constexpr size_t kMaxTokenSize = 32 * 1024;

// The members of the JOSE header that matter here. The token's own key hints (jwk, jku,
// x5u, x5c) are ignored on purpose: keys only ever come from the configuration.
struct JoseHeader {
  const AllowedAlgorithm* allowed = nullptr;
  std::string kid;
};

// Decodes one part of the token into this thread's scratch buffer, with the slack simdjson
// reads past the end, and parses it.
bool parse_part(std::string_view encoded, simdjson::dom::object& out) {
  thread_local std::string decoded;
  decoded.reserve(base64url_decoded_size(encoded.size()) + simdjson::SIMDJSON_PADDING);
  if (!base64url_decode(encoded, decoded)) return false;
  return thread_json_parser().parse(decoded).get_object().get(out) == simdjson::SUCCESS;
}

Expected<JoseHeader> read_header(const std::vector<AllowedAlgorithm>& algorithms, std::string_view encoded) {
  simdjson::dom::object object;
  if (!parse_part(encoded, object))
    return Error(AuthError::malformed_token, "malformed token: header is not a base64url JSON object");
  JoseHeader header;
  std::string_view alg;
  bool has_alg = false, has_typ = false, has_kid = false;
  for (const auto field : object) {
    const std::string_view name = field.key;
    bool* seen = name == "alg" ? &has_alg : name == "typ" ? &has_typ : name == "kid" ? &has_kid : nullptr;
    if (seen) {
      // RFC 7515 §4: a parser must refuse duplicates or keep the last; simdjson would give
      // the first, so refuse.
      if (*seen) return Error(AuthError::malformed_token, "malformed token: duplicate header " + std::string(name));
      *seen = true;
    }
    // §4.1.11: an extension we do not understand must not be ignored, and we know none.
    if (name == "crit") return Error(AuthError::bad_header, "crit header not supported");
    if (!seen) continue;
    std::string_view text;
    if (field.value.get_string().get(text) != simdjson::SUCCESS)
      return Error(AuthError::malformed_token, "malformed token: header " + std::string(name) + " is not a string");
    if (name == "alg") alg = text;
    if (name == "kid") header.kid = text;
    // RFC 7519 §5.1: "JWT" when present; "application/jwt" is the same media type spelled out.
    if (name == "typ" && !util::iequals(text, "JWT") && !util::iequals(text, "application/jwt"))
      return Error(AuthError::bad_header, "typ is not JWT: " + printable(text));
  }
  if (!has_alg) return Error(AuthError::malformed_token, "malformed token: no alg");
  if (util::iequals(alg, "none")) return Error(AuthError::algorithm_refused, "algorithm none refused");
  for (const AllowedAlgorithm& allowed : algorithms)
    if (allowed.alg->name == alg) header.allowed = &allowed;
  if (!header.allowed) return Error(AuthError::algorithm_refused, "algorithm not allowed: " + printable(alg));
  return header;
}

// Tries the keys of the announced algorithm. A token naming a kid is checked with the keys of
// that kid, else (a kid only the issuer knows) with the keys that have none.
Status check_signature(const JoseHeader& header, std::string_view signing_input, std::string_view signature) {
  bool kid_known = false;
  if (!header.kid.empty())
    for (const KeyCandidate& key : header.allowed->keys) kid_known = kid_known || key.kid == header.kid;
  bool tried = false, kid_matched = false;
  for (const KeyCandidate& key : header.allowed->keys) {
    if (!header.kid.empty() && key.kid != header.kid && (kid_known || !key.kid.empty())) continue;
    kid_matched = true;
    if (signature.size() != key.checker->signature_size()) continue;
    tried = true;
    if (key.checker->verify(signing_input, signature)) return {};
  }
  if (!kid_matched) return Error(AuthError::no_key, "unknown kid: " + printable(header.kid));
  return Error(AuthError::bad_signature, tried ? "bad signature" : "bad signature length");
}

}  // namespace

std::string printable(std::string_view text) {
  constexpr size_t kMax = 40;
  std::string out;
  for (char c : text.substr(0, kMax)) out += (c >= 0x20 && c < 0x7F) ? c : '?';
  if (text.size() > kMax) out += "...";
  return out;
}

Expected<VerifiedToken> Verifier::verify(std::string_view token, int64_t now_unix_seconds) const {
  if (token.empty() || token.size() > kMaxTokenSize) return Error(AuthError::malformed_token, "malformed token");
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  // Three non-empty parts: a JWE (five parts) or an unsigned token (empty signature) is not
  // taken apart any further.
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos || dot1 == 0 ||
      dot2 == dot1 + 1 || dot2 + 1 == token.size())
    return Error(AuthError::malformed_token, "malformed token");

  Expected<JoseHeader> header = read_header(impl_->allowed, token.substr(0, dot1));
  if (!header) return std::move(header).error();

  thread_local std::string signature;
  if (!base64url_decode(token.substr(dot2 + 1), signature))
    return Error(AuthError::malformed_token, "malformed token: signature is not base64url");
  if (Status signed_ok = check_signature(*header, token.substr(0, dot2), signature); !signed_ok)
    return std::move(signed_ok).error();

  std::string payload;  // becomes VerifiedToken::claims
  payload.reserve(base64url_decoded_size(dot2 - dot1 - 1) + simdjson::SIMDJSON_PADDING);
  if (!base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1), payload))
    return Error(AuthError::malformed_token, "malformed token: payload is not base64url");
  Expected<VerifiedToken> verified = check_claims(payload, impl_->rules, now_unix_seconds);
  if (verified) verified->claims = std::move(payload);
  return verified;
}

}  // namespace capstan::auth
