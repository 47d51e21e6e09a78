// Key files and secrets from the [auth] configuration.
#include "auth/jwt_keys.hpp"

#include <openssl/pem.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace capstan::auth {

namespace {

using util::passphrase_callback;  // util/openssl_text.hpp

BioPtr memory_bio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string env_or(const std::string& value, const char* variable) {
  if (!value.empty()) return value;
  const char* env = std::getenv(variable);
  return env ? env : "";
}

}  // namespace

Expected<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::from_errno(errno, path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error(AuthError::bad_key, path + ": read error");
  return std::move(text).str();
}

Expected<PkeyPtr> load_public_key(const std::string& path) {
  const Expected<std::string> text = read_text_file(path);
  if (!text) return text.error();
  BioPtr bio = memory_bio(*text);
  PkeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    bio = memory_bio(*text);
    X509Ptr certificate(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (certificate) key.reset(X509_get_pubkey(certificate.get()));
  }
  ERR_clear_error();
  if (!key)
    return Error(AuthError::bad_key,
                 path + ": no PEM public key (BEGIN PUBLIC KEY) or certificate (BEGIN CERTIFICATE)");
  return key;
}

Expected<PkeyPtr> load_private_key(const std::string& path, const std::string& passphrase) {
  const Expected<std::string> text = read_text_file(path);
  if (!text) return text.error();
  BioPtr bio = memory_bio(*text);
  std::string copy = passphrase;  // the callback wants a mutable pointer
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, passphrase_callback, &copy) : nullptr);
  if (key) return key;
  const std::string detail = take_openssl_error();
  if (text->find("ENCRYPTED") != std::string::npos)
    return Error(AuthError::bad_key,
                 path + (passphrase.empty() ? ": the key is encrypted and no passphrase is set (passphrase or "
                                              "CAPSTAN_JWT_PASSPHRASE)"
                                            : ": cannot decrypt the key (wrong passphrase?)"));
  return Error(AuthError::bad_key, path + ": no PEM private key" + (detail.empty() ? "" : " (" + detail + ")"));
}

std::string configured_secret(const AuthConfig& config) { return env_or(config.secret, "CAPSTAN_JWT_SECRET"); }

std::string configured_passphrase(const AuthConfig& config) {
  return env_or(config.passphrase, "CAPSTAN_JWT_PASSPHRASE");
}

}  // namespace capstan::auth
