// The server's TLS setup on OpenSSL: one SSL_CTX per configured certificate (chain and key,
// an encrypted key's passphrase), TLS 1.2 and 1.3 with the configured minimum and ciphers,
// ALPN `http/1.1`, and SNI choosing among the certificates by the names they carry (the first
// is the default). TlsContexts is immutable once loaded; TlsStore holds the current one and
// swaps it on reload, so new handshakes use new certificates while established connections
// keep theirs (an SSL holds a reference to its SSL_CTX).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "capstan/error.hpp"

namespace capstan::net::tls {

struct TlsSettings {
  std::vector<std::string> certificates;  // PEM chains, leaf first
  std::vector<std::string> keys;          // one per certificate
  std::string passphrase;                 // for encrypted keys
  std::string min_version = "1.2";        // "1.2" or "1.3"
  std::string ciphers;                    // TLS 1.2 cipher list (OpenSSL syntax); empty: OpenSSL's default
  std::string ciphersuites;               // TLS 1.3 suites; empty: OpenSSL's default
};

class TlsContexts {
 public:
  // Reads every certificate and key; an error names the file and OpenSSL's reason.
  static Expected<std::shared_ptr<const TlsContexts>> load(const TlsSettings& settings);
  ~TlsContexts();
  TlsContexts(const TlsContexts&) = delete;
  TlsContexts& operator=(const TlsContexts&) = delete;

  // The context a new connection starts with (the first certificate's).
  SSL_CTX* initial() const noexcept { return entries_.front().ctx; }
  // The context whose certificate names `host` (SNI), or null.
  SSL_CTX* for_host(const char* host) const noexcept;
  size_t size() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    SSL_CTX* ctx = nullptr;
    std::vector<std::string> names;  // DNS names of the leaf (SAN, else CN), lower case; "*.x" wildcards
  };
  TlsContexts() = default;
  std::vector<Entry> entries_;
};

// The contexts in use, for every loop: read at each accept, replaced by a reload.
class TlsStore {
 public:
  explicit TlsStore(std::shared_ptr<const TlsContexts> contexts) : current_(std::move(contexts)) {}
  std::shared_ptr<const TlsContexts> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void replace(std::shared_ptr<const TlsContexts> contexts) {
    std::lock_guard lock(mutex_);
    current_ = std::move(contexts);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const TlsContexts> current_;
};

}  // namespace capstan::net::tls
