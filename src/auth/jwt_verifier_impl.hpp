// The inside of a Verifier, shared by the file that builds it (jwt_verifier_setup.cpp) and
// the files that use it on every handshake (jwt_verify.cpp, jwt_claims.cpp).
#pragma once

#include <simdjson.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jws_signature.hpp"
#include "auth/jwt.hpp"

namespace capstan::auth {

// A key that may check one allowed algorithm.
struct KeyCandidate {
  std::string kid;  // empty for the PEM key and the configured secret: they match any kid
  std::unique_ptr<SignatureChecker> checker;
};

struct AllowedAlgorithm {
  const Algorithm* alg;
  std::vector<KeyCandidate> keys;  // never empty: create() refuses an algorithm without a key
};

struct ClaimRules {
  std::string issuer;    // empty: not checked
  std::string audience;  // empty: not checked
  std::string identity_claim;
  double leeway_seconds = 0;
  bool require_exp = true;
};

// Checks the claims of a payload whose signature is good: the identity and expiry they give,
// or why the token is refused (Verifier::verify lists the texts).
Expected<VerifiedToken> check_claims(const std::string& payload_json, const ClaimRules& rules, int64_t now);

// The JSON parser of this thread. Tokens are small, so its buffers stay small and are reused
// from one handshake to the next instead of being allocated each time.
inline simdjson::dom::parser& thread_json_parser() {
  constexpr size_t kMaxJson = 64 * 1024;  // more than any header holds
  thread_local simdjson::dom::parser parser(kMaxJson);
  return parser;
}

// Text from a token made safe for a log line: printable ASCII, at most 40 characters.
std::string printable(std::string_view text);

}  // namespace capstan::auth

struct capstan::auth::Verifier::Impl {
  std::vector<AllowedAlgorithm> allowed;
  ClaimRules rules;
};
