// What every user of OpenSSL here (auth's keys, TLS's certificates) needs of it the same way:
// its queued error as text, and a passphrase handed to it without a prompt.
#pragma once

#include <openssl/err.h>

#include <cstring>
#include <string>

namespace capstan::util {

// The oldest queued OpenSSL error as text ("" when none), then an empty queue: errors left
// behind would be read later by unrelated code on the same thread.
inline std::string take_openssl_error() {
  const unsigned long code = ERR_peek_error();
  std::string text;
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    text = buf;
  }
  ERR_clear_error();
  return text;
}

// OpenSSL's pem_password_cb with a std::string* as `user`: returning 0 (no passphrase) makes
// decryption fail instead of letting OpenSSL prompt on a terminal nobody watches.
inline int passphrase_callback(char* buf, int size, int /*rwflag*/, void* user) {
  const auto* passphrase = static_cast<const std::string*>(user);
  if (passphrase->empty() || passphrase->size() > static_cast<size_t>(size)) return 0;
  std::memcpy(buf, passphrase->data(), passphrase->size());
  return static_cast<int>(passphrase->size());
}

}  // namespace capstan::util
