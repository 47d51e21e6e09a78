// The auth layer on arbitrary bytes. The first byte picks what is fuzzed, the rest is the input:
//   0: Verifier::verify on the input as a token (every algorithm allowed, keys from a JWKS);
//   1: header and payload JSON, split at the first 0x00 byte, signed with the HS256 secret so
//      that the claim checks run on arbitrary payloads, then verified;
//   2: parse_jwks on the input;
//   3: base64url decoding, which must round-trip with encoding;
//   4: an HTTP upgrade request head, searched for a token by every source.
// A refusal must carry an auth code and a reason, and the verifier must accept only tokens
// whose signature it could have checked.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/base64url.hpp"
#include "auth/jws_signature.hpp"
#include "auth/jwt.hpp"
#include "auth/jwt_keys.hpp"
#include "auth/token_source.hpp"
#include "fuzz_common.hpp"
#include "http/request_parser.hpp"

namespace {

using namespace capstan;
using namespace capstan::auth;

constexpr int64_t kNow = 1'700'000'000;
constexpr std::string_view kSecret = "fuzz-secret-fuzz-secret-fuzz-sec";

// Fixed public keys, so a crashing input replays the same way; "s" is kSecret.
constexpr std::string_view kJwks =
    R"({"keys":[{"kty":"RSA","kid":"r","n":"qhY5rtAsVT12hQdbOm4ahYaTb-P0oiLuJhzvEccgZRP_oucy9onzHZ_54Grwdl4)"
    R"(Q2odsc-URoRH2J7dRltPolvWyR84gPG_M_--YSBSXIby3jxQbQ_kMV63Fp10BH-3exaRItIKVeOf2IxvCUdvi1BUrsNRrrznvRgx)"
    R"(iCmBydHQMy8rP4-zetpwlARpKB3DJOigmdSgU3p6vgOM42jEYvvA-qhVsBLWvFHyTM_OrcFUz_OccfNua4oULQ_o7M6530pClbDx)"
    R"(wqC3zAvI2YpM8Zez9fql70cMNGz3l3M9dbCEOULAO7zHPLYju2TmOw5SbSHiTzpbOfZjeO9glgo9jdQ","e":"AQAB"},{"kty":)"
    R"("EC","kid":"e","crv":"P-256","x":"wGw3IT0kpv90cjsEwryhpd0N99VgyP8ivu6pVZYynwE","y":"aHF4gUroJc5KkjpF)"
    R"(yeZT7KOaEPfiVyRPUkM0wZtR7nU"},{"kty":"OKP","kid":"d","crv":"Ed25519","x":"g68qKu9onbuwazjYUGw-cqMPt3)"
    R"(eQN0uJ1nd6Lpy68XM"},{"kty":"oct","kid":"s","k":"ZnV6ei1zZWNyZXQtZnV6ei1zZWNyZXQtZnV6ei1zZWM"}]})";

const Verifier& verifier() {
  static const std::unique_ptr<Verifier> instance = [] {
    char dir[] = "/tmp/capstan-fuzz-jwt-XXXXXX";
    if (!::mkdtemp(dir)) capstan::fuzz::fail("mkdtemp");
    const std::string path = std::string(dir) + "/jwks.json";
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) capstan::fuzz::fail("cannot write the JWKS file");
    std::fwrite(kJwks.data(), 1, kJwks.size(), f);
    std::fclose(f);
    AuthConfig config;
    config.algorithms = {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
                         "PS384", "PS512", "ES256", "EdDSA"};
    config.jwks = path;
    config.audience = "capstan";
    config.issuer = "fuzz";
    Expected<std::unique_ptr<Verifier>> v = Verifier::create(config, "");
    std::remove(path.c_str());
    ::rmdir(dir);
    if (!v) {
      std::fprintf(stderr, "%s\n", v.error().message().c_str());
      capstan::fuzz::fail("Verifier::create");
    }
    return std::move(*v);
  }();
  return *instance;
}

void check_result(const Expected<VerifiedToken>& r, std::string_view payload_if_known) {
  if (!r) {
    FUZZ_CHECK(r.error().code().category() == auth_category() && !r.error().detail().empty());
    return;
  }
  FUZZ_CHECK(!r->identity.empty());
  if (!payload_if_known.empty()) FUZZ_CHECK(r->claims == payload_if_known);
}

void fuzz_signed_claims(std::string_view input) {
  const size_t split = input.find('\0');
  const std::string_view header = split == std::string_view::npos ? R"({"alg":"HS256"})" : input.substr(0, split);
  const std::string_view payload = split == std::string_view::npos ? input : input.substr(split + 1);
  const std::string signing_input = base64url_encode(header) + "." + base64url_encode(payload);
  const Expected<std::string> signature = create_signature(*find_algorithm("HS256"), nullptr, kSecret, signing_input);
  FUZZ_CHECK(signature && !signature->empty());
  const Expected<VerifiedToken> r = verifier().verify(signing_input + "." + base64url_encode(*signature), kNow);
  check_result(r, payload);
  // The signature is good: a refusal is never about it when the header is plain HS256.
  if (header == R"({"alg":"HS256"})") FUZZ_CHECK(r || r.error() != AuthError::bad_signature);
}

void fuzz_base64url(std::string_view input) {
  std::string decoded;
  if (base64url_decode(input, decoded)) {
    FUZZ_CHECK(decoded.size() == base64url_decoded_size(input.size()));
    FUZZ_CHECK(base64url_encode(decoded) == input);  // one spelling per byte string
  }
  std::string back;
  FUZZ_CHECK(base64url_decode(base64url_encode(input), back));
  FUZZ_CHECK(back == input);
}

void fuzz_token_sources(std::string_view input) {
  const std::string text = "GET /ws?" + std::string(input) + "\r\n\r\n";
  http::Request request;
  http::RequestParser parser;
  if (parser.parse(text, request).status != http::ParseResult::Status::complete) return;
  const Expected<std::vector<TokenSource>> sources =
      parse_token_sources({"query:token", "header:Authorization", "header:X-Token", "protocol", "cookie:BEARER"});
  FUZZ_CHECK(sources);
  FoundToken found;
  if (!find_token(request, request.query, *sources, {"chat"}, found)) return;
  FUZZ_CHECK(!found.token.empty());
  FUZZ_CHECK(found.from_protocol == !found.protocol_answer.empty());
  check_result(verifier().verify(found.token, kNow), {});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      check_result(verifier().verify(input, kNow), {});
      break;
    case 1:
      fuzz_signed_claims(input);
      break;
    case 2: {
      const Expected<std::vector<VerificationKey>> keys = parse_jwks(input);
      if (keys)
        for (const VerificationKey& key : *keys) FUZZ_CHECK(key.key || !key.secret.empty());
      else
        FUZZ_CHECK(keys.error() == AuthError::bad_key && !keys.error().detail().empty());
      break;
    }
    case 3:
      fuzz_base64url(input);
      break;
    default:
      fuzz_token_sources(input);
      break;
  }
  return 0;
}
