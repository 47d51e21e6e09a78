#include "app/server_tls.hpp"

#include <cstdlib>

#include "util/path.hpp"

namespace capstan::app {

Expected<std::shared_ptr<const net::tls::TlsContexts>> load_tls(const Config& config) {
  const TlsConfig& tls = config.server.tls;
  net::tls::TlsSettings settings;
  for (const std::string& path : tls.cert) settings.certificates.push_back(util::resolve_path(path, config.base_dir));
  for (const std::string& path : tls.key) settings.keys.push_back(util::resolve_path(path, config.base_dir));
  settings.passphrase = tls.passphrase;
  if (const char* env = std::getenv("CAPSTAN_TLS_PASSPHRASE"); settings.passphrase.empty() && env) settings.passphrase = env;
  settings.min_version = tls.min_version;
  settings.ciphers = tls.ciphers;
  settings.ciphersuites = tls.ciphersuites;
  return net::tls::TlsContexts::load(settings);
}

}  // namespace capstan::app
