// Base64url without padding (RFC 4648 §5, as JWS uses it: RFC 7515 §2).
//
// Decoding is strict, so a token has exactly one spelling: '=' padding, characters outside
// the url-safe alphabet, a length that leaves one dangling character, and non-zero unused
// bits in the last character are all refused.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace capstan::auth {

// Decodes `in` into `out` (replacing it). False, with `out` unspecified, when malformed.
bool base64url_decode(std::string_view in, std::string& out);

// Bytes a well-formed encoding of `encoded_size` characters decodes to.
constexpr size_t base64url_decoded_size(size_t encoded_size) noexcept {
  return encoded_size / 4 * 3 + (encoded_size % 4 == 0 ? 0 : encoded_size % 4 - 1);
}

std::string base64url_encode(std::string_view in);

// True when every character is in the url-safe alphabet (no padding).
bool is_base64url_text(std::string_view in) noexcept;

}  // namespace capstan::auth
