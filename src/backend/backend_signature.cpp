// X-Capstan-Signature (SPEC 5a): what lets the web application trust a request from Capstan.
// The timestamp is inside the MAC so a captured request cannot be replayed later; the body is,
// so nothing can be changed on the way. clients/php's Signature::verify is the other side.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "capstan/backend.hpp"

namespace capstan {

std::string backend_signature(std::string_view body, std::string_view secret, int64_t unix_seconds) {
  const std::string t = std::to_string(unix_seconds);
  std::string signed_text;
  signed_text.reserve(t.size() + 1 + body.size());
  signed_text.append(t).append(1, '.').append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(signed_text.data()),
       signed_text.size(), mac, &mac_size);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "t=" + t + ",v1=";
  for (unsigned int i = 0; i < mac_size; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 0xF]);
  }
  return out;
}

}  // namespace capstan
